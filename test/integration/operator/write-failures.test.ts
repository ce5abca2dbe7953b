// A child write the API server keeps failing (an admission webhook answering 500 to every Service create) on a real kube-apiserver: every app says so at once.

import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import { requestJson } from "../../../src/runtime/index.ts";
import {
  adminKubeConfig,
  eventually,
  printClusterLogsOnFailure,
  uniqueName,
} from "../../support/cluster.ts";
import {
  adminTransport,
  applyAsUser,
  conditionOf,
  getObject,
  installCrd,
  listObjects,
  settledApp,
  startTestOperator,
  type TestOperator,
} from "../../support/operator.ts";
import {
  serviceCreateWebhook,
  startWebhook,
  type TestWebhook,
  VALIDATING_WEBHOOKS_PATH,
} from "../../support/webhook.ts";

printClusterLogsOnFailure();

const APPS = 6;
const RANGE_FULL = "failed to allocate a serviceIP: range is full";
const label = uniqueName("write-failures");
const webhookName = `${label}.twelvefactor.dev`;
const namespaces = [uniqueName("failing-a"), uniqueName("failing-b")];
let webhook: TestWebhook;
let op: TestOperator | undefined;

const webhookPath = VALIDATING_WEBHOOKS_PATH;

beforeAll(async () => {
  await installCrd();
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  for (const name of namespaces)
    await core.createNamespace({ body: { metadata: { name, labels: { [label]: "on" } } } });
  webhook = await startWebhook((r) =>
    r.kind === "Service" && r.operation === "CREATE"
      ? { code: 500, message: RANGE_FULL }
      : { allowed: true },
  );
  // Only this file's namespaces: other test files share the API server.
  await requestJson(adminTransport(), {
    method: "POST",
    path: webhookPath,
    contentType: "application/json",
    body: JSON.stringify(serviceCreateWebhook(webhookName, webhook, { [label]: "on" })),
  });
  // The API server loads webhook configurations asynchronously: wait until a create is refused.
  await eventually(
    async () => {
      const probe = {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "probe", namespace: namespaces[0] },
        spec: { ports: [{ port: 80 }] },
      };
      try {
        await applyAsUser([probe]);
        await requestJson(adminTransport(), {
          method: "DELETE",
          path: `/api/v1/namespaces/${namespaces[0]}/services/probe`,
        });
        return false;
      } catch (error) {
        return String(error).includes(RANGE_FULL);
      }
    },
    { what: "the webhook to refuse Service creates" },
  );
}, 120_000);
afterAll(async () => {
  await op?.stop();
  await requestJson(adminTransport(), {
    method: "DELETE",
    path: `${webhookPath}/${webhookName}`,
  }).catch(() => {});
  await webhook?.close();
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  for (const name of namespaces) await core.deleteNamespace({ name }).catch(() => {});
});

const app = (namespace: string, name: string) => ({
  apiVersion: "twelvefactor.dev/v1alpha1",
  kind: "StatelessApp",
  metadata: { name, namespace },
  spec: {
    image: "registry.example.com/shop:1.0.0",
    processes: [
      { name: "web", replicas: 1, ports: [{ name: "http", containerPort: 8080, servicePort: 80 }] },
    ],
  },
});

interface EventView {
  readonly reason?: string;
  readonly type?: string;
  readonly note?: string;
  readonly regarding?: { name?: string };
  readonly series?: { count?: number };
}

test("every app whose Service create the API server answers with 500 says so in its status, from its first reconcile, with one Warning; the next successful retry clears it", async () => {
  const apps = Array.from({ length: APPS }, (_, i) => ({
    namespace: namespaces[i % namespaces.length] ?? "",
    name: `shop${i}`,
  }));
  await applyAsUser(apps.map((a) => app(a.namespace, a.name)));
  op = await startTestOperator({ namespaces });
  const operator = op;

  for (const a of apps) {
    const settled = await settledApp(
      a.namespace,
      a.name,
      (v) => conditionOf(v, "Ready")?.reason === "ApplyFailed",
    );
    const ready = conditionOf(settled, "Ready");
    expect(ready?.status).toBe("False");
    expect(ready?.message).toContain(`Service ${a.name}-web: admission webhook`);
    expect(ready?.message).toContain(RANGE_FULL);
    expect(ready?.message).toContain("(HTTP 500");
    expect(conditionOf(settled, "Reconciling")).toMatchObject({
      status: "True",
      reason: "ApplyFailed",
    });
    // Within one reconcile: the status was written before the Service was tried a second time.
    const writes = operator.requests.writes;
    const service = `apply /api/v1/namespaces/${a.namespace}/services/${a.name}-web`;
    const status = `apply-status /apis/twelvefactor.dev/v1alpha1/namespaces/${a.namespace}/statelessapps/${a.name}/status`;
    const tries = writes.flatMap((w, i) => (w === service ? [i] : []));
    const firstStatus = writes.indexOf(status);
    expect(firstStatus).toBeGreaterThan(tries[0] ?? Number.POSITIVE_INFINITY);
    if (tries[1] !== undefined) expect(firstStatus).toBeLessThan(tries[1]);
  }
  // One Warning per app and distinct message, repeats counted in its series.
  for (const ns of namespaces) {
    await eventually(
      async () => {
        const events = (await listObjects<EventView>("Event", ns)).filter(
          (e) => e.reason === "ApplyFailed",
        );
        const mine = apps.filter((a) => a.namespace === ns);
        return (
          events.length === mine.length &&
          mine.every((a) =>
            events.some(
              (e) =>
                e.regarding?.name === a.name &&
                e.type === "Warning" &&
                (e.note ?? "").includes(RANGE_FULL),
            ),
          )
        );
      },
      { what: `one ApplyFailed Warning per app in ${ns}` },
    );
  }
  // The operator keeps retrying with backoff.
  await eventually(async () => webhook.seen.filter((s) => s.name === "shop0-web").length >= 3, {
    what: "retries of shop0's Service",
  });

  // The range frees up: the next retry succeeds and the failure is gone from the status.
  webhook.answer = () => ({ allowed: true });
  for (const a of apps) {
    const settled = await settledApp(
      a.namespace,
      a.name,
      (v) => conditionOf(v, "Ready")?.reason === "Progressing",
    );
    expect(conditionOf(settled, "Reconciling")?.reason).toBe("Progressing");
    expect(await getObject("Service", a.namespace, `${a.name}-web`)).toBeDefined();
  }
  expect(operator.operator.notReady()).toEqual([]);
}, 120_000);
