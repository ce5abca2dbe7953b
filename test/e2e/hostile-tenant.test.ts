// Scenario 10: a hostile tenant, who may only manage StatelessApps in one namespace, tries to make the operator take over, rewrite or delete what it does not own, fight itself, or watch Secrets.
//
// Every case runs as that user: impersonation, with the shipped stateless-operator-edit role
// bound in the namespace alone (no Services, Secrets or pods). The operator runs as a
// ServiceAccount with exactly the shipped operator rules (plus one Provisioned Service kind), so
// a kind it may not list is a real 403. The other teams' objects are created by the admin.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { operatorRules } from "../../scripts/install/rbac.ts";
import { type KubeObject, requestJson } from "../../src/runtime/index.ts";
import { printClusterLogsOnFailure, providedCluster } from "../support/cluster.ts";
import { allowed, applyAsAdmin, createTenant, impersonatingKubeconfig } from "../support/tenant.ts";
import { type App, type AppSpec, condition, statelessApp, waitConverged } from "./support/apps.ts";
import { Kube, Recorder } from "./support/kube.ts";
import { type Metrics, parseMetrics, sumOf } from "./support/metrics.ts";
import { OperatorProcess, printOperatorLogsOnFailure } from "./support/operator-process.ts";
import { createNamespace, installCrd, sleep, uniqueName, until } from "./support/setup.ts";
import { reportNote } from "./support/summary.ts";

printClusterLogsOnFailure();
printOperatorLogsOnFailure();

const RBAC = "/apis/rbac.authorization.k8s.io/v1";
const QUIET_MS = 10_000;

const kube = new Kube(providedCluster().kubeconfig);
/** The tenant's access: StatelessApps in `ns`, nothing else. */
let tenant: Kube;
let ns: string;
let operator: OperatorProcess;
/** A group of this run's own Provisioned Service kinds: Widget (the operator may watch it), Gadget (it may not). */
const group = `${uniqueName("hostile")}.example.com`;
const clusterScoped: string[] = [];
/** Every Service and Secret change in the namespace, seen by a watch of our own. */
let services: Recorder;
let secrets: Recorder;
/** Answers of /readyz other than 200 (a slow answer on a loaded machine is not one). */
const notReady: number[] = [];
let readiness: ReturnType<typeof setInterval> | undefined;

const crd = (plural: string, kind: string): KubeObject => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: "Namespaced",
    names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        },
      },
    ],
  },
});

beforeAll(async () => {
  await installCrd(kube);
  ns = await createNamespace(kube, "hostile");
  for (const [plural, kind] of [
    ["widgets", "Widget"],
    ["gadgets", "Gadget"],
  ] as const) {
    await kube.apply(crd(plural, kind), "e2e-setup");
    clusterScoped.push(
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${plural}.${group}`,
    );
  }
  // The operator: a ServiceAccount with the shipped rules, and list/watch on widgets only.
  const account = "stateless-operator";
  const operatorUser = `system:serviceaccount:${ns}:${account}`;
  const role = uniqueName("hostile-operator");
  await applyAsAdmin(
    kube.transport,
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: account, namespace: ns } },
    `/api/v1/namespaces/${ns}/serviceaccounts`,
  );
  await applyAsAdmin(
    kube.transport,
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: role },
      rules: [
        ...operatorRules,
        { apiGroups: [group], resources: ["widgets"], verbs: ["get", "list", "watch"] },
      ],
    },
    `${RBAC}/clusterroles`,
  );
  await applyAsAdmin(
    kube.transport,
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: role },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
      subjects: [{ kind: "ServiceAccount", name: account, namespace: ns }],
    },
    `${RBAC}/clusterrolebindings`,
  );
  clusterScoped.push(`${RBAC}/clusterrolebindings/${role}`, `${RBAC}/clusterroles/${role}`);
  await until("the operator's RBAC to be in effect", () =>
    allowed(kube.transport, operatorUser, ns, "watch", "widgets", group),
  );
  operator = await OperatorProcess.start({
    name: "hostile",
    kubeconfig: impersonatingKubeconfig(kube.kubeconfigPath, operatorUser),
    namespaces: [ns],
  });
  tenant = new Kube(
    (await createTenant({ kubeconfig: kube.kubeconfigPath, transport: kube.transport }, ns))
      .kubeconfig,
  );
  services = new Recorder(kube, "Service", ns);
  secrets = new Recorder(kube, "Secret", ns);
  readiness = setInterval(() => {
    void operator.readyzStatus().then((status) => {
      if (status !== undefined && status !== 200) notReady.push(status);
    });
  }, 500);
});

afterAll(async () => {
  clearInterval(readiness);
  await services?.stop();
  await secrets?.stop();
  await operator?.stop();
  if (ns !== undefined) await kube.delete("Namespace", undefined, ns);
  for (const path of clusterScoped)
    await requestJson(kube.transport, { method: "DELETE", path }).catch(() => undefined);
});

const app = (name: string, spec: Record<string, unknown>): KubeObject =>
  statelessApp(ns, name, { image: "registry.example.com/hostile:1.0.0", ...spec } as AppSpec);

const web = (name: string, more: Record<string, unknown> = {}) => ({
  name,
  ports: [{ name: "http", containerPort: 8080 }],
  ...more,
});

const redis = (name: string, secretName: string) => ({
  name,
  type: "redis",
  secretRef: { name: secretName },
});

/** A source Secret of another team, in the tenant's namespace. */
const source = (name: string, password: string): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace: ns },
  type: "Opaque",
  stringData: { host: `${name}.example`, port: "6379", password },
});

/**
 * What another team owns that the operator must never change, byte for byte: labels,
 * annotations, owners, spec (a Service's selector), data and type. Status is left out: the
 * autoscaler controller writes an HPA's status on its own.
 */
async function essence(kind: string, name: string): Promise<string> {
  const o = await kube.get<KubeObject>(kind, ns, name);
  if (o === undefined) return `${kind} ${name} is gone`;
  const { labels, annotations, ownerReferences, managedFields } = o.metadata ?? {};
  return JSON.stringify({
    labels,
    annotations,
    ownerReferences,
    spec: o.spec,
    data: o.data,
    type: o.type,
    // Our field manager on it would mean we wrote to it.
    ours: (managedFields ?? []).filter((m) => m.manager === "stateless-operator").length,
  });
}

const essences = (objects: readonly (readonly [string, string])[]) =>
  Promise.all(objects.map(([kind, name]) => essence(kind, name)));

const getApp = (name: string) => kube.get<App>("StatelessApp", ns, name);

/** Waits until the app's status is at its generation and `check` holds. */
const settled = (name: string, what: string, check: (a: App) => boolean) =>
  until(
    `${name}: ${what}`,
    async () => {
      const a = await getApp(name);
      return a?.status?.observedGeneration === a?.metadata.generation && a !== undefined && check(a)
        ? a
        : undefined;
    },
    { timeoutMs: 90_000 },
  );

const stalledWith = (reason: string) => (a: App) => condition(a, "Stalled")?.reason === reason;

/** The Warning Events on an app with `reason`: one entry per Event object, its repeat count. */
async function warnings(appName: string, reason: string): Promise<number[]> {
  const events = await kube.list<{
    regarding?: { name?: string };
    reason?: string;
    type?: string;
    series?: { count?: number };
  }>("EventsV1", ns);
  return events
    .filter((e) => e.regarding?.name === appName && e.reason === reason && e.type === "Warning")
    .map((e) => e.series?.count ?? 1);
}

const controllerUid = async (kind: string, name: string) =>
  (await kube.get<KubeObject>(kind, ns, name))?.metadata?.ownerReferences?.find((r) => r.controller)
    ?.uid;

const idle = (m: Metrics) =>
  sumOf(m, "workqueue_depth") === 0 && sumOf(m, "controller_runtime_active_workers") === 0;

/**
 * Over QUIET_MS, once the operator is idle: the operator's own object writes, and the changes an
 * independent watch saw on the named Services and Secrets. A write loop shows in both.
 */
async function quiet(names: readonly string[]): Promise<{ writes: number; changes: string[] }> {
  await until("the operator to be idle", async () => idle(await operator.metrics()));
  const since = Date.now();
  const { writes, log } = await operator.quietWindow(QUIET_MS);
  const changes = [...services.events, ...secrets.events]
    .filter((e) => e.at >= since && names.includes(e.object.metadata?.name ?? ""))
    .map((e) => `${e.type} ${e.object.kind ?? ""} ${e.object.metadata?.name}`);
  services.check();
  secrets.check();
  if (writes > 0) console.error(log.join("\n"));
  return { writes, changes };
}

const decoded = (secret: KubeObject | undefined, key: string) =>
  Buffer.from(((secret?.data ?? {}) as Record<string, string>)[key] ?? "", "base64").toString();

describe("10. hostile tenant", () => {
  test("10. hostile tenant: another team's Service, PodDisruptionBudget, autoscaler and binding Secret are never taken over, rewritten or deleted", {
    timeout: 240_000,
  }, async ({ annotate }) => {
    // The premise: the tenant may not write these itself.
    await expect(
      tenant.apply({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "probe", namespace: ns },
        spec: { ports: [{ port: 80 }] },
      }),
    ).rejects.toMatchObject({ code: 403 });

    const payments = "payments-team";
    await kube.apply(source("payments-redis", "payments-password-Uq3"), payments);
    await kube.apply(
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "payments-api", namespace: ns },
        spec: {
          replicas: 1,
          selector: { matchLabels: { team: "payments" } },
          template: {
            metadata: { labels: { team: "payments" } },
            spec: { containers: [{ name: "api", image: "registry.example.com/payments:1" }] },
          },
        },
      },
      payments,
    );
    const theirs = [
      ["Service", "pay-api"],
      ["PodDisruptionBudget", "pay-api"],
      ["HorizontalPodAutoscaler", "pay-api"],
      ["Secret", "pay-binding-cache"],
    ] as const;
    await kube.apply(
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "pay-api", namespace: ns },
        spec: { selector: { team: "payments" }, ports: [{ port: 80, targetPort: 8443 }] },
      },
      payments,
    );
    await kube.apply(
      {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: "pay-api", namespace: ns },
        spec: { minAvailable: 1, selector: { matchLabels: { team: "payments" } } },
      },
      payments,
    );
    await kube.apply(
      {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "pay-api", namespace: ns },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "payments-api" },
          minReplicas: 1,
          maxReplicas: 3,
        },
      },
      payments,
    );
    await kube.apply(
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "pay-binding-cache", namespace: ns },
        type: "servicebinding.io/redis",
        stringData: { host: "redis.payments", password: "payments-binding-password-Hk9" },
      },
      payments,
    );
    const before = await essences(theirs);

    // Every child name of `pay` is taken: nothing of it is written, and its pods are never
    // started on the payments team's binding Secret.
    await tenant.apply(
      app("pay", {
        processes: [web("api", { autoscale: { minReplicas: 2, maxReplicas: 4 } })],
        backingServices: [redis("cache", "payments-redis")],
      }),
    );
    const stalled = await settled("pay", "Stalled NameInUse", stalledWith("NameInUse"));
    const message = condition(stalled, "Stalled")?.message ?? "";
    for (const [kind, name] of theirs) expect(message).toContain(`${kind} ${name} already exists`);
    expect(condition(stalled, "Ready")).toMatchObject({ status: "False", reason: "NameInUse" });
    expect(condition(stalled, "BindingsReady")).toMatchObject({
      status: "False",
      reason: "NameInUse",
    });
    expect(await kube.get("Deployment", ns, "pay-api")).toBeUndefined();

    const window = await quiet(["pay-api", "pay-binding-cache"]);
    expect(window).toEqual({ writes: 0, changes: [] });
    expect(await essences(theirs)).toEqual(before);
    expect(await warnings("pay", "NameInUse")).toEqual([1]);

    // Letting go of the names deletes nothing of theirs; the app runs on the one name left.
    await tenant.apply(app("pay", { processes: [{ name: "api", replicas: 1 }] }));
    await waitConverged(kube, ns, { names: ["pay"] });
    expect(await essences(theirs)).toEqual(before);

    // Deleting the app: the garbage collector takes its own Deployment and nothing else.
    await tenant.delete("StatelessApp", ns, "pay");
    await until(
      "the garbage collector to delete pay's Deployment",
      async () => ((await kube.get("Deployment", ns, "pay-api")) === undefined ? true : undefined),
      { timeoutMs: 120_000 },
    );
    expect(await essences(theirs)).toEqual(before);
    expect(notReady).toEqual([]);
    await reportNote(
      annotate,
      `${theirs.length} foreign objects unchanged; ${window.writes} writes in ${QUIET_MS / 1000} s; 1 NameInUse Warning`,
    );
  });

  test("10b. hostile tenant: apps whose generated names collide do not fight; the first keeps the name, the other takes it once freed", {
    timeout: 240_000,
  }, async ({ annotate }) => {
    await kube.apply(source("redis-one", "password-one-Zr4"), "payments-team");
    await kube.apply(source("redis-two", "password-two-Wm8"), "payments-team");
    // `a-b` + process `c` and `a` + process `b-c` both render a-b-c; `p` + binding `q-binding-r`
    // and `p-binding-q` + binding `r` both render the binding Secret p-binding-q-binding-r.
    await tenant.apply(app("a-b", { processes: [web("c", { replicas: 2 })] }));
    await tenant.apply(
      app("p", {
        processes: [{ name: "web" }],
        backingServices: [redis("q-binding-r", "redis-one")],
      }),
    );
    await waitConverged(kube, ns, { names: ["a-b", "p"] });
    const contested = [
      ["Deployment", "a-b-c"],
      ["Service", "a-b-c"],
      ["PodDisruptionBudget", "a-b-c"],
      ["Secret", "p-binding-q-binding-r"],
    ] as const;
    const before = await essences(contested);

    await tenant.apply(app("a", { processes: [web("b-c", { replicas: 2 })] }));
    await tenant.apply(
      app("p-binding-q", {
        processes: [{ name: "web" }],
        backingServices: [redis("r", "redis-two")],
      }),
    );
    const a = await settled("a", "Stalled NameInUse", stalledWith("NameInUse"));
    expect(condition(a, "Stalled")?.message).toContain(
      "Service a-b-c already exists and is not this app's (it is controlled by StatelessApp a-b",
    );
    await settled("p-binding-q", "Stalled NameInUse", stalledWith("NameInUse"));

    const window = await quiet(["a-b-c", "p-binding-q-binding-r"]);
    expect(window).toEqual({ writes: 0, changes: [] });
    expect(await essences(contested)).toEqual(before);
    // The credentials stay the first app's, and the second app's pods never mount them.
    expect(decoded(await kube.get("Secret", ns, "p-binding-q-binding-r"), "password")).toBe(
      "password-one-Zr4",
    );
    expect(await kube.get("Deployment", ns, "p-binding-q-web")).toBeUndefined();
    expect(await warnings("a", "NameInUse")).toEqual([1]);
    expect(await warnings("p-binding-q", "NameInUse")).toEqual([1]);

    // Freed, the names go to the waiting apps by themselves: a-b renames its process (the
    // operator deletes a-b-c), p is deleted (the garbage collector deletes its Secret).
    await tenant.apply(app("a-b", { processes: [web("d", { replicas: 2 })] }));
    await tenant.delete("StatelessApp", ns, "p");
    const uidOf = async (name: string) => (await getApp(name))?.metadata.uid;
    await until("a to take the Service a-b-c", async () =>
      (await controllerUid("Service", "a-b-c")) === (await uidOf("a")) ? true : undefined,
    );
    await until(
      "p-binding-q to take its binding Secret",
      async () =>
        (await controllerUid("Secret", "p-binding-q-binding-r")) === (await uidOf("p-binding-q"))
          ? true
          : undefined,
      { timeoutMs: 120_000 },
    );
    await waitConverged(kube, ns, { names: ["a", "a-b", "p-binding-q"] });
    expect(decoded(await kube.get("Secret", ns, "p-binding-q-binding-r"), "password")).toBe(
      "password-two-Wm8",
    );
    expect(notReady).toEqual([]);
    await reportNote(
      annotate,
      `2 collisions: ${window.writes} writes in ${QUIET_MS / 1000} s, both freed names taken over`,
    );
  });

  test("10c. hostile tenant: a bound kind starts no watch of Secrets or core kinds; one the operator may not list is Stalled with the API server's reason; a kind's watch ends with its last app", {
    timeout: 240_000,
  }, async ({ annotate }) => {
    const lists = (m: Metrics) => sumOf(m, "rest_client_requests_total", { method: "list" });
    const resources = (m: Metrics) =>
      [
        ...new Set(
          m
            .filter((s) => s.name.startsWith("stateless_operator_informer"))
            .map((s) => s.labels.resource),
        ),
      ].sort();
    await until("the operator to be idle", async () => idle(await operator.metrics()));
    const start = await operator.metrics();

    const refused = [
      ["v1", "Secret"],
      ["v1", "ConfigMap"],
      ["v1", "Binding"],
      ["v1?x=", "Secret"],
      ["apps/v1", "Deployment"],
      [`${group}/v1`, "Secret"],
    ] as const;
    let byCrd = 0;
    for (const [i, [apiVersion, kind]] of refused.entries()) {
      const name = `bind-${i}`;
      const answer = await tenant
        .apply(
          app(name, {
            processes: [{ name: "web" }],
            backingServices: [
              { name: "s", type: "redis", service: { apiVersion, kind, name: "x" } },
            ],
          }),
        )
        .then(
          () => undefined,
          (error: { code?: number; message?: string }) => error,
        );
      if (answer !== undefined) {
        // The CRD refuses it (issue 20's rules), naming the field.
        expect(answer.code).toBe(422);
        expect(answer.message).toMatch(/service\.(apiVersion|kind)/);
        byCrd++;
        continue;
      }
      // Admitted by a CRD without the rule: the operator refuses it at run time, naming the field.
      const stalled = await settled(name, "Stalled", stalledWith("BindingsNotReady"));
      expect(condition(stalled, "Stalled")?.message).toMatch(/service\.(apiVersion|kind) /);
    }
    await until("the operator to be idle", async () => idle(await operator.metrics()));
    const after = await operator.metrics();
    expect(lists(after)).toBe(lists(start));
    expect(resources(after)).toEqual(resources(start));

    // A served kind the operator may not list: a 403, reported on the app; the operator stays ready.
    await tenant.apply(
      app("bind-gadget", {
        processes: [{ name: "web" }],
        backingServices: [
          {
            name: "s",
            type: "redis",
            service: { apiVersion: `${group}/v1`, kind: "Gadget", name: "x" },
          },
        ],
      }),
    );
    const gadget = await settled("bind-gadget", "Stalled with the API server's reason", (a) =>
      /cannot watch .* 403 Forbidden: .*cannot (list|watch) resource "gadgets"/.test(
        condition(a, "Stalled")?.message ?? "",
      ),
    );
    expect(condition(gadget, "BindingsReady")?.status).toBe("False");
    expect(await operator.readyzStatus()).toBe(200);

    // A kind it may watch: watched while an app binds it, and not a moment longer.
    // The API server's own count of the watches it serves: namespaced ones are the operator's
    // (it watches only its namespaces; the garbage collector watches every kind cluster-wide).
    const watches = async () => {
      const response = await kube.transport({ method: "GET", path: "/metrics" });
      return sumOf(parseMetrics(await response.text()), "apiserver_longrunning_requests", {
        group,
        resource: "widgets",
        scope: "namespace",
        verb: "WATCH",
      });
    };
    await tenant.apply(
      app("bind-widget", {
        processes: [{ name: "web" }],
        backingServices: [
          {
            name: "s",
            type: "redis",
            service: { apiVersion: `${group}/v1`, kind: "Widget", name: "x" },
          },
        ],
      }),
    );
    await settled("bind-widget", "Widget x not found", (a) =>
      /Widget "x" not found/.test(condition(a, "Stalled")?.message ?? ""),
    );
    await until("the API server to serve the operator's watch of widgets", async () =>
      (await watches()) > 0 ? true : undefined,
    );
    await tenant.delete("StatelessApp", ns, "bind-widget");
    await until("the watch of widgets to end", async () =>
      (await watches()) === 0 ? true : undefined,
    );

    // The kind it may not list is not retried once no app binds it.
    await tenant.delete("StatelessApp", ns, "bind-gadget");
    await sleep(1_000);
    const forbidden = async () =>
      sumOf(await operator.metrics(), "rest_client_requests_total", { code: "403" });
    const denied = await forbidden();
    await sleep(16_000);
    expect(await forbidden()).toBe(denied);
    expect(notReady).toEqual([]);
    await reportNote(
      annotate,
      `${refused.length} core or forbidden kinds refused (${byCrd} by the CRD), 0 lists started; 403 kind Stalled; widget watch stopped with its app`,
    );
  });

  test("10d. hostile tenant: a binding Secret the API server rejects (600 kB) leaves the pods on their last good template", {
    timeout: 180_000,
  }, async ({ annotate }) => {
    await kube.apply(source("big-redis", "small-password-Jq2"), "payments-team");
    await tenant.apply(
      app("big", {
        processes: [{ name: "web" }],
        backingServices: [redis("sessions", "big-redis")],
      }),
    );
    await waitConverged(kube, ns, { names: ["big"] });
    const template = async () => {
      const d = await kube.get<{ metadata: { generation: number }; spec: { template: unknown } }>(
        "Deployment",
        ns,
        "big-web",
      );
      return JSON.stringify([d?.metadata.generation, d?.spec.template]);
    };
    const good = await template();
    const bindingBefore = await essence("Secret", "big-binding-sessions");

    // The source fits in a Secret; the binding Secret (the password and a URI holding it) does not.
    await kube.apply(source("big-redis", "p".repeat(600_000)), "payments-team");
    const rejected = await settled(
      "big",
      "BindingsReady=False SecretRejected",
      (a) => condition(a, "BindingsReady")?.reason === "SecretRejected",
    );
    expect(condition(rejected, "BindingsReady")?.message).toMatch(
      /^binding Secret big-binding-sessions was not written: .*Too long/,
    );
    const window = await quiet(["big-binding-sessions"]);
    expect(window).toEqual({ writes: 0, changes: [] });
    expect(await template()).toBe(good);
    expect(await essence("Secret", "big-binding-sessions")).toBe(bindingBefore);

    // A source that fits again: bound and rolled out.
    await kube.apply(source("big-redis", "rotated-password-Lx5"), "payments-team");
    await settled(
      "big",
      "BindingsReady=True",
      (a) => condition(a, "BindingsReady")?.status === "True",
    );
    await waitConverged(kube, ns, { names: ["big"] });
    expect(await template()).not.toBe(good);
    expect(notReady).toEqual([]);
    await reportNote(
      annotate,
      `rejected binding Secret: template kept, ${window.writes} writes in ${QUIET_MS / 1000} s`,
    );
  });
});
