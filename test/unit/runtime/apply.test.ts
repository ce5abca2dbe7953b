import { describe, expect, test } from "vitest";
import { parseQuantity } from "../../../src/lib/quantity.ts";
import { NotLeaderError } from "../../../src/runtime/errors.ts";
import { Applier, applyNeeded, httpClient } from "../../../src/runtime/index.ts";
import type { KubeObject, ManagedFieldsEntry } from "../../../src/runtime/object.ts";
import type { HttpRequest, HttpTransport } from "../../../src/runtime/transport.ts";

const owner = {
  apiVersion: "twelvefactor.dev/v1alpha1",
  kind: "StatelessApp",
  name: "shop",
  uid: "u1",
  controller: true,
  blockOwnerDeletion: true,
};

/** What the operator would apply. */
function desired(): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: "shop-web",
      namespace: "web",
      labels: { app: "shop" },
      ownerReferences: [owner],
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "shop" } },
      template: {
        metadata: { labels: { app: "shop" } },
        spec: {
          containers: [
            {
              name: "web",
              image: "shop:1",
              command: ["node", "server.js"],
              args: [],
              ports: [{ name: "http", containerPort: 8080 }],
              resources: { limits: { cpu: "1000m", memory: "128Mi" } },
            },
          ],
          tolerations: [{ key: "spot", operator: "Exists" }],
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: "128Mi" } }],
        },
      },
    },
  };
}

/** Our fieldsV1 after applying `desired()`, as the apiserver records it. */
function ownedFields(): Record<string, unknown> {
  return {
    "f:metadata": {
      "f:labels": { "f:app": {} },
      "f:ownerReferences": { 'k:{"uid":"u1"}': {} },
    },
    "f:spec": {
      "f:replicas": {},
      "f:selector": {},
      "f:template": {
        "f:metadata": { "f:labels": { "f:app": {} } },
        "f:spec": {
          "f:containers": {
            'k:{"name":"web"}': {
              ".": {},
              "f:command": {},
              "f:image": {},
              "f:name": {},
              "f:ports": {
                'k:{"containerPort":8080,"protocol":"TCP"}': {
                  ".": {},
                  "f:containerPort": {},
                  "f:name": {},
                },
              },
              "f:resources": { "f:limits": { "f:cpu": {}, "f:memory": {} } },
            },
          },
          "f:tolerations": {},
          "f:volumes": {
            'k:{"name":"tmp"}': { ".": {}, "f:emptyDir": { "f:sizeLimit": {} }, "f:name": {} },
          },
        },
      },
    },
  };
}

const ours = (
  fieldsV1: unknown = ownedFields(),
  extra: Partial<ManagedFieldsEntry> = {},
): ManagedFieldsEntry => ({
  manager: "stateless-operator",
  operation: "Apply",
  apiVersion: "apps/v1",
  fieldsType: "FieldsV1",
  fieldsV1,
  ...extra,
});

/** The live object after the apply: apiserver defaults, other managers' changes, status. */
function live(managedFields: ManagedFieldsEntry[] = [ours()]): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: "shop-web",
      namespace: "web",
      uid: "d1",
      resourceVersion: "100",
      generation: 1,
      labels: { app: "shop" },
      annotations: { "deployment.kubernetes.io/revision": "1" },
      ownerReferences: [owner],
      managedFields,
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "shop" } },
      strategy: {
        type: "RollingUpdate",
        rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" },
      },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      template: {
        metadata: { labels: { app: "shop" } },
        spec: {
          containers: [
            {
              name: "web",
              image: "shop:1",
              command: ["node", "server.js"],
              ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
              resources: { limits: { cpu: "1", memory: "128Mi" } },
              terminationMessagePath: "/dev/termination-log",
              terminationMessagePolicy: "File",
              imagePullPolicy: "IfNotPresent",
            },
          ],
          tolerations: [{ key: "spot", operator: "Exists" }],
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: "128Mi" } }],
          restartPolicy: "Always",
          dnsPolicy: "ClusterFirst",
          securityContext: {},
          schedulerName: "default-scheduler",
          terminationGracePeriodSeconds: 30,
        },
      },
    },
    status: { replicas: 2, readyReplicas: 2 },
  };
}

type Mutate = (obj: KubeObject) => void;
// biome-ignore lint/suspicious/noExplicitAny: test fixtures reach deep into plain JSON
const deep = (o: KubeObject): any => o;

const cases: Array<{
  name: string;
  desired?: Mutate;
  live?: Mutate | "absent";
  write: boolean;
  reason?: RegExp;
}> = [
  { name: "absent live object", live: "absent", write: true, reason: /absent/ },
  { name: "live equals desired plus apiserver defaults", write: false },
  {
    name: "extra labels and annotations from others",
    live: (l) => {
      deep(l).metadata.labels.team = "x";
      deep(l).spec.template.metadata.annotations = { "kubectl.kubernetes.io/restartedAt": "now" };
    },
    write: false,
  },
  {
    name: "a sidecar another manager added to the keyed containers list",
    live: (l) =>
      deep(l).spec.template.spec.containers.push({ name: "istio-proxy", image: "proxy" }),
    write: false,
  },
  {
    name: "someone changed the image",
    live: (l) => {
      deep(l).spec.template.spec.containers[0].image = "shop:evil";
    },
    write: true,
    reason: /containers\[\{"name":"web"\}\]\.image/,
  },
  {
    name: "someone scaled the replicas we set",
    live: (l) => {
      deep(l).spec.replicas = 5;
    },
    write: true,
    reason: /\.spec\.replicas/,
  },
  {
    name: "the emptyDir of our volume swapped for a hostPath",
    live: (l) => {
      deep(l).spec.template.spec.volumes[0] = { name: "tmp", hostPath: { path: "/var" } };
    },
    write: true,
    reason: /volumes/,
  },
  {
    name: "quantities equal by value (1000m = 1)",
    live: (l) => {
      deep(l).spec.template.spec.containers[0].resources.limits.memory = "134217728";
    },
    write: false,
  },
  {
    name: "quantities that differ",
    live: (l) => {
      deep(l).spec.template.spec.containers[0].resources.limits.memory = "129Mi";
    },
    write: true,
    reason: /memory/,
  },
  {
    name: "an env value edited from 1 to 1.0 is drift (env values are strings, not quantities)",
    desired: (d) => {
      deep(d).spec.template.spec.containers[0].env = [{ name: "WORKERS", value: "1" }];
    },
    live: (l) => {
      deep(l).spec.template.spec.containers[0].env = [{ name: "WORKERS", value: "1.0" }];
    },
    write: true,
    reason: /env\[0\]\.value/,
  },
  {
    name: "an autoscaler metric target value compares by quantity (500m = 0.5)",
    desired: (d) => {
      deep(d).spec.metrics = [
        {
          type: "Pods",
          pods: {
            metric: { name: "rps" },
            target: { type: "AverageValue", averageValue: "500m", value: "2k" },
          },
        },
      ];
    },
    live: (l) => {
      deep(l).spec.metrics = [
        {
          type: "Pods",
          pods: {
            metric: { name: "rps" },
            target: { type: "AverageValue", averageValue: "0.5", value: "2000" },
          },
        },
      ];
    },
    write: false,
  },
  {
    name: "a container port without protocol matches the TCP-defaulted key",
    write: false,
  },
  {
    name: "an atomic list reordered",
    live: (l) => {
      deep(l).spec.template.spec.containers[0].command = ["server.js", "node"];
    },
    write: true,
    reason: /command/,
  },
  {
    name: "an atomic list of objects with an extra item",
    live: (l) => deep(l).spec.template.spec.tolerations.push({ key: "gpu", operator: "Exists" }),
    write: true,
    reason: /tolerations/,
  },
  {
    name: "an empty list in desired matches the field the apiserver dropped",
    desired: (d) => {
      deep(d).spec.template.spec.containers[0].env = [];
    },
    write: false,
  },
  {
    name: "a label we set before and no longer set",
    live: (l) => {
      deep(l).metadata.labels.team = "x";
      deep(l).metadata.managedFields[0].fieldsV1["f:metadata"]["f:labels"]["f:team"] = {};
    },
    write: true,
    reason: /no longer sets \.metadata\.labels\.team/,
  },
  {
    name: "a volume we set before and no longer set",
    desired: (d) => {
      deep(d).spec.template.spec.volumes = [];
    },
    write: true,
    reason: /no longer sets .*volumes\[\{"name":"tmp"\}\]/,
  },
  {
    name: "replicas dropped from desired (an HPA takes over)",
    desired: (d) => {
      delete deep(d).spec.replicas;
    },
    write: true,
    reason: /no longer sets \.spec\.replicas/,
  },
  {
    name: "a new container we do not own yet",
    desired: (d) => deep(d).spec.template.spec.containers.push({ name: "worker", image: "w" }),
    write: true,
    reason: /new item/,
  },
  {
    name: "no managedFields entry of ours",
    live: (l) => {
      deep(l).metadata.managedFields = [ours(ownedFields(), { manager: "kubectl" })];
    },
    write: true,
    reason: /no managedFields entry/,
  },
  {
    name: "our only entry is for the status subresource",
    live: (l) => {
      deep(l).metadata.managedFields = [ours({ "f:status": {} }, { subresource: "status" })];
    },
    write: true,
    reason: /no managedFields entry/,
  },
  {
    name: "our entry is for another apiVersion",
    live: (l) => {
      deep(l).metadata.managedFields = [ours(ownedFields(), { apiVersion: "apps/v1beta2" })];
    },
    write: true,
    reason: /apps\/v1beta2/,
  },
  {
    name: "an unparseable field-set key",
    live: (l) => {
      deep(l).metadata.managedFields[0].fieldsV1["f:spec"]["i:0"] = {};
    },
    write: true,
    reason: /i:0/,
  },
  {
    name: "a set-list (finalizers) we own, still present",
    desired: (d) => {
      deep(d).metadata.finalizers = ["example.dev/cleanup"];
    },
    live: (l) => {
      deep(l).metadata.finalizers = ["other/f", "example.dev/cleanup"];
      deep(l).metadata.managedFields[0].fieldsV1["f:metadata"]["f:finalizers"] = {
        ".": {},
        'v:"example.dev/cleanup"': {},
      };
    },
    write: false,
  },
];

describe("applyNeeded", () => {
  test.each(cases)(
    "$name → write: $write",
    ({ desired: mutateDesired, live: mutateLive, write, reason }) => {
      const d = desired();
      mutateDesired?.(d);
      let l: KubeObject | undefined = live();
      if (mutateLive === "absent") l = undefined;
      else mutateLive?.(l);
      const decision = applyNeeded(d, l);
      expect(decision.write, decision.reason).toBe(write);
      if (reason !== undefined) expect(decision.reason).toMatch(reason);
    },
  );

  const statusEntry = ours(
    { "f:status": { "f:observedGeneration": {}, "f:summary": {}, "f:conditions": {} } },
    {
      apiVersion: "twelvefactor.dev/v1alpha1",
      subresource: "status",
    },
  );
  const app = (status: Record<string, unknown>, entries = [statusEntry]): KubeObject => ({
    apiVersion: "twelvefactor.dev/v1alpha1",
    kind: "StatelessApp",
    metadata: { name: "shop", namespace: "web", managedFields: entries },
    spec: { image: "x" },
    status,
  });
  const status = {
    observedGeneration: 2,
    summary: "web 2/2",
    conditions: [{ type: "Ready", status: "True" }],
  };

  test.each([
    { name: "same status", desired: status, live: status, write: false },
    {
      name: "changed condition",
      desired: status,
      live: { ...status, conditions: [] },
      write: true,
    },
    {
      name: "a status field we stopped setting",
      desired: { ...status, summary: undefined },
      live: status,
      write: true,
    },
  ])("status: $name → write: $write", ({ desired: ds, live: ls, write }) => {
    const decision = applyNeeded(app(ds), app(ls), { subresource: "status" });
    expect(decision.write, decision.reason).toBe(write);
  });

  test("status compares against the status entry, not the main one", () => {
    expect(applyNeeded(app(status), app(status, [ours()]), { subresource: "status" }).write).toBe(
      true,
    );
  });
});

describe("parseQuantity", () => {
  test.each([
    ["1", 1],
    ["1000m", 1],
    ["0.5", 0.5],
    ["128Mi", 128 * 2 ** 20],
    ["1G", 1e9],
    ["1e3", 1000],
    [".5", 0.5],
    ["abc", undefined],
    ["1Xi", undefined],
  ] as const)("%s → %s", (q, want) => {
    expect(parseQuantity(q)).toBe(want);
  });
});

/** A transport that answers applies with the body plus a new resourceVersion, and records requests. */
function fakeApiserver(respond?: (req: HttpRequest) => { status: number; body: unknown }) {
  const requests: HttpRequest[] = [];
  let rv = 200;
  const transport: HttpTransport = async (req) => {
    requests.push(req);
    const { status, body } = respond?.(req) ?? {
      status: 200,
      body: (() => {
        const obj = JSON.parse(req.body ?? "{}");
        obj.metadata = { ...obj.metadata, resourceVersion: String(++rv) };
        return obj;
      })(),
    };
    const text = JSON.stringify(body);
    return {
      status,
      text: async () => text,
      lines: async function* () {
        yield text;
      },
    };
  };
  return { transport, requests };
}

describe("Applier", () => {
  test("applies with the field manager, force and the apply content type to the REST path", async () => {
    const api = fakeApiserver();
    const applier = new Applier({ client: httpClient(api.transport) });
    const result = await applier.apply(desired());
    expect(result.written).toBe(true);
    const req = api.requests[0];
    expect(req?.method).toBe("PATCH");
    expect(req?.path).toBe("/apis/apps/v1/namespaces/web/deployments/shop-web");
    expect(req?.query).toEqual({ fieldManager: "stateless-operator", force: true });
    expect(req?.contentType).toBe("application/apply-patch+yaml");
    expect(JSON.parse(req?.body ?? "")).toEqual(desired());
  });

  test("skips the write when the live object matches", async () => {
    const api = fakeApiserver();
    const skipped: string[] = [];
    const applier = new Applier({
      client: httpClient(api.transport),
      metrics: { applied: (_k, o) => skipped.push(o) },
    });
    const result = await applier.apply(desired(), { live: live() });
    expect(result).toMatchObject({ written: false });
    expect(api.requests).toHaveLength(0);
    expect(skipped).toEqual(["skipped"]);
  });

  test("does not write twice while the cache still shows the version before our write", async () => {
    const api = fakeApiserver();
    const applier = new Applier({ client: httpClient(api.transport) });
    const stale = live([]);
    expect((await applier.apply(desired(), { live: stale })).written).toBe(true);
    expect((await applier.apply(desired(), { live: stale })).written).toBe(false);
    // A different desired object is written even against the same stale cache.
    const changed = desired();
    // biome-ignore lint/suspicious/noExplicitAny: plain JSON fixture
    (changed.spec as any).replicas = 3;
    expect((await applier.apply(changed, { live: stale })).written).toBe(true);
    // Someone else changed the object after our write: compared in full again (and written).
    expect(
      (
        await applier.apply(changed, {
          live: { ...stale, metadata: { ...stale.metadata, resourceVersion: "999" } },
        })
      ).written,
    ).toBe(true);
    expect(api.requests).toHaveLength(3);
  });

  test("deferWhileCacheLags: a changed status is not written while the cache lacks our previous write", async () => {
    const api = fakeApiserver();
    const applier = new Applier({ client: httpClient(api.transport) });
    const app = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "a", namespace: "web", resourceVersion: "7" },
    };
    const opts = { live: app, deferWhileCacheLags: true };
    expect((await applier.applyStatus(app, { at: "12:00:00" }, opts)).written).toBe(true);
    // The same status against the same stale cache: held, and the caller learns it read a stale view.
    expect(await applier.applyStatus(app, { at: "12:00:00" }, opts)).toMatchObject({
      written: false,
      behind: true,
      reason: "just applied; cache not caught up",
    });
    // Same stale cache, a status that differs only by its time: deferred to the next reconcile.
    const deferred = await applier.applyStatus(app, { at: "12:00:01" }, opts);
    expect(deferred).toMatchObject({
      written: false,
      behind: true,
      reason: "our last write is not in the cache yet; its event reconciles again",
    });
    // Without the option the same call writes.
    expect((await applier.applyStatus(app, { at: "12:00:01" }, { live: app })).written).toBe(true);
    // Once the cache moves on, it is compared and written as usual.
    const fresh = { ...app, metadata: { ...app.metadata, resourceVersion: "999" } };
    const moved = await applier.applyStatus(fresh, { at: "12:00:02" }, { ...opts, live: fresh });
    expect(moved.written).toBe(true);
    expect(moved.behind).toBeUndefined();
    expect(api.requests).toHaveLength(3);
  });

  test("an object we just created is not written again while the cache has not shown it, for a while", async () => {
    const api = fakeApiserver();
    let now = 0;
    const applier = new Applier({ client: httpClient(api.transport), now: () => now });
    const opts = { deferWhileCacheLags: true };
    expect((await applier.apply(desired(), opts)).written).toBe(true);
    expect(await applier.apply(desired(), opts)).toMatchObject({
      written: false,
      deferred: true,
      reason: "just created; cache not caught up",
    });
    // Without the option (a caller that would not look again later), it is written at once.
    expect((await applier.apply(desired())).written).toBe(true);
    // Long after, an object still absent was deleted by someone: written again.
    now = 10_001;
    expect((await applier.apply(desired(), opts)).written).toBe(true);
    expect(api.requests).toHaveLength(3);
  });

  test("deferWhileCacheLags does not wait for an event a no-op write never causes", async () => {
    // The server answers with the same resourceVersion: nothing changed, no event will come.
    const api = fakeApiserver((req) => ({
      status: 200,
      body: { ...JSON.parse(req.body ?? "{}"), metadata: { name: "a", resourceVersion: "7" } },
    }));
    const applier = new Applier({ client: httpClient(api.transport) });
    const app = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "a", namespace: "web", resourceVersion: "7" },
    };
    const opts = { live: app, deferWhileCacheLags: true };
    expect((await applier.applyStatus(app, { at: "1" }, opts)).written).toBe(true);
    expect((await applier.applyStatus(app, { at: "2" }, opts)).written).toBe(true);
  });

  test("status goes through the /status subresource with SSA", async () => {
    const api = fakeApiserver();
    const applier = new Applier({ client: httpClient(api.transport) });
    const target: KubeObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d", namespace: "ns" },
    };
    await applier.applyStatus(target, { replicas: 1 });
    expect(api.requests[0]?.path).toBe("/apis/apps/v1/namespaces/ns/deployments/d/status");
    expect(JSON.parse(api.requests[0]?.body ?? "")).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d", namespace: "ns" },
      status: { replicas: 1 },
    });
  });

  test("deletes in the background with a uid precondition; a 404 is not an error", async () => {
    let status = 200;
    const api = fakeApiserver(() => ({ status, body: { kind: "Status", code: status } }));
    const applier = new Applier({ client: httpClient(api.transport) });
    const target: KubeObject = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "s", namespace: "ns", uid: "u9" },
    };
    expect(await applier.delete(target)).toBe(true);
    expect(api.requests[0]?.method).toBe("DELETE");
    expect(api.requests[0]?.path).toBe("/api/v1/namespaces/ns/services/s");
    expect(JSON.parse(api.requests[0]?.body ?? "")).toEqual({
      apiVersion: "v1",
      kind: "DeleteOptions",
      propagationPolicy: "Background",
      preconditions: { uid: "u9" },
    });
    status = 404;
    expect(await applier.delete(target)).toBe(false);
    status = 409;
    await expect(applier.delete(target)).rejects.toMatchObject({ code: 409 });
  });

  test("refuses to write when the write gate is closed, but still skips no-ops", async () => {
    const api = fakeApiserver();
    const applier = new Applier({ client: httpClient(api.transport), writeGate: () => false });
    await expect(applier.apply(desired())).rejects.toBeInstanceOf(NotLeaderError);
    expect((await applier.apply(desired(), { live: live() })).written).toBe(false);
    expect(api.requests).toHaveLength(0);
  });

  test("refuses to write once the reconcile's signal is aborted (workers stopped)", async () => {
    const api = fakeApiserver();
    const applier = new Applier({ client: httpClient(api.transport) });
    const signal = AbortSignal.abort();
    await expect(applier.apply(desired(), { signal })).rejects.toThrow();
    await expect(applier.delete(desired(), { signal })).rejects.toThrow();
    expect(api.requests).toHaveLength(0);
  });

  test("an unknown kind is an error naming the kind", async () => {
    const applier = new Applier({ client: httpClient(fakeApiserver().transport) });
    await expect(
      applier.apply({ apiVersion: "x.dev/v1", kind: "Thing", metadata: { name: "t" } }),
    ).rejects.toThrow(/Thing/);
  });
});
