// Tenant safety on a real kube-apiserver, as a user who may only manage StatelessApps: another's object of a child's name is never written or deleted, colliding apps do not fight, a binding Secret that is not ours never rolls out.
import type { V1Deployment } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BINDINGS_HASH_ANNOTATION } from "../../../src/app/render/index.ts";
import { type HttpTransport, type KubeObject, requestJson } from "../../../src/runtime/index.ts";
import {
  createTestNamespace,
  eventually,
  printClusterLogsOnFailure,
} from "../../support/cluster.ts";
import {
  type AppView,
  applyAsUser,
  conditionOf,
  deleteObject,
  getObject,
  installCrd,
  listObjects,
  objectPath,
  settledApp,
  startTestOperator,
  type TestOperator,
  tenantTransport,
} from "../../support/operator.ts";

printClusterLogsOnFailure();

let ns: string;
let op: TestOperator;
/** The tenant: the shipped stateless-operator-edit role in `ns`, nothing else. */
let tenant: HttpTransport;

/** Server-side apply as the tenant. */
async function applyAsTenant(object: KubeObject): Promise<void> {
  await requestJson(tenant, {
    method: "PATCH",
    path: objectPath(object),
    query: { fieldManager: "kubectl", force: true },
    contentType: "application/apply-patch+yaml",
    body: JSON.stringify(object),
  });
}

const app = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "twelvefactor.dev/v1alpha1",
  kind: "StatelessApp",
  metadata: { name, namespace: ns },
  spec: { image: "registry.example.com/shop:1.0.0", ...spec },
});

const web = (name: string, more: Record<string, unknown> = {}) => ({
  name,
  ports: [{ name: "http", containerPort: 8080 }],
  ...more,
});

/** The object exactly as the API server stores it. */
const snapshot = async (kind: string, name: string) =>
  JSON.stringify(await getObject(kind, ns, name));

const stalledWith = (reason: string) => (a: AppView) =>
  conditionOf(a, "Stalled")?.reason === reason;

const uidOf = async (kind: string, name: string) =>
  (await getObject<KubeObject>(kind, ns, name))?.metadata?.uid;

const controllerOf = async (kind: string, name: string) =>
  (await getObject<KubeObject>(kind, ns, name))?.metadata?.ownerReferences?.find(
    (r) => r.controller,
  )?.uid;

/** The Warning Events about an app with this reason, and their repeat counts. */
async function warnings(appName: string, reason: string): Promise<number[]> {
  const events = await listObjects<{
    regarding?: { name?: string };
    reason?: string;
    type?: string;
    series?: { count?: number };
  }>("Event", ns);
  return events
    .filter((e) => e.regarding?.name === appName && e.reason === reason && e.type === "Warning")
    .map((e) => e.series?.count ?? 1);
}

/** Writes the operator made to objects named `name` during `ms`. */
async function writesTo(name: string, ms: number): Promise<string[]> {
  op.requests.reset();
  await new Promise((r) => setTimeout(r, ms));
  return op.requests.writes.filter((w) => w.split("/").at(-1) === name);
}

// Each case runs with the caches filled from list pages (the default) and from streaming lists
// (STREAMING_LISTS=true): how a cache fills must not change what a tenant can make it do.
describe.each([
  { fill: "list pages", streamingList: false },
  { fill: "streaming lists", streamingList: true },
])("a tenant who may only manage StatelessApps (caches from $fill)", ({ streamingList }) => {
  beforeAll(async () => {
    await installCrd();
    ns = await createTestNamespace("tenant");
    tenant = await tenantTransport(ns);
    op = await startTestOperator({ namespaces: [ns], streamingList });
  });
  afterAll(async () => {
    await op?.stop();
  });

  test("the operator's caches filled the way this case says", () => {
    const lists = op.requests.counts.get("list") ?? 0;
    if (streamingList) expect(lists).toBe(0);
    else expect(lists).toBeGreaterThan(0);
  });

  test("may not write Services itself (the premise)", async () => {
    await expect(
      applyAsTenant({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "probe", namespace: ns },
        spec: { ports: [{ port: 80 }] },
      }),
    ).rejects.toMatchObject({ code: 403 });
  });

  test("cannot take over another team's Service, PodDisruptionBudget or autoscaler through an app, nor have them deleted", async () => {
    const theirs: KubeObject[] = [
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "pay-api", namespace: ns },
        spec: { selector: { team: "payments" }, ports: [{ port: 80 }] },
      },
      {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: "pay-api", namespace: ns },
        spec: { minAvailable: 1, selector: { matchLabels: { team: "payments" } } },
      },
      {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "pay-api", namespace: ns },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "payments-api" },
          minReplicas: 3,
          maxReplicas: 9,
        },
      },
    ];
    await applyAsUser(theirs, "payments-team");
    const kinds = ["Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"];
    const before = await Promise.all(kinds.map((k) => snapshot(k, "pay-api")));

    await applyAsTenant(
      app("pay", { processes: [web("api", { autoscale: { minReplicas: 2, maxReplicas: 4 } })] }),
    );
    const stalled = await settledApp(ns, "pay", stalledWith("NameInUse"));
    const message = conditionOf(stalled, "Stalled")?.message ?? "";
    for (const k of kinds) expect(message).toContain(`${k} pay-api already exists`);
    expect(conditionOf(stalled, "Ready")).toMatchObject({ status: "False", reason: "NameInUse" });
    // The one name that was free is the app's own.
    expect(await controllerOf("Deployment", "pay-api")).toBe(await uidOf("StatelessApp", "pay"));

    expect(await writesTo("pay-api", 3_000)).toEqual([]);
    expect(await Promise.all(kinds.map((k) => snapshot(k, "pay-api")))).toEqual(before);
    await eventually(async () => (await warnings("pay", "NameInUse")).length === 1, {
      what: "the NameInUse Warning",
    });
    expect(await warnings("pay", "NameInUse")).toEqual([1]);

    // The app lets go of the names: nothing of theirs is deleted.
    await applyAsTenant(app("pay", { processes: [{ name: "api", replicas: 1 }] }));
    await settledApp(ns, "pay", (a) => conditionOf(a, "Stalled") === undefined);
    expect(await Promise.all(kinds.map((k) => snapshot(k, "pay-api")))).toEqual(before);
  });

  test("two apps whose generated names collide: the first keeps them, the second waits without a write loop and takes them once freed", async () => {
    await applyAsTenant(app("a-b", { processes: [web("c", { replicas: 2 })] }));
    const first = await uidOf("StatelessApp", "a-b");
    await eventually(async () => (await controllerOf("Service", "a-b-c")) === first, {
      what: "a-b to own Service a-b-c",
    });
    await settledApp(ns, "a-b");
    const before = await Promise.all(
      ["Deployment", "Service", "PodDisruptionBudget"].map((k) => snapshot(k, "a-b-c")),
    );

    await applyAsTenant(app("a", { processes: [web("b-c", { replicas: 2 })] }));
    const stalled = await settledApp(ns, "a", stalledWith("NameInUse"));
    expect(conditionOf(stalled, "Stalled")?.message).toContain(
      `Service a-b-c already exists and is not this app's (it is controlled by StatelessApp a-b (uid ${first}))`,
    );
    expect(await writesTo("a-b-c", 3_000)).toEqual([]);
    expect(
      await Promise.all(
        ["Deployment", "Service", "PodDisruptionBudget"].map((k) => snapshot(k, "a-b-c")),
      ),
    ).toEqual(before);

    // a-b renames its process: the operator prunes a-b-c, and `a` takes the names at once.
    await applyAsTenant(app("a-b", { processes: [web("d", { replicas: 2 })] }));
    const second = await uidOf("StatelessApp", "a");
    await eventually(async () => (await controllerOf("Service", "a-b-c")) === second, {
      what: "a to take Service a-b-c once a-b let it go",
      timeoutMs: 20_000,
    });
    await settledApp(ns, "a", (a) => conditionOf(a, "Stalled") === undefined);
    expect(await controllerOf("Deployment", "a-b-c")).toBe(second);
  });

  test("names are checked in the caches, not read one by one: a new app's children take no GET, and another's label-less Deployment is refused, then freed", async () => {
    // Another team's Deployment without the operator's label or any owner: cached as a stub.
    const theirs: KubeObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "ledger-web", namespace: ns, labels: { team: "ledger" } },
      spec: {
        selector: { matchLabels: { team: "ledger" } },
        template: {
          metadata: { labels: { team: "ledger" } },
          spec: { containers: [{ name: "ledger", image: "registry.example.com/ledger:2" }] },
        },
      },
    };
    await applyAsUser([theirs], "ledger-team");
    const before = await snapshot("Deployment", "ledger-web");
    // Its watch event reaches the operator in milliseconds; the app comes a second later.
    await new Promise((r) => setTimeout(r, 1_000));
    op.requests.reset();

    await applyAsTenant(app("ledger", { processes: [web("web")] }));
    const stalled = await settledApp(ns, "ledger", stalledWith("NameInUse"));
    expect(conditionOf(stalled, "Stalled")?.message).toContain(
      "Deployment ledger-web already exists and is not this app's (it has no controller)",
    );
    // The free name (the Service) was written; neither name was read first.
    expect(await controllerOf("Service", "ledger-web")).toBe(await uidOf("StatelessApp", "ledger"));
    expect(op.requests.counts.get("get") ?? 0).toBe(0);
    expect(await writesTo("ledger-web", 2_000)).toEqual([]);
    expect(await snapshot("Deployment", "ledger-web")).toBe(before);

    // Their Deployment goes: its delete event frees the name, and the app creates its own.
    await deleteObject("Deployment", ns, "ledger-web");
    await eventually(
      async () =>
        (await controllerOf("Deployment", "ledger-web")) ===
        (await uidOf("StatelessApp", "ledger")),
      { what: "the app to create Deployment ledger-web once freed", timeoutMs: 20_000 },
    );
    await settledApp(ns, "ledger", (a) => conditionOf(a, "Stalled") === undefined);
  });

  test("another's Secret with the binding Secret's name is never written nor mounted; freed, the app binds", async () => {
    await applyAsUser([
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "cart-redis", namespace: ns },
        stringData: { host: "redis.cart", port: "6379", password: "cart-password" },
      },
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "cart-binding-sessions", namespace: ns },
        type: "servicebinding.io/redis",
        stringData: { host: "redis.payments", password: "payments-password" },
      },
    ]);
    const before = await snapshot("Secret", "cart-binding-sessions");
    await applyAsTenant(
      app("cart", {
        processes: [web("web")],
        backingServices: [{ name: "sessions", type: "redis", secretRef: { name: "cart-redis" } }],
      }),
    );
    const stalled = await settledApp(ns, "cart", stalledWith("NameInUse"));
    expect(conditionOf(stalled, "BindingsReady")).toMatchObject({
      status: "False",
      reason: "NameInUse",
    });
    // No pod template mounts it: the Deployment is not created.
    expect(await getObject("Deployment", ns, "cart-web")).toBeUndefined();
    expect(await writesTo("cart-binding-sessions", 2_000)).toEqual([]);
    expect(await snapshot("Secret", "cart-binding-sessions")).toBe(before);

    await deleteObject("Secret", ns, "cart-binding-sessions");
    const cart = await uidOf("StatelessApp", "cart");
    await eventually(async () => (await controllerOf("Deployment", "cart-web")) === cart, {
      what: "cart to bind once the name is free",
      timeoutMs: 20_000,
    });
    expect(await controllerOf("Secret", "cart-binding-sessions")).toBe(cart);
  });

  test("a binding Secret the API server rejects: BindingsReady=False with its reason, the pods keep their template", async () => {
    const source = (password: string): KubeObject => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "big-redis", namespace: ns },
      stringData: { host: "redis.big", port: "6379", password },
    });
    await applyAsUser([source("small")]);
    await applyAsTenant(
      app("big", {
        processes: [web("web")],
        backingServices: [{ name: "sessions", type: "redis", secretRef: { name: "big-redis" } }],
      }),
    );
    await settledApp(ns, "big", (a) => conditionOf(a, "BindingsReady")?.status === "True");
    const hash = async () =>
      (await getObject<V1Deployment>("Deployment", ns, "big-web"))?.spec?.template.metadata
        ?.annotations?.[BINDINGS_HASH_ANNOTATION];
    const good = await hash();
    expect(good).toBeDefined();

    // 600 kB: the source fits in a Secret; the binding Secret (password and a URI holding it) does not.
    await applyAsUser([source("p".repeat(600_000))]);
    const rejected = await settledApp(
      ns,
      "big",
      (a) => conditionOf(a, "BindingsReady")?.reason === "SecretRejected",
    );
    expect(conditionOf(rejected, "BindingsReady")?.message).toMatch(
      /^binding Secret big-binding-sessions was not written: .*Too long/,
    );
    expect(await hash()).toBe(good);
  });

  test("a bound kind outside the allow-list is refused and starts no watch", async () => {
    const lists = () => op.requests.counts.get("list") ?? 0;
    const watchesBefore = op.requests.counts.get("watch") ?? 0;
    const listsBefore = lists();
    const bound = [
      { apiVersion: "v1", kind: "Secret" },
      { apiVersion: "v1", kind: "ConfigMap" },
      { apiVersion: "v1?x=", kind: "Binding" },
    ];
    for (const [i, service] of bound.entries()) {
      const name = `kind-${i}`;
      const answer = await applyAsTenant(
        app(name, {
          processes: [{ name: "web" }],
          backingServices: [{ name: "s", type: "redis", service: { ...service, name: "x" } }],
        }),
      ).then(
        () => "admitted",
        (error: { code?: number; message?: string }) => error,
      );
      if (typeof answer !== "string") {
        // The CRD refuses it (issue 20's rule): the field is named.
        expect(answer).toMatchObject({ code: 422 });
        expect(answer.message).toMatch(/service\.(apiVersion|kind)/);
        continue;
      }
      // Admitted (a CRD without the rule): the operator refuses it at run time.
      const stalled = await settledApp(ns, name, stalledWith("BindingsNotReady"));
      expect(conditionOf(stalled, "Stalled")?.message).toMatch(/service\.apiVersion .* must be/);
    }
    expect(lists()).toBe(listsBefore);
    expect(op.requests.counts.get("watch") ?? 0).toBe(watchesBefore);
    expect(op.operator.notReady()).toEqual([]);
  });
});
