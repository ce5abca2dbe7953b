// Real pods 6: a release that fails on a real node. The release command prints two lines and
// exits 1 (backoffLimit 0): the app's Stalled condition, its ReleaseFailed Warning and
// status.release.lastLogLine carry the last line exactly, read by the operator through the API
// from the kubelet as its ServiceAccount (the shipped RBAC), and no Deployment is created.

import { beforeAll, describe, expect, test } from "vitest";
import { kubectlOk } from "../integration/install/kubectl.ts";
import { eventually, printClusterLogsOnFailure } from "../support/cluster.ts";
import { applyAsTenant, image, installOperator, tenantNamespace } from "./support/node.ts";

printClusterLogsOnFailure();

const LINE = "migration 0042 failed: relation users exists";
let namespace: string;

beforeAll(async () => {
  await installOperator();
  namespace = await tenantNamespace("release");
});

type Condition = { type: string; status: string; reason?: string; message?: string };
type AppView = {
  status?: {
    conditions?: Condition[];
    release?: { image: string; job: string; state: string; lastLogLine?: string };
  };
};

async function getJson<T>(args: readonly string[]): Promise<T> {
  return JSON.parse(await kubectlOk(["-n", namespace, "get", ...args, "-o", "json"])) as T;
}

describe("a failed release on a real node", () => {
  test("the Stalled message, the ReleaseFailed Warning and status.release carry the release pod's last log line", async () => {
    const started = Date.now();
    await applyAsTenant(namespace, [
      {
        apiVersion: "twelvefactor.dev/v1alpha1",
        kind: "StatelessApp",
        metadata: { name: "shop" },
        spec: {
          image: image("session-counter"),
          processes: [
            { name: "web", replicas: 1, command: ["node", "-e", "setInterval(() => {}, 1000)"] },
          ],
          release: {
            command: [
              "node",
              "-e",
              `console.log("applying 0042"); console.log(${JSON.stringify(LINE)}); process.exit(1)`,
            ],
            backoffLimit: 0,
          },
        },
      },
    ]);
    const app = await eventually(
      async () => {
        const a = await getJson<AppView>(["statelessapp", "shop"]);
        const stalled = a.status?.conditions?.find((c) => c.type === "Stalled");
        return stalled?.reason === "ReleaseFailed" && a.status?.release?.state === "Failed"
          ? a
          : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 500, what: "shop Stalled ReleaseFailed" },
    );
    const job = app.status?.release?.job ?? "";
    const stalled = app.status?.conditions?.find((c) => c.type === "Stalled");
    // The pod the message names is the Job's, by its controller reference.
    const pods = await getJson<{
      items: {
        metadata: { name: string; ownerReferences?: { kind: string; name: string; uid: string }[] };
        status?: { phase?: string };
      }[];
    }>(["pods", "-l", `batch.kubernetes.io/job-name=${job}`]);
    const jobUid = (await getJson<{ metadata: { uid: string } }>(["job", job])).metadata.uid;
    expect(pods.items).toHaveLength(1);
    const pod = pods.items[0];
    expect(pod?.status?.phase).toBe("Failed");
    expect(pod?.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "Job",
      name: job,
      uid: jobUid,
    });
    expect(stalled?.message).toBe(
      `release ${job} failed (BackoffLimitExceeded: Job has reached the specified backoff limit); last log line of pod ${pod?.metadata.name}: "${LINE}"; nothing rolls until spec.image or spec.release changes`,
    );
    expect(app.status?.release?.lastLogLine).toBe(LINE);
    // The same message in the Warning, once.
    const warnings = await eventually(
      async () => {
        const list = await getJson<{
          items: { reason?: string; note?: string; regarding?: { name?: string } }[];
        }>(["events.events.k8s.io"]);
        const found = list.items.filter(
          (e) => e.reason === "ReleaseFailed" && e.regarding?.name === "shop",
        );
        return found.length > 0 ? found : undefined;
      },
      { what: "the ReleaseFailed Warning" },
    );
    expect(warnings.map((w) => w.note)).toEqual([stalled?.message]);
    // Nothing rolls: a new app's Deployment waits for a release that succeeds.
    const deployments = await getJson<{ items: unknown[] }>([
      "deployments",
      "-l",
      "app.kubernetes.io/instance=shop",
    ]);
    expect(deployments.items).toEqual([]);
    console.error(
      `[node] release: Stalled with the last log line ${Math.round((Date.now() - started) / 1000)} s after the create: ${stalled?.message}`,
    );
  }, 240_000);
});
