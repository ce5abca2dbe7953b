// The operator watching 20 namespaces with leader election on a real kube-apiserver: 180 watches (9 kinds × 20 namespaces, on shared HTTP/2 connections) must not starve the Lease or the writes; once with the admin's kubeconfig, once in-cluster as every real install runs (a ServiceAccount token from the TokenRequest API, the cluster CA, KUBERNETES_SERVICE_HOST/PORT and only the shipped RBAC).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Deployment } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import { parse } from "yaml";
import { renderClusterRbac } from "../../../scripts/install/rbac.ts";
import { WATCHES_PER_NAMESPACE } from "../../../src/app/operator.ts";
import { loadConnection } from "../../../src/platform/kube/index.ts";
import {
  connectionTransport,
  type KubeObject,
  type PooledTransport,
  requestJson,
} from "../../../src/runtime/index.ts";
import {
  createTestNamespace,
  eventually,
  printClusterLogsOnFailure,
  providedCluster,
  uniqueName,
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
import { allowed } from "../../support/tenant.ts";

printClusterLogsOnFailure();

const NAMESPACES = 20;
const SERVICE_ACCOUNT = "stateless-operator";
const operators: TestOperator[] = [];

beforeAll(async () => {
  await installCrd();
}, 60_000);
afterAll(async () => {
  for (const op of operators) await op.stop();
});

const app = (namespace: string) => ({
  apiVersion: "twelvefactor.dev/v1alpha1",
  kind: "StatelessApp",
  metadata: { name: "shop", namespace },
  spec: { image: "registry.example.com/shop:1.0.0", processes: [{ name: "web", replicas: 2 }] },
});

async function watchedNamespaces(prefix: string): Promise<string[]> {
  const namespaces: string[] = [];
  for (let i = 0; i < NAMESPACES; i++) namespaces.push(await createTestNamespace(`${prefix}${i}`));
  return namespaces;
}

/**
 * Starts the operator on `namespaces` with leader election (the Lease in `leaseNamespace`), an
 * app in the first and the last namespace: the Lease is taken within 5 s of the start (as the API
 * server recorded it: the caches' lists, which startTestOperator waits for, do not hold it up),
 * both apps converge, a stream per watch (WATCHES_PER_NAMESPACE kinds × 20 namespaces) on two shared HTTP/2 connections, nothing starved.
 */
async function leaseAndConvergence(
  namespaces: readonly string[],
  leaseNamespace: string,
  identity: string,
  connections?: PooledTransport,
): Promise<void> {
  const first = namespaces[0] ?? "";
  const last = namespaces[NAMESPACES - 1] ?? "";
  await applyAsUser([app(first), app(last)]);
  const started = Date.now();
  const op = await startTestOperator({
    namespaces,
    leaderElection: { name: "stateless-operator", namespace: leaseNamespace, identity },
    ...(connections === undefined ? {} : { connections }),
  });
  operators.push(op);
  await eventually(async () => op.operator.isLeader(), { what: "the Lease", intervalMs: 50 });
  const lease = await requestJson<{ spec: { holderIdentity?: string; acquireTime?: string } }>(
    adminTransport(),
    {
      method: "GET",
      path: `/apis/coordination.k8s.io/v1/namespaces/${leaseNamespace}/leases/stateless-operator`,
    },
  );
  expect(lease.spec.holderIdentity).toBe(identity);
  expect(Date.parse(lease.spec.acquireTime ?? "") - started).toBeLessThan(5_000);
  for (const ns of [first, last]) {
    await eventually(
      async () => (await getObject<V1Deployment>("Deployment", ns, "shop-web")) ?? false,
      { what: `Deployment ${ns}/shop-web` },
    );
    const settled = await settledApp(ns, "shop");
    expect(settled.status?.conditions?.find((c) => c.type === "Ready")?.reason).toBe("Progressing");
  }
  const pools = op.requests.connections.pools();
  const watches = WATCHES_PER_NAMESPACE * NAMESPACES;
  expect(pools.find((p) => p.pool === "watch")).toMatchObject({ inUse: watches, waiting: 0 });
  // On shared HTTP/2 connections: kube-apiserver offers h2 and 100 streams per connection.
  const shared = pools.find((p) => p.pool === "watch")?.http2Connections ?? 0;
  expect(shared).toBeGreaterThanOrEqual(Math.ceil(watches / 99));
  expect(shared).toBeLessThanOrEqual(Math.ceil(watches / 99) + 1);
  expect(pools.every((p) => p.starvedAt === undefined)).toBe(true);
  expect(op.operator.notReady()).toEqual([]);
}

test("20 namespaces, a watch per kind in each, leader election: the Lease is taken within 5 s and apps in the first and the last namespace converge", async () => {
  const namespaces = await watchedNamespaces("many");
  await leaseAndConvergence(namespaces, namespaces[0] ?? "", "many");
}, 120_000);

/** The REST collection of an RBAC or core object. */
function collection(o: KubeObject): string {
  const ns = o.metadata?.namespace;
  if (o.kind === "ServiceAccount") return `/api/v1/namespaces/${ns}/serviceaccounts`;
  const plural = `${(o.kind ?? "").toLowerCase()}s`;
  return `/apis/rbac.authorization.k8s.io/v1${ns === undefined ? "" : `/namespaces/${ns}`}/${plural}`;
}

test("in-cluster: a ServiceAccount token from the TokenRequest API, the cluster CA and KUBERNETES_SERVICE_HOST/PORT, only the shipped RBAC: the same with 20 namespaces", async () => {
  const system = await createTestNamespace("opsys");
  const namespaces = await watchedNamespaces("incl");
  // The cluster-wide install's RBAC, as shipped; the ClusterRoleBindings under names of this
  // test's own, so that no other test's binding of the same name is replaced.
  const suffix = uniqueName("t");
  for (const object of renderClusterRbac(system, {
    name: "stateless-operator",
    namespace: system,
  })) {
    const o = structuredClone(object) as KubeObject;
    if (o.kind === "ClusterRoleBinding" && o.metadata)
      o.metadata.name = `${o.metadata.name}-${suffix}`;
    await requestJson(adminTransport(), {
      method: "PATCH",
      path: `${collection(o)}/${o.metadata?.name}`,
      query: { fieldManager: "test-install", force: true },
      contentType: "application/apply-patch+yaml",
      body: JSON.stringify(o),
    });
  }
  const user = `system:serviceaccount:${system}:${SERVICE_ACCOUNT}`;
  await eventually(
    () => allowed(adminTransport(), user, namespaces[0] ?? "", "list", "deployments", "apps"),
    {
      what: "the operator's ClusterRole to be in effect",
    },
  );
  const token = await requestJson<{ status: { token: string } }>(adminTransport(), {
    method: "POST",
    path: `/api/v1/namespaces/${system}/serviceaccounts/${SERVICE_ACCOUNT}/token`,
    contentType: "application/json",
    body: JSON.stringify({
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 3600 },
    }),
  });
  const kubeconfig = parse(readFileSync(providedCluster().kubeconfig, "utf8")) as {
    clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
  };
  const cluster = kubeconfig.clusters[0]?.cluster;
  if (cluster === undefined) throw new Error("the tier's kubeconfig has no cluster");
  // What the kubelet mounts into the operator's pod.
  const mounted = mkdtempSync(join(tmpdir(), "serviceaccount-"));
  writeFileSync(join(mounted, "token"), token.status.token);
  writeFileSync(
    join(mounted, "ca.crt"),
    Buffer.from(cluster["certificate-authority-data"], "base64"),
  );
  const server = new URL(cluster.server);
  const connection = await loadConnection(
    {
      KUBERNETES_SERVICE_HOST: server.hostname,
      KUBERNETES_SERVICE_PORT: server.port,
      HOME: mkdtempSync(join(tmpdir(), "home-")), // no ~/.kube/config: the in-cluster path
    },
    { serviceAccountDir: mounted },
  );
  expect(connection.server).toBe(`https://${server.hostname}:${server.port}`);
  const transport = connectionTransport(connection);
  const review = await requestJson<{ status: { userInfo: { username: string } } }>(transport, {
    method: "POST",
    path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
    contentType: "application/json",
    body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }),
  });
  expect(review.status.userInfo.username).toBe(
    `system:serviceaccount:${system}:${SERVICE_ACCOUNT}`,
  );

  await leaseAndConvergence(namespaces, system, "in-cluster", transport);
}, 180_000);
