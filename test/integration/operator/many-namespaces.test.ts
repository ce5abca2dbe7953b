// The operator watching 20 namespaces with leader election on a real kube-apiserver: 120 watches must not starve the Lease or the writes.
import type { V1Deployment } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import { requestJson } from "../../../src/runtime/index.ts";
import {
  createTestNamespace,
  eventually,
  printClusterLogsOnFailure,
} from "../../support/cluster.ts";
import {
  adminTransport,
  applyAsUser,
  getObject,
  installCrd,
  settledApp,
  startTestOperator,
  type TestOperator,
} from "../../support/operator.ts";

printClusterLogsOnFailure();

const NAMESPACES = 20;
let namespaces: string[];
let op: TestOperator | undefined;

beforeAll(async () => {
  await installCrd();
  namespaces = [];
  for (let i = 0; i < NAMESPACES; i++) namespaces.push(await createTestNamespace(`many${i}`));
}, 120_000);
afterAll(async () => {
  await op?.stop();
});

const app = (namespace: string) => ({
  apiVersion: "twelvefactor.dev/v1alpha1",
  kind: "StatelessApp",
  metadata: { name: "shop", namespace },
  spec: { image: "registry.example.com/shop:1.0.0", processes: [{ name: "web", replicas: 2 }] },
});

test("20 namespaces, 6 watches each, leader election: the Lease is taken within 5 s and apps in the first and the last namespace converge", async () => {
  const first = namespaces[0] ?? "";
  const last = namespaces[NAMESPACES - 1] ?? "";
  await applyAsUser([app(first), app(last)]);
  const started = Date.now();
  op = await startTestOperator({
    namespaces,
    leaderElection: { name: "stateless-operator", namespace: first, identity: "many" },
  });
  const operator = op;
  await eventually(async () => operator.operator.isLeader(), { what: "the Lease", intervalMs: 50 });
  // When the API server recorded the Lease taken: the caches' lists, which startTestOperator
  // waits for, do not hold it up.
  const lease = await requestJson<{ spec: { acquireTime?: string } }>(adminTransport(), {
    method: "GET",
    path: `/apis/coordination.k8s.io/v1/namespaces/${first}/leases/stateless-operator`,
  });
  expect(Date.parse(lease.spec.acquireTime ?? "") - started).toBeLessThan(5_000);
  for (const ns of [first, last]) {
    await eventually(
      async () => (await getObject<V1Deployment>("Deployment", ns, "shop-web")) ?? false,
      {
        what: `Deployment ${ns}/shop-web`,
      },
    );
    const settled = await settledApp(ns, "shop");
    expect(settled.status?.conditions?.find((c) => c.type === "Ready")?.reason).toBe("Progressing");
  }
  // One connection per watch (6 kinds × 20 namespaces), none waiting, nothing starved.
  const pools = operator.requests.connections.pools();
  expect(pools.find((p) => p.pool === "watch")).toMatchObject({
    inUse: 6 * NAMESPACES,
    waiting: 0,
  });
  expect(pools.every((p) => p.starvedAt === undefined)).toBe(true);
  expect(operator.operator.notReady()).toEqual([]);
});
