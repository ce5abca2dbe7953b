// Scenarios 11 and 12: the operator process watching many namespaces with leader election, and a child write the API server keeps failing; each with the time to the first visible status.

import { afterAll, expect, test } from "vitest";
import { WATCHES_PER_NAMESPACE } from "../../src/app/operator.ts";
import { requestJson } from "../../src/runtime/index.ts";
import { printClusterLogsOnFailure, providedCluster } from "../support/cluster.ts";
import {
  serviceCreateWebhook,
  startWebhook,
  type TestWebhook,
  VALIDATING_WEBHOOKS_PATH,
} from "../support/webhook.ts";
import { type App, condition, statelessApp, waitConverged } from "./support/apps.ts";
import { Kube } from "./support/kube.ts";
import { sumOf } from "./support/metrics.ts";
import { OperatorProcess, printOperatorLogsOnFailure } from "./support/operator-process.ts";
import { createNamespace, installCrd, until } from "./support/setup.ts";
import { reportNote, reportRecovery } from "./support/summary.ts";

printClusterLogsOnFailure();
printOperatorLogsOnFailure();

const kube = new Kube(providedCluster().kubeconfig);
const namespaces: string[] = [];
const operators: OperatorProcess[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const op of operators) await op.stop();
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  for (const ns of namespaces) await kube.delete("Namespace", undefined, ns);
});

const spec = (ports: boolean) => ({
  image: "registry.example.com/shop:1.0.0",
  processes: [
    {
      name: "web",
      replicas: 1,
      ...(ports ? { ports: [{ name: "http", containerPort: 8080, servicePort: 80 }] } : {}),
    },
  ],
});

/** Polls every app until each has a status; returns when the first and the last got one (ms from `since`). */
async function firstStatuses(
  apps: readonly { ns: string; name: string }[],
  since: number,
  seen: (app: App) => boolean,
): Promise<{ firstMs: number; allMs: number }> {
  let firstMs: number | undefined;
  const pending = new Set(apps.map((a) => `${a.ns}/${a.name}`));
  await until(
    "every app to show a status",
    async () => {
      for (const key of [...pending]) {
        const [ns = "", name = ""] = key.split("/");
        const app = await kube.get<App>("StatelessApp", ns, name);
        if (app !== undefined && seen(app)) {
          pending.delete(key);
          firstMs ??= Date.now() - since;
        }
      }
      return pending.size === 0 ? true : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 100 },
  );
  return { firstMs: firstMs ?? 0, allMs: Date.now() - since };
}

test("11. many namespaces: 40 watched namespaces with leader election; the Lease at once, every app converges, no request starved", {
  timeout: 300_000,
}, async ({ annotate }) => {
  const count = 40;
  const mine: string[] = [];
  await installCrd(kube);
  for (let i = 0; i < count; i++) mine.push(await createNamespace(kube, `many${i}`));
  namespaces.push(...mine);
  const apps = mine.map((ns) => ({ ns, name: "shop" }));
  for (const a of apps) await kube.apply(statelessApp(a.ns, a.name, spec(true)));
  const started = Date.now();
  const op = await OperatorProcess.start({
    name: "many",
    kubeconfig: kube.kubeconfigPath,
    namespaces: mine,
    env: { LEADER_ELECT: "true", LEASE_NAMESPACE: mine[0] ?? "", LEASE_NAME: "stateless-operator" },
  });
  operators.push(op);
  const statuses = await firstStatuses(apps, started, (a) => a.status?.observedGeneration === 1);
  const lease = await kube.get<{ spec?: { holderIdentity?: string; acquireTime?: string } }>(
    "Lease",
    mine[0] ?? "",
    "stateless-operator",
  );
  expect(lease?.spec?.holderIdentity).toBe("many");
  const leaseMs = Date.parse(lease?.spec?.acquireTime ?? "") - started;
  expect(leaseMs).toBeLessThan(5_000);
  for (const ns of mine) await waitConverged(kube, ns, { names: ["shop"] });
  const convergedMs = Date.now() - started;
  const metrics = await op.metrics();
  // One connection per watch (WATCHES_PER_NAMESPACE kinds in each namespace), nothing waiting, nothing starved.
  expect(
    sumOf(metrics, "stateless_operator_api_connections", { pool: "watch", state: "in_use" }),
  ).toBe(WATCHES_PER_NAMESPACE * count);
  expect(sumOf(metrics, "stateless_operator_api_connection_wait_timeouts_total")).toBe(0);
  expect(await op.ready()).toBe(true);
  await reportRecovery(annotate, "Lease taken", leaseMs);
  await reportRecovery(annotate, "first visible status", statuses.firstMs);
  await reportRecovery(annotate, `status on all ${count} apps`, statuses.allMs);
  await reportRecovery(annotate, "all converged", convergedMs);
  await reportNote(annotate, `${WATCHES_PER_NAMESPACE * count} watches, one connection each`);
});

test("12. a child write keeps failing: an admission webhook answers 500 to every Service create; every app says so from its first reconcile, then converges once it stops", {
  timeout: 300_000,
}, async ({ annotate }) => {
  const message = "failed to allocate a serviceIP: range is full";
  await installCrd(kube);
  const ns = await createNamespace(kube, "failing");
  namespaces.push(ns);
  let failing = true;
  const webhook: TestWebhook = await startWebhook((r) =>
    failing && r.kind === "Service" && r.operation === "CREATE" && r.namespace === ns
      ? { code: 500, message }
      : { allowed: true },
  );
  cleanups.push(() => webhook.close());
  const name = `${ns}.twelvefactor.dev`;
  const path = VALIDATING_WEBHOOKS_PATH;
  await requestJson(kube.transport, {
    method: "POST",
    path,
    contentType: "application/json",
    body: JSON.stringify(
      serviceCreateWebhook(name, webhook, { "kubernetes.io/metadata.name": ns }),
    ),
  });
  cleanups.push(() => requestJson(kube.transport, { method: "DELETE", path: `${path}/${name}` }));
  // The API server loads webhook configurations asynchronously: wait until a create is refused.
  await until("the webhook to refuse Service creates", async () => {
    try {
      await kube.apply({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "probe", namespace: ns },
        spec: { ports: [{ port: 80 }] },
      });
      await kube.delete("Service", ns, "probe");
      return undefined;
    } catch (error) {
      return String(error).includes(message) ? true : undefined;
    }
  });
  const op = await OperatorProcess.start({
    name: "failing",
    kubeconfig: kube.kubeconfigPath,
    namespaces: [ns],
  });
  operators.push(op);
  const apps = Array.from({ length: 10 }, (_, i) => ({ ns, name: `shop${i}` }));
  const applied = Date.now();
  for (const a of apps) await kube.apply(statelessApp(a.ns, a.name, spec(true)));
  const statuses = await firstStatuses(
    apps,
    applied,
    (a) => condition(a, "Ready")?.reason === "ApplyFailed",
  );
  for (const a of apps) {
    const app = await kube.get<App>("StatelessApp", ns, a.name);
    expect(condition(app as App, "Ready")).toMatchObject({
      status: "False",
      reason: "ApplyFailed",
      message: expect.stringContaining(`Service ${a.name}-web: admission webhook`),
    });
    expect(condition(app as App, "Ready")?.message).toContain(message);
  }
  // One Warning per app for the one message, however often it was retried.
  const events = await until("one ApplyFailed Warning per app", async () => {
    const list = (
      await kube.list<{ reason?: string; type?: string; regarding?: { name?: string } }>(
        "EventsV1",
        ns,
      )
    ).filter((e) => e.reason === "ApplyFailed");
    return apps.every((a) => list.some((e) => e.regarding?.name === a.name)) ? list : undefined;
  });
  expect(events).toHaveLength(apps.length);
  expect(events.every((e) => e.type === "Warning")).toBe(true);
  expect(await op.ready()).toBe(true);
  failing = false;
  const healed = Date.now();
  await waitConverged(kube, ns, { names: apps.map((a) => a.name) });
  await reportRecovery(annotate, "first visible status (ApplyFailed)", statuses.firstMs);
  await reportRecovery(annotate, `ApplyFailed on all ${apps.length} apps`, statuses.allMs);
  await reportRecovery(annotate, "converged once the webhook allows", Date.now() - healed);
});
