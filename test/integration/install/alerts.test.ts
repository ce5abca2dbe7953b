// Each alert of gitops/prometheus-rules.yaml, tested with promtool's rule tests on the series the operator really exposes.
//
// Every scenario runs the operator against the API server in the state the alert is about (two
// replicas at rest, a Lease someone else holds, a ServiceAccount that may not write Deployments or
// list Secrets, a child someone keeps changing) and scrapes its HTTPS /metrics as Prometheus does.
// The scraped series, with the labels Prometheus adds (job, namespace, pod), become promtool's
// input: counters that moved between two scrapes keep moving at that pace, everything else holds
// its value, and a watch's age grows with the clock when nothing arrives. promtool then evaluates
// every rule over the hours its `for` needs, and each scenario states the whole picture: which
// alerts fire, with which labels and annotations, and that all others stay silent.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { stringify } from "yaml";
import { operatorRules, type PolicyRule } from "../../../scripts/install/index.ts";
import { alertRules, dashboardPanels, JOB } from "../../../scripts/install/monitoring.ts";
import { metricsAuthRules } from "../../../scripts/install/rbac.ts";
import { WATCHES_PER_NAMESPACE } from "../../../src/app/operator.ts";
import { toYamlDocuments } from "../../../src/cli/yaml.ts";
import { createMetrics } from "../../../src/platform/metrics.ts";
import { locateBinary } from "../../../tools/cluster/index.ts";
import { parseMetrics, type Sample, sumOf } from "../../e2e/support/metrics.ts";
import {
  createTestNamespace,
  eventually,
  printClusterLogsOnFailure,
  providedCluster,
  uniqueName,
} from "../../support/cluster.ts";
import { kubectl, kubectlOk, serviceAccountKubeconfig, splitPolicies } from "./kubectl.ts";
import { baseEnv, type OperatorProcess, startOperatorProcess } from "./operator-process.ts";
import { metricsToken, scrape } from "./scrape.ts";

const root = resolve(import.meta.dirname, "../../..");
const rulesFile = join(root, "gitops/prometheus-rules.yaml");
const scratch = mkdtempSync(join(tmpdir(), "alerts-test-"));

printClusterLogsOnFailure();

function promtool(): string {
  const path = locateBinary("promtool");
  if (path === undefined)
    throw new Error("promtool is not built: run `npm run cluster:build` (it builds promtool too)");
  return path;
}

// --- promtool's test file --------------------------------------------------------------------

interface InputSeries {
  readonly series: string;
  readonly values: string;
}
interface Firing {
  readonly alert: string;
  readonly labels: Record<string, string>;
}

const promLabels = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ");

/** A scraped series as Prometheus stores it: the target's labels added. */
function seriesOf(s: Sample, target: Record<string, string>): string {
  return `${s.name}{${promLabels({ ...s.labels, ...target })}}`;
}

/** Values once a minute: `first`, then `per` more each minute, `minutes` times. */
const moving = (first: number, per: number, minutes: number) =>
  `${first}${per < 0 ? "-" : "+"}${Math.abs(per)}x${minutes}`;

/**
 * promtool input from real scrapes: each series of the last scrape, counters that grew since the
 * first going on at that pace per minute (the scrapes were `minutesApart` apart), the rest flat.
 */
function inputFrom(
  scrapes: { before: readonly Sample[]; after: readonly Sample[]; minutesApart: number },
  target: Record<string, string>,
  minutes: number,
  shape: (s: Sample, perMinute: number) => string | undefined = () => undefined,
): InputSeries[] {
  const key = (s: Sample) => seriesOf(s, {});
  const before = new Map(scrapes.before.map((s) => [key(s), s.value]));
  return scrapes.after
    .filter((s) => !/^(process|nodejs)_/.test(s.name))
    .map((s) => {
      const was = before.get(key(s));
      const counter = /_total$|_count$|_sum$|_bucket$/.test(s.name);
      const perMinute = counter && was !== undefined ? (s.value - was) / scrapes.minutesApart : 0;
      return {
        series: seriesOf(s, target),
        values: shape(s, perMinute) ?? moving(s.value, perMinute, minutes),
      };
    });
}

const expand = (text: string, labels: Record<string, string>) =>
  text.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => labels[name] ?? "");

/** One promtool test: every alert checked at `at`, those in `firing` expected, all others silent. */
function testGroup(
  name: string,
  input: InputSeries[],
  at: string,
  firing: readonly Firing[],
): Record<string, unknown> {
  return {
    name,
    interval: "1m",
    input_series: input,
    alert_rule_test: alertRules.map((rule) => ({
      eval_time: at,
      alertname: rule.alert,
      exp_alerts: firing
        .filter((f) => f.alert === rule.alert)
        .map((f) => ({
          exp_labels: { ...f.labels, severity: rule.severity },
          exp_annotations: {
            summary: rule.summary,
            description: expand(rule.description, f.labels),
          },
        })),
    })),
  };
}

function runPromtool(tests: Record<string, unknown>[]): Promise<{ code: number; out: string }> {
  const file = join(mkdtempSync(join(scratch, "promtool-")), "tests.yaml");
  writeFileSync(file, stringify({ rule_files: [rulesFile], evaluation_interval: "1m", tests }));
  return new Promise((done) => {
    execFile(promtool(), ["test", "rules", file], (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      done({ code, out: stdout + stderr });
    });
  });
}

// --- Operators in the states the alerts are about ---------------------------------------------

const ops = uniqueName("alerts-ops");
let readerToken = "";
const running: OperatorProcess[] = [];

/** An operator watching `apps` only (each scenario has its own), stopped after its test. */
async function startOperator(
  name: string,
  apps: string,
  extra: Record<string, string> = {},
): Promise<OperatorProcess> {
  const operator = startOperatorProcess({
    args: ["src/cli/main.ts", "run"],
    cwd: root,
    env: baseEnv({
      HOME: mkdtempSync(join(scratch, "home-")),
      KUBECONFIG: providedCluster().kubeconfig,
      LEADER_ELECT: "true",
      LEASE_NAME: `lease-${name}`,
      POD_NAMESPACE: ops,
      POD_NAME: name,
      WATCH_NAMESPACES: apps,
      HTTP_ADDRESS: "127.0.0.1:0",
      METRICS_ADDRESS: "127.0.0.1:0",
      RESYNC_PERIOD: "10m",
      ...extra,
    }),
  });
  running.push(operator);
  await operator.endpoint();
  return operator;
}

async function metricsOf(operator: OperatorProcess): Promise<readonly Sample[]> {
  const r = await scrape(await operator.metricsUrl(), readerToken);
  expect(r.status, r.body).toBe(200);
  return parseMetrics(r.body);
}

/** A kubeconfig of a new ServiceAccount in `ops` bound to exactly `rules` (cluster-wide). */
async function serviceAccountWith(rules: readonly PolicyRule[]): Promise<string> {
  const name = uniqueName("limited");
  const file = join(scratch, `${name}.yaml`);
  writeFileSync(
    file,
    toYamlDocuments([
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: ops } },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name },
        rules: [...rules, ...metricsAuthRules],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
        subjects: [{ kind: "ServiceAccount", name, namespace: ops }],
      },
    ]),
  );
  await kubectlOk(["apply", "--server-side", "-f", file]);
  return serviceAccountKubeconfig(ops, name, scratch);
}

/** The operator's rules with `verbs` taken away from `resource`, and any Lease in `ops`. */
function withoutVerbs(resource: string, verbs: readonly string[]): PolicyRule[] {
  return [
    ...operatorRules.map((r) =>
      r.resources.includes(resource)
        ? { ...r, verbs: r.verbs.filter((v) => !verbs.includes(v)) }
        : r,
    ),
    {
      apiGroups: ["coordination.k8s.io"],
      resources: ["leases"],
      verbs: ["create", "get", "update"],
    },
  ];
}

const target = (pod: string) => ({ job: JOB, namespace: ops, pod });
const up = (pod: string, value: number, minutes: number): InputSeries => ({
  series: `up{${promLabels(target(pod))}}`,
  values: `${value}+0x${minutes}`,
});

async function applySample(apps: string): Promise<void> {
  await kubectlOk([
    "apply",
    "--server-side",
    "-n",
    apps,
    "-f",
    join(root, "manifests/samples/web.yaml"),
  ]);
}

const deploymentsWritten = (m: readonly Sample[]) =>
  sumOf(m, "stateless_operator_apply_total", { kind: "Deployment", outcome: "written" });
const refused = (m: readonly Sample[]) =>
  sumOf(m, "rest_client_requests_total", { code: (c) => c === "401" || c === "403" });
/**
 * Every cache of the operator (one per watched kind, in its one namespace) holds a complete list.
 * Fewer is not enough: the scrape becomes promtool's input, and a cache still listing fires
 * StatelessOperatorCacheNotSynced in a scenario that expects silence.
 */
const cachesSynced = (m: readonly Sample[]) =>
  sumOf(m, "stateless_operator_informer_synced") >= WATCHES_PER_NAMESPACE;
const idle = (m: readonly Sample[]) =>
  sumOf(m, "workqueue_depth") === 0 && sumOf(m, "controller_runtime_active_workers") === 0;

beforeAll(async () => {
  promtool();
  const { workload } = splitPolicies(join(root, "dist/install.yaml"));
  const apply = await kubectl(["apply", "--server-side", "-f", workload]);
  expect(apply.code, apply.stderr).toBe(0);
  await kubectlOk(["wait", "--for=condition=Established", "crd/statelessapps.twelvefactor.dev"]);
  await kubectlOk(["create", "namespace", ops]);
  readerToken = await metricsToken(ops, true);
}, 120_000);

afterEach(async () => {
  await Promise.all(running.splice(0).map((o) => o.stop()));
});

afterAll(async () => {
  await kubectl(["delete", "namespace", ops, "--wait=false"]);
});

describe("the alerts, evaluated by promtool on the operator's real series", () => {
  test("the rule file is valid", async () => {
    const r = await new Promise<{ code: number; out: string }>((done) =>
      execFile(promtool(), ["check", "rules", rulesFile], (error, stdout, stderr) =>
        done({ code: error === null ? 0 : 1, out: stdout + stderr }),
      ),
    );
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`SUCCESS: ${alertRules.length} rules found`);
  });

  test("two replicas at rest: silent; a child someone keeps changing: StatelessOperatorChildrenKeepChanging; no replica scraped: StatelessOperatorDown; watches that stop: StatelessOperatorWatchSilent", async () => {
    const apps = await createTestNamespace("alerts-drift");
    const a = await startOperator("replica-a", apps);
    await eventually(
      async () =>
        (await metricsOf(a)).some(
          (s) => s.name === "leader_election_master_status" && s.value === 1,
        ),
      { what: `replica-a to lead (${a.tail()})` },
    );
    const b = await startOperator("replica-b", apps, { LEASE_NAME: "lease-replica-a" });
    await applySample(apps);
    await eventually(
      async () => (await kubectl(["get", "deployment", "hello-web", "-n", apps])).code === 0,
      { what: "hello-web" },
    );
    const settled = await eventually(
      async () => {
        const m = await metricsOf(a);
        return idle(m) && deploymentsWritten(m) > 0 ? m : undefined;
      },
      { what: "replica-a to go idle" },
    );
    const standby = await eventually(
      async () => {
        const m = await metricsOf(b);
        return cachesSynced(m) ? m : undefined;
      },
      { what: "replica-b's caches" },
    );
    expect(sumOf(standby, "leader_election_master_status")).toBe(0);

    // Someone scales the Deployment by hand, twice; the operator sets it back each time.
    const before = await metricsOf(a);
    for (const replicas of [5, 7]) {
      const written = deploymentsWritten(await metricsOf(a));
      await kubectlOk([
        "patch",
        "deployment",
        "hello-web",
        "-n",
        apps,
        "--type=merge",
        "-p",
        JSON.stringify({ spec: { replicas } }),
      ]);
      await eventually(async () => deploymentsWritten(await metricsOf(a)) > written, {
        what: "the drift to be corrected",
      });
    }
    const after = await eventually(
      async () => {
        const m = await metricsOf(a);
        return idle(m) ? m : undefined;
      },
      { what: "replica-a to go idle again" },
    );
    expect(deploymentsWritten(after)).toBe(deploymentsWritten(before) + 2);
    // The corrections changed no StatelessApp: that is what tells drift from an edit.
    expect(
      sumOf(after, "stateless_operator_informer_events_total", { resource: "statelessapps" }),
    ).toBe(
      sumOf(before, "stateless_operator_informer_events_total", { resource: "statelessapps" }),
    );

    const atRest = { before: settled, after: settled, minutesApart: 1 };
    const twoHours = 130;
    const resources = after
      .filter((s) => s.name === "stateless_operator_informer_last_event_age_seconds")
      .map((s) => s.labels.resource ?? "");
    expect(resources.length).toBeGreaterThanOrEqual(6);
    const r = await runPromtool([
      testGroup(
        "two replicas at rest",
        [
          ...inputFrom(atRest, target("replica-a"), twoHours),
          ...inputFrom(
            { before: standby, after: standby, minutesApart: 1 },
            target("replica-b"),
            twoHours,
          ),
          up("replica-a", 1, twoHours),
          up("replica-b", 1, twoHours),
        ],
        "2h",
        [],
      ),
      testGroup(
        "a Deployment scaled by hand every 5 minutes, for two hours",
        [
          ...inputFrom({ before, after, minutesApart: 10 }, target("replica-a"), twoHours),
          up("replica-a", 1, twoHours),
        ],
        "2h",
        [{ alert: "StatelessOperatorChildrenKeepChanging", labels: { namespace: ops } }],
      ),
      testGroup(
        "the same writes while StatelessApps change too: edits, not drift",
        [
          ...inputFrom({ before, after, minutesApart: 10 }, target("replica-a"), twoHours, (s) =>
            s.name === "stateless_operator_informer_events_total" &&
            s.labels.resource === "statelessapps"
              ? moving(s.value, 0.2, twoHours)
              : undefined,
          ),
          up("replica-a", 1, twoHours),
        ],
        "2h",
        [],
      ),
      testGroup(
        "no replica answers the scrape",
        [...inputFrom(atRest, target("replica-a"), 20, () => "_x20"), up("replica-a", 0, 20)],
        "15m",
        // absent() of a comparison keeps no label: the alert carries only its own.
        [{ alert: "StatelessOperatorDown", labels: {} }],
      ),
      testGroup(
        "watches deliver nothing: their age grows with the clock",
        [
          ...inputFrom(atRest, target("replica-a"), 30, (s) =>
            s.name === "stateless_operator_informer_last_event_age_seconds"
              ? moving(s.value, 60, 30)
              : undefined,
          ),
          up("replica-a", 1, 30),
        ],
        "25m",
        resources.map((resource) => ({
          alert: "StatelessOperatorWatchSilent",
          labels: { ...target("replica-a"), resource },
        })),
      ),
    ]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/SUCCESS/);
  }, 180_000);

  test("a Lease someone else holds: StatelessOperatorNoLeader", async () => {
    const lease = uniqueName("held");
    const file = join(scratch, `${lease}.yaml`);
    writeFileSync(
      file,
      toYamlDocuments([
        {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: lease, namespace: ops },
          spec: {
            holderIdentity: "someone-else",
            leaseDurationSeconds: 3600,
            acquireTime: new Date().toISOString().replace(/\.\d+Z$/, ".000000Z"),
            renewTime: new Date().toISOString().replace(/\.\d+Z$/, ".000000Z"),
          },
        },
      ]),
    );
    await kubectlOk(["apply", "--server-side", "-f", file]);
    const c = await startOperator("follower", await createTestNamespace("alerts-follower"), {
      LEASE_NAME: lease,
    });
    const m = await eventually(
      async () => {
        const s = await metricsOf(c);
        return cachesSynced(s) && s.some((x) => x.name === "leader_election_master_status")
          ? s
          : undefined;
      },
      { what: `the follower's caches (${c.tail()})` },
    );
    expect(sumOf(m, "leader_election_master_status")).toBe(0);
    const r = await runPromtool([
      testGroup(
        "nobody in the namespace leads",
        [
          ...inputFrom({ before: m, after: m, minutesApart: 1 }, target("follower"), 20),
          up("follower", 1, 20),
        ],
        "15m",
        [{ alert: "StatelessOperatorNoLeader", labels: { namespace: ops } }],
      ),
    ]);
    expect(r.code, r.out).toBe(0);
  }, 120_000);

  test("a ServiceAccount that may not write Deployments: StatelessOperatorRequestsRefused and StatelessOperatorReconcileErrors", async () => {
    const kubeconfig = await serviceAccountWith(withoutVerbs("deployments", ["create", "patch"]));
    const apps = await createTestNamespace("alerts-refused");
    await applySample(apps);
    const d = await startOperator("no-deployments", apps, { KUBECONFIG: kubeconfig });
    const first = await eventually(
      async () => {
        const m = await metricsOf(d);
        return refused(m) > 0 && sumOf(m, "controller_runtime_reconcile_errors_total") > 0
          ? m
          : undefined;
      },
      { what: `refused writes (${d.tail()})` },
    );
    const started = Date.now();
    const second = await eventually(
      async () => {
        const m = await metricsOf(d);
        return refused(m) > refused(first) &&
          sumOf(m, "controller_runtime_reconcile_errors_total") >
            sumOf(first, "controller_runtime_reconcile_errors_total")
          ? m
          : undefined;
      },
      { what: "the operator to retry", timeoutMs: 60_000 },
    );
    const minutesApart = Math.max((Date.now() - started) / 60_000, 0.01);
    const r = await runPromtool([
      testGroup(
        "writes refused, reconciles failing",
        [
          ...inputFrom(
            { before: first, after: second, minutesApart },
            target("no-deployments"),
            40,
          ),
          up("no-deployments", 1, 40),
        ],
        "30m",
        [
          { alert: "StatelessOperatorRequestsRefused", labels: { namespace: ops } },
          {
            alert: "StatelessOperatorReconcileErrors",
            labels: { namespace: ops, controller: "statelessapp" },
          },
        ],
      ),
    ]);
    expect(r.code, r.out).toBe(0);
  }, 120_000);

  test("a ServiceAccount that may not list Secrets: StatelessOperatorCacheNotSynced and StatelessOperatorRequestsRefused", async () => {
    const kubeconfig = await serviceAccountWith(withoutVerbs("secrets", ["list", "watch"]));
    const e = await startOperator("no-secrets", await createTestNamespace("alerts-secrets"), {
      KUBECONFIG: kubeconfig,
    });
    const first = await eventually(
      async () => {
        const m = await metricsOf(e);
        return refused(m) > 0 ? m : undefined;
      },
      { what: `refused lists (${e.tail()})` },
    );
    expect(sumOf(first, "stateless_operator_informer_synced", { resource: "secrets" })).toBe(0);
    const started = Date.now();
    const second = await eventually(
      async () => {
        const m = await metricsOf(e);
        return refused(m) > refused(first) ? m : undefined;
      },
      { what: "the list to be retried", timeoutMs: 60_000 },
    );
    const minutesApart = Math.max((Date.now() - started) / 60_000, 0.01);
    const r = await runPromtool([
      testGroup(
        "the Secrets cache never lists",
        [
          ...inputFrom({ before: first, after: second, minutesApart }, target("no-secrets"), 40),
          up("no-secrets", 1, 40),
        ],
        "30m",
        [
          {
            alert: "StatelessOperatorCacheNotSynced",
            labels: { ...target("no-secrets"), resource: "secrets" },
          },
          { alert: "StatelessOperatorRequestsRefused", labels: { namespace: ops } },
        ],
      ),
    ]);
    expect(r.code, r.out).toBe(0);
  }, 120_000);
});

describe("the Grafana dashboard", () => {
  test("every query is PromQL promtool accepts, over metrics the operator exposes", async () => {
    const exprs = dashboardPanels.flatMap((p) => p.targets.map((t) => t.expr));
    // Grafana's variables, as Grafana substitutes them.
    const concrete = exprs.map((e) =>
      e
        .replaceAll("$__rate_interval", "5m")
        .replaceAll("$job", JOB)
        .replaceAll("$namespace", "ops"),
    );
    const file = join(mkdtempSync(join(scratch, "dashboard-")), "rules.yaml");
    writeFileSync(
      file,
      stringify({
        groups: [
          {
            name: "dashboard",
            rules: concrete.map((expr, i) => ({ record: `dashboard:panel_${i}`, expr })),
          },
        ],
      }),
    );
    const r = await new Promise<{ code: number; out: string }>((done) =>
      execFile(promtool(), ["check", "rules", file], (error, stdout, stderr) =>
        done({ code: error === null ? 0 : 1, out: stdout + stderr }),
      ),
    );
    expect(r.code, r.out).toBe(0);
    const exposed = new Set(
      (await createMetrics().registry.getMetricsAsJSON()).flatMap((m) =>
        String(m.type) === "histogram"
          ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`]
          : [m.name],
      ),
    );
    const used = new Set(
      concrete.flatMap((e) => [...e.matchAll(/([a-z_:][a-z0-9_:]*)\{/g)].map((m) => m[1] ?? "")),
    );
    expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
    expect(used.size).toBeGreaterThan(10);
  });
});
