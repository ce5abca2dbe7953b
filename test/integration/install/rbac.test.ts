// The operator runs as its ServiceAccount with only the shipped RBAC and reconciles samples end to end.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { NAMESPACE, SERVICE_ACCOUNT } from "../../../scripts/install/index.ts";
import {
  createTestNamespace,
  eventually,
  printClusterLogsOnFailure,
  uniqueName,
} from "../../support/cluster.ts";
import {
  kubectl,
  kubectlOk,
  namespacedOverlay,
  serviceAccountKubeconfig,
  splitPolicies,
} from "./kubectl.ts";
import { baseEnv, type OperatorProcess, startOperatorProcess } from "./operator-process.ts";
import { metricsToken, scrape } from "./scrape.ts";

type Json = Record<string, unknown>;

const root = resolve(import.meta.dirname, "../../..");
const scratch = mkdtempSync(join(tmpdir(), "rbac-test-"));

printClusterLogsOnFailure();

async function getJson(args: string[]): Promise<Json | undefined> {
  const r = await kubectl(["get", ...args, "-o", "json"]);
  return r.code === 0 ? (JSON.parse(r.stdout) as Json) : undefined;
}

const conditionsOf = (o: Json | undefined) =>
  ((o?.status as { conditions?: { type: string; status: string; reason: string }[] })?.conditions ??
    []) as { type: string; status: string; reason: string }[];

/** Plays the Deployment controller (absent from this tier): the Deployment has rolled out. */
async function markRolledOut(namespace: string, name: string): Promise<void> {
  const d = (await getJson(["deployment", name, "-n", namespace])) as {
    metadata: { generation: number };
    spec: { replicas: number };
  };
  const n = d.spec.replicas;
  const status = {
    observedGeneration: d.metadata.generation,
    replicas: n,
    updatedReplicas: n,
    readyReplicas: n,
    availableReplicas: n,
  };
  await kubectlOk([
    "patch",
    "deployment",
    name,
    "-n",
    namespace,
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({ status }),
  ]);
}

/** What the operator's /metrics says about requests the API server refused (read as Prometheus). */
async function forbiddenRequests(s: Scenario): Promise<string[]> {
  const metrics = await scrape(await s.operator.metricsUrl(), s.readerToken);
  expect(metrics.status, metrics.body).toBe(200);
  return metrics.body
    .split("\n")
    .filter((l) => l.startsWith("rest_client_requests_total") && /code="40[13]"/.test(l));
}

interface Scenario {
  /** Where the operator's ServiceAccount lives. */
  saNamespace: string;
  /** Where the samples go (and what the operator watches). */
  appNamespace: string;
  operator: OperatorProcess;
  /** A token of a ServiceAccount bound to stateless-operator-metrics-reader. */
  readerToken: string;
}

async function startAs(saNamespace: string, appNamespace: string): Promise<Scenario> {
  const kubeconfig = await serviceAccountKubeconfig(saNamespace, SERVICE_ACCOUNT, scratch);
  const home = mkdtempSync(join(scratch, "home-"));
  const operator = startOperatorProcess({
    args: ["src/cli/main.ts", "run"],
    cwd: root,
    env: baseEnv({
      HOME: home,
      KUBECONFIG: kubeconfig,
      LEADER_ELECT: "true",
      POD_NAMESPACE: saNamespace,
      POD_NAME: uniqueName("operator"),
      // Other test files run their own operators on their own namespaces: stay out of theirs.
      WATCH_NAMESPACES: appNamespace,
      HTTP_ADDRESS: "127.0.0.1:0",
      METRICS_ADDRESS: "127.0.0.1:0",
      LOG_LEVEL: "debug",
    }),
  });
  await operator.endpoint();
  return {
    saNamespace,
    appNamespace,
    operator,
    readerToken: await metricsToken(appNamespace, true),
  };
}

/** Applies the samples and follows them through every kind of write the operator makes. */
async function reconcileSamples(s: Scenario): Promise<void> {
  const ns = s.appNamespace;
  const failure = () => `operator log:\n${s.operator.tail(60)}`;
  for (const sample of ["shop.yaml", "autoscaled.yaml"]) {
    await kubectlOk([
      "apply",
      "--server-side",
      "-n",
      ns,
      "-f",
      join(root, "manifests/samples", sample),
    ]);
  }
  // Children of every kind: Deployments, Services, a PDB, an HPA, the binding Secret.
  const children = [
    ["deployment", "shop-web"],
    ["deployment", "shop-worker"],
    ["service", "shop-web"],
    ["poddisruptionbudget", "shop-web"],
    ["secret", "shop-binding-sessions"],
    ["deployment", "api-web"],
    ["deployment", "api-clock"],
    ["horizontalpodautoscaler", "api-web"],
  ];
  for (const [kind, name] of children) {
    await eventually(() => getJson([kind as string, name as string, "-n", ns]), {
      what: `${kind} ${name} (${failure()})`,
    });
  }
  // The status subresource: a rollout under way, bindings resolved.
  const progressing = await eventually(
    async () => {
      const app = await getJson(["statelessapp", "shop", "-n", ns]);
      const c = conditionsOf(app);
      return c.some((x) => x.type === "BindingsReady" && x.status === "True") &&
        c.some((x) => x.type === "Reconciling" && x.status === "True")
        ? app
        : undefined;
    },
    { what: `shop's status to show a rollout (${failure()})` },
  );
  expect((progressing.status as { observedGeneration: number }).observedGeneration).toBe(
    (progressing.metadata as { generation: number }).generation,
  );
  // Owned Deployments are watched: their rollout makes the app Ready.
  await markRolledOut(ns, "shop-web");
  await markRolledOut(ns, "shop-worker");
  await eventually(
    async () =>
      conditionsOf(await getJson(["statelessapp", "shop", "-n", ns])).some(
        (c) => c.type === "Ready" && c.status === "True",
      ),
    { what: `shop to become Ready (${failure()})` },
  );
  // Drift: a field the operator applied, changed by someone else, is re-applied with an Event.
  await kubectlOk([
    "patch",
    "deployment",
    "shop-web",
    "-n",
    ns,
    "--type=merge",
    "-p",
    JSON.stringify({ spec: { replicas: 5 } }),
  ]);
  await eventually(
    async () => {
      const events = (await getJson(["events.events.k8s.io", "-n", ns])) as {
        items: { reason?: string; regarding?: { name?: string } }[];
      };
      return events.items.some((e) => e.reason === "DriftCorrected");
    },
    { what: `a DriftCorrected Event (${failure()})` },
  );
  const web = (await getJson(["deployment", "shop-web", "-n", ns])) as {
    spec: { replicas: number };
  };
  expect(web.spec.replicas).toBe(2);
  // Pruning: a process type removed from the spec loses its Deployment.
  await kubectlOk([
    "patch",
    "statelessapp",
    "shop",
    "-n",
    ns,
    "--type=json",
    "-p",
    JSON.stringify([{ op: "remove", path: "/spec/processes/1" }]),
  ]);
  await eventually(
    async () => (await getJson(["deployment", "shop-worker", "-n", ns])) === undefined,
    { what: `shop-worker to be pruned (${failure()})` },
  );
  // Leader election ran on a Lease in the operator's namespace, held by this process.
  const lease = (await getJson(["lease", "stateless-operator", "-n", s.saNamespace])) as {
    spec: { holderIdentity?: string };
  };
  expect(lease.spec.holderIdentity).toBeDefined();
  expect(await forbiddenRequests(s)).toEqual([]);
  expect(s.operator.lines.filter((l) => /forbidden/i.test(l))).toEqual([]);
}

/**
 * /metrics over HTTPS only, for a token the API server authenticates and authorizes: the
 * operator reviews tokens and access with the shipped metrics-auth ClusterRole alone.
 */
async function metricsAreAuthorized(s: Scenario): Promise<void> {
  const url = await s.operator.metricsUrl();
  expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const allowed = await scrape(url, s.readerToken);
  expect(allowed).toMatchObject({ status: 200, tls: true });
  expect(allowed.body).toMatch(
    /^stateless_operator_build_info\{version="[^"]+",commit="unknown"\} 1$/m,
  );
  const other = await scrape(url, await metricsToken(s.appNamespace, false));
  expect(other.status).toBe(403);
  expect(other.body).toMatch(/^Authorization denied for user system:serviceaccount:/);
  expect(other.body).not.toContain("controller_runtime");
  expect(await scrape(url)).toMatchObject({ status: 401 });
  expect(await scrape(url, "not-a-token")).toMatchObject({ status: 401 });
  // Plain HTTP carries only the probes now.
  const plain = await scrape(`${await s.operator.endpoint()}/metrics`, s.readerToken);
  expect(plain.status).toBe(404);
  expect((await scrape(`${await s.operator.endpoint()}/readyz`)).status).toBe(200);
}

async function stopCleanly(s: Scenario): Promise<void> {
  expect(await s.operator.stop(), s.operator.tail()).toBe(0);
}

describe("the cluster-wide install (ClusterRole)", () => {
  let scenario: Scenario | undefined;
  beforeAll(async () => {
    const { workload } = splitPolicies(join(root, "dist/install.yaml"));
    const apply = await kubectl(["apply", "--server-side", "-f", workload]);
    expect(apply.code, apply.stderr).toBe(0);
    await kubectlOk(["wait", "--for=condition=Established", "crd/statelessapps.twelvefactor.dev"]);
    const apps = await createTestNamespace("rbac");
    scenario = await startAs(NAMESPACE, apps);
  }, 120_000);
  afterAll(async () => {
    await scenario?.operator.stop();
  });

  test("reconciles the samples with only the shipped permissions, then stops on SIGTERM", async () => {
    if (scenario === undefined) throw new Error("no operator");
    await reconcileSamples(scenario);
    await metricsAreAuthorized(scenario);
    await stopCleanly(scenario);
  }, 120_000);
});

describe("the namespace-scoped install (one Role)", () => {
  let scenario: Scenario | undefined;
  beforeAll(async () => {
    await kubectlOk([
      "apply",
      "--server-side",
      "-f",
      join(root, "manifests/crd/twelvefactor.dev_statelessapps.yaml"),
    ]);
    await kubectlOk(["wait", "--for=condition=Established", "crd/statelessapps.twelvefactor.dev"]);
    const team = await createTestNamespace("team");
    const overlay = namespacedOverlay(root, team);
    await kubectlOk(["apply", "--server-side", "-k", overlay]);
    scenario = await startAs(team, team);
  }, 120_000);
  afterAll(async () => {
    await scenario?.operator.stop();
  });

  test("reconciles the samples in its own namespace with the Role alone", async () => {
    if (scenario === undefined) throw new Error("no operator");
    await reconcileSamples(scenario);
    await metricsAreAuthorized(scenario);
    await stopCleanly(scenario);
  }, 120_000);
});
