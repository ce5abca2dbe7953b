// Two operator instances with leader election on a real kube-apiserver: one writes, the other takes over.
import type { V1Deployment } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  createTestNamespace,
  eventually,
  printClusterLogsOnFailure,
} from "../../support/cluster.ts";
import {
  applyAsUser,
  getObject,
  installCrd,
  startTestOperator,
  type TestOperator,
} from "../../support/operator.ts";

printClusterLogsOnFailure();

let ns: string;
const running: TestOperator[] = [];

beforeAll(async () => {
  await installCrd();
  ns = await createTestNamespace("leader");
});
afterAll(async () => {
  for (const op of running) await op.stop();
});

const app = (replicas: number) => ({
  apiVersion: "twelvefactor.dev/v1alpha1",
  kind: "StatelessApp",
  metadata: { name: "shop", namespace: ns },
  spec: { image: "registry.example.com/shop:1.0.0", processes: [{ name: "web", replicas }] },
});

const replicas = async () =>
  (await getObject<V1Deployment>("Deployment", ns, "shop-web"))?.spec?.replicas;

test("only the leader writes; the standby takes the Lease when the leader stops and reconciles what changed", async () => {
  const lease = (identity: string) => ({ name: "stateless-operator", namespace: ns, identity });
  const a = await startTestOperator({
    namespaces: [ns],
    leaderElection: lease("a"),
    instance: "a",
  });
  running.push(a);
  await eventually(async () => a.operator.isLeader(), { what: "a to lead" });
  const b = await startTestOperator({
    namespaces: [ns],
    leaderElection: lease("b"),
    instance: "b",
  });
  running.push(b);

  await applyAsUser([app(2)]);
  await eventually(async () => (await replicas()) === 2, { what: "the leader to reconcile" });
  expect(a.requests.writes.length).toBeGreaterThan(0);
  expect(b.operator.isLeader()).toBe(false);
  expect(b.requests.writes).toEqual([]);
  // The standby's caches are warm: it has seen the app without writing anything.
  expect(b.operator.notReady()).toEqual([]);

  const stoppedAt = Date.now();
  await a.stop();
  await eventually(async () => b.operator.isLeader(), {
    what: "b to take the Lease",
    timeoutMs: 15_000,
  });
  const takeoverMs = Date.now() - stoppedAt;
  expect(takeoverMs).toBeLessThan(15_000);

  await applyAsUser([app(3)]);
  await eventually(async () => (await replicas()) === 3, {
    what: "the new leader to reconcile the change",
  });
  expect(b.requests.writes.some((w) => w.includes("/deployments/shop-web"))).toBe(true);
});
