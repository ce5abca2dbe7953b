import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, test } from "vitest";
import type { StatelessApp } from "../../../src/api/index.ts";
import { normalizeBinding } from "../../../src/app/bindings/index.ts";
import {
  BINDING_RETRY_MS,
  CACHE_LAG_RECHECK_MS,
  CHILD_KINDS,
  type ChildAction,
  type ChildKind,
  finishPlan,
  formatPlan,
  NAME_IN_USE_RETRY_MS,
  type Observation,
  type Plan,
  planApp,
  requeueAfterWrites,
  type Written,
} from "../../../src/app/reconcile/index.ts";
import {
  BINDINGS_HASH_ANNOTATION,
  desired,
  releaseJobName,
} from "../../../src/app/render/index.ts";
import type { KubeObject } from "../../../src/runtime/index.ts";
import { app } from "../../fixtures/apps.ts";
import { redis, sourceSecret } from "../bindings/fixtures.ts";

const UID = app().metadata.uid ?? "";
const NOW = Date.UTC(2026, 0, 1, 12);
const MANAGER = "stateless-operator";

/** An app with a web process serving a port, two replicas: a Deployment, a Service and a PDB. */
const web = (spec: Partial<StatelessApp["spec"]> = {}) =>
  app({
    processes: [{ name: "web", replicas: 2, ports: [{ name: "http", containerPort: 8080 }] }],
    ...spec,
  });

const resolvedRedis = () => {
  const normalized = normalizeBinding(
    redis(),
    sourceSecret({ host: "redis.web", port: "6379", password: "pw" }),
    { secretName: "shop-redis" },
  );
  if (!normalized.ok) throw new Error(normalized.error.message);
  return normalized.value;
};

const withBinding = (ready: boolean) =>
  ready
    ? {
        outcomes: [{ name: "sessions", type: "redis", secretName: "shop-binding-sessions" }],
        resolved: [resolvedRedis()],
        ready: true,
      }
    : {
        outcomes: [
          { name: "sessions", type: "redis", problem: 'Secret "shop-redis" does not exist' },
        ],
        resolved: [],
        ready: false,
      };

/** A child as the cache holds it: the rendered object, with our managedFields entry and `more`. */
function cachedChild(
  of: StatelessApp,
  kind: ChildKind,
  more: Record<string, unknown> = {},
  fields: Record<string, unknown> = { "f:spec": {} },
): KubeObject {
  const rendered = desired(of, { bindings: { resolved: [resolvedRedis()], hash: "h" } }).objects;
  const object = rendered.find((o) => o.kind === kind) as unknown as KubeObject;
  return {
    ...structuredClone(object),
    ...more,
    metadata: {
      ...structuredClone(object.metadata),
      resourceVersion: "7",
      managedFields: [
        { manager: MANAGER, operation: "Apply", apiVersion: object.apiVersion, fieldsV1: fields },
      ],
    },
  };
}

interface Seen {
  readonly app?: StatelessApp;
  readonly raw?: KubeObject;
  readonly invalid?: string[];
  readonly steady?: boolean;
  readonly bindings?: Observation["bindings"];
  readonly cached?: KubeObject[];
  readonly owned?: KubeObject[];
  /** Found by a lookup by name; every other name not cached was looked up and is free. */
  readonly lookedUp?: KubeObject[];
  /** No lookup has run yet: planApp asks for one for each rendered name the cache lacks. */
  readonly unlooked?: true;
  /** The kinds whose cache holds every object in scope (the operator: WHOLE_CACHE_KINDS). */
  readonly wholeKinds?: readonly ChildKind[];
  readonly pods?: V1Pod[];
}

function observation(seen: Seen = {}): Observation {
  const parsed = seen.app ?? web();
  const raw =
    seen.raw ??
    ({
      ...parsed,
      ...(seen.steady ? { status: { observedGeneration: parsed.metadata.generation } } : {}),
    } as unknown as KubeObject);
  const cached = new Map(
    (seen.cached ?? []).map((o) => [`${o.kind}|${o.metadata?.namespace}/${o.metadata?.name}`, o]),
  );
  return {
    raw,
    spec:
      seen.invalid === undefined
        ? { valid: true, app: seen.steady ? { ...parsed, status: {} } : parsed }
        : { valid: false, problems: seen.invalid },
    bindings: seen.bindings ?? { outcomes: [], resolved: [], ready: true },
    cached: (kind, key) => cached.get(`${kind}|${key}`),
    ...(seen.wholeKinds === undefined ? {} : { wholeKinds: new Set(seen.wholeKinds) }),
    owned: seen.owned ?? [],
    ...(seen.unlooked
      ? {}
      : {
          lookedUp: {
            get: (id: string) =>
              (seen.lookedUp ?? []).find((o) => `${o.kind}/${o.metadata?.name}` === id) ?? null,
          },
        }),
    pods: seen.pods ?? [],
    fieldManager: MANAGER,
    now: NOW,
  };
}

/** One line per child action: `apply Deployment/shop-web [drift]`, `keep …: why`, `delete …`. */
function steps(plan: Plan): string[] {
  return plan.children.map((c: ChildAction) => {
    const id = `${c.action} ${c.object.kind}/${c.object.metadata?.name}`;
    if (c.action !== "apply") return `${id}: ${c.action === "refuse" ? c.problem : c.reason}`;
    const flags = [
      ...(c.live === undefined ? [] : ["cached"]),
      ...(c.handOffReplicas === undefined ? [] : [`hand-off ${c.handOffReplicas}`]),
      ...(c.removeForbidden === undefined ? [] : [`forbidden ${c.removeForbidden.patch.length}`]),
      ...(c.reportDrift ? ["drift"] : []),
      ...(c.requires === undefined ? [] : [`after ${c.requires.join(", ")}`]),
    ];
    return flags.length === 0 ? id : `${id} [${flags.join(", ")}]`;
  });
}

const OTHER_UID = "7f3e2d1c-0000-4000-8000-000000000002";

/** Another team's object of that name: no owner, no operator label. */
const foreign = (kind: string, name: string): KubeObject => ({
  apiVersion: kind === "Secret" || kind === "Service" ? "v1" : "policy/v1",
  kind,
  metadata: { name, namespace: "web", resourceVersion: "3" },
});

/** `object` as another app (`app`, `uid`) controls it. */
const controlledBy = (object: KubeObject, app: string, uid: string): KubeObject => ({
  ...object,
  metadata: {
    ...object.metadata,
    ownerReferences: [
      {
        apiVersion: "twelvefactor.dev/v1alpha1",
        kind: "StatelessApp",
        name: app,
        uid,
        controller: true,
      },
    ],
  },
});

const owned = (kind: string, name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "v1",
  kind,
  metadata: {
    name,
    namespace: "web",
    ownerReferences: [
      {
        apiVersion: "twelvefactor.dev/v1alpha1",
        kind: "StatelessApp",
        name: "shop",
        uid: UID,
        controller: true,
      },
    ],
    ...extra,
  },
});

describe("planApp: the child actions, one row per branch of the reconciler", () => {
  const autoscaled = web({
    processes: [
      {
        name: "web",
        autoscale: { minReplicas: 2, maxReplicas: 5 },
        ports: [{ name: "http", containerPort: 8080 }],
      },
    ],
  });
  test.each<[string, Seen, string[]]>([
    [
      "a new app: every rendered child is applied, in render order",
      {},
      ["apply Deployment/shop-web", "apply Service/shop-web", "apply PodDisruptionBudget/shop-web"],
    ],
    [
      "a steady app (status at its generation): a write of a cached child is drift",
      { steady: true, cached: [cachedChild(web(), "Service")] },
      [
        "apply Deployment/shop-web",
        "apply Service/shop-web [cached, drift]",
        "apply PodDisruptionBudget/shop-web",
      ],
    ],
    [
      "a new generation: writes carry the change, they are no drift",
      { steady: false, cached: [cachedChild(web(), "Service")] },
      [
        "apply Deployment/shop-web",
        "apply Service/shop-web [cached]",
        "apply PodDisruptionBudget/shop-web",
      ],
    ],
    [
      "a Deployment whose bindings hash changed rolls its pods: no drift",
      {
        steady: true,
        cached: [cachedChild(web(), "Deployment", {}, { "f:spec": {} })].map((d) => {
          const copy = structuredClone(d) as {
            spec: { template: { metadata: { annotations?: Record<string, string> } } };
          };
          copy.spec.template.metadata.annotations = { [BINDINGS_HASH_ANNOTATION]: "old" };
          return copy as unknown as KubeObject;
        }),
      },
      [
        "apply Deployment/shop-web [cached]",
        "apply Service/shop-web",
        "apply PodDisruptionBudget/shop-web",
      ],
    ],
    [
      "a binding Secret is written on rotation, never reported as drift",
      {
        app: web({ backingServices: [redis()] }),
        steady: true,
        bindings: withBinding(true),
        cached: [cachedChild(web({ backingServices: [redis()] }), "Secret")],
      },
      [
        "apply Secret/shop-binding-sessions [cached]",
        "apply Deployment/shop-web [after Secret/shop-binding-sessions]",
        "apply Service/shop-web",
        "apply PodDisruptionBudget/shop-web",
      ],
    ],
    [
      "a child another app controls (their generated names collide): refused, the others applied",
      { cached: [controlledBy(cachedChild(web(), "Service"), "shop-web", OTHER_UID)] },
      [
        "apply Deployment/shop-web",
        `refuse Service/shop-web: Service shop-web already exists and is not this app's (it is controlled by StatelessApp shop-web (uid ${OTHER_UID})); rename the app, the process or the binding, or remove the other object`,
        "apply PodDisruptionBudget/shop-web",
      ],
    ],
    [
      "an object the caches lack, found by name without a controller (another team's): refused",
      { lookedUp: [foreign("Service", "shop-web"), foreign("PodDisruptionBudget", "shop-web")] },
      [
        "apply Deployment/shop-web",
        "refuse Service/shop-web: Service shop-web already exists and is not this app's (it has no controller); rename the app, the process or the binding, or remove the other object",
        "refuse PodDisruptionBudget/shop-web: PodDisruptionBudget shop-web already exists and is not this app's (it has no controller); rename the app, the process or the binding, or remove the other object",
      ],
    ],
    [
      "our child found by name (someone removed our label): applied over what was found",
      { lookedUp: [cachedChild(web(), "Service")] },
      [
        "apply Deployment/shop-web",
        "apply Service/shop-web [cached]",
        "apply PodDisruptionBudget/shop-web",
      ],
    ],
    [
      "another's Secret has the binding Secret's name: refused, and the Deployment waits for it",
      {
        app: web({ backingServices: [redis()] }),
        bindings: withBinding(true),
        cached: [foreign("Secret", "shop-binding-sessions")],
      },
      [
        "refuse Secret/shop-binding-sessions: Secret shop-binding-sessions already exists and is not this app's (it has no controller); rename the app, the process or the binding, or remove the other object",
        "apply Deployment/shop-web [after Secret/shop-binding-sessions]",
        "apply Service/shop-web",
        "apply PodDisruptionBudget/shop-web",
      ],
    ],
    [
      "paused: a cached child of another's is refused rather than reported as ours",
      {
        app: web({ paused: true }),
        unlooked: true,
        cached: [controlledBy(cachedChild(web(), "Service"), "shop-web", OTHER_UID)],
      },
      [
        "keep Deployment/shop-web: paused",
        `refuse Service/shop-web: Service shop-web already exists and is not this app's (it is controlled by StatelessApp shop-web (uid ${OTHER_UID})); rename the app, the process or the binding, or remove the other object`,
        "keep PodDisruptionBudget/shop-web: paused",
      ],
    ],
    [
      "paused: every child is kept as it is, nothing is deleted",
      { app: web({ paused: true }), owned: [owned("Service", "shop-old")] },
      [
        "keep Deployment/shop-web: paused",
        "keep Service/shop-web: paused",
        "keep PodDisruptionBudget/shop-web: paused",
      ],
    ],
    [
      "a broken binding freezes the Deployment and keeps the binding's Secret",
      {
        app: web({ backingServices: [redis()] }),
        bindings: withBinding(false),
        owned: [owned("Secret", "shop-binding-sessions")],
      },
      [
        "keep Deployment/shop-web: a binding is not ready",
        "apply Service/shop-web",
        "apply PodDisruptionBudget/shop-web",
      ],
    ],
    [
      "owned children the app no longer renders are deleted; others' and terminating ones are not",
      {
        owned: [
          owned("Service", "shop-worker"),
          owned("HorizontalPodAutoscaler", "shop-web", {
            deletionTimestamp: "2026-01-01T00:00:00Z",
          }),
          {
            ...owned("Deployment", "shop-other"),
            metadata: { name: "shop-other", namespace: "web", ownerReferences: [] },
          },
        ],
      },
      [
        "apply Deployment/shop-web",
        "apply Service/shop-web",
        "apply PodDisruptionBudget/shop-web",
        "delete Service/shop-worker: no longer rendered",
      ],
    ],
    [
      "a process that gets an autoscaler hands its replica count off first",
      {
        app: autoscaled,
        cached: [cachedChild(web(), "Deployment", {}, { "f:spec": { "f:replicas": {} } })],
      },
      [
        "apply Deployment/shop-web [cached, hand-off 2]",
        "apply Service/shop-web",
        "apply PodDisruptionBudget/shop-web",
        "apply HorizontalPodAutoscaler/shop-web",
      ],
    ],
    [
      "no hand-off when we never applied the replica count",
      { app: autoscaled, cached: [cachedChild(web(), "Deployment")] },
      [
        "apply Deployment/shop-web [cached]",
        "apply Service/shop-web",
        "apply PodDisruptionBudget/shop-web",
        "apply HorizontalPodAutoscaler/shop-web",
      ],
    ],
    [
      "what someone added that breaks the rule is removed before the apply",
      {
        cached: [
          cachedChild(web(), "Service", {
            spec: {
              ...(cachedChild(web(), "Service").spec as object),
              sessionAffinity: "ClientIP",
              sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
            },
          }),
        ],
      },
      [
        "apply Deployment/shop-web",
        "apply Service/shop-web [cached, forbidden 3]",
        "apply PodDisruptionBudget/shop-web",
      ],
    ],
    [
      "an invalid spec: nothing is applied, kept or deleted",
      { invalid: ["spec.image: Required"], owned: [owned("Service", "shop-old")] },
      [],
    ],
  ])("%s", (_, seen, expected) => {
    expect(steps(planApp(observation(seen)))).toEqual(expected);
  });

  test.each<[string, Seen, string[] | undefined]>([
    [
      "a new app: every rendered name is looked up before anything is decided",
      { unlooked: true },
      ["Deployment/shop-web", "Service/shop-web", "PodDisruptionBudget/shop-web"],
    ],
    [
      "a converged app: the caches know every name, nothing is looked up",
      {
        unlooked: true,
        cached: (["Deployment", "Service", "PodDisruptionBudget"] as const).map((k) =>
          cachedChild(web(), k),
        ),
      },
      undefined,
    ],
    [
      "a Deployment frozen behind a broken binding is not written, so not looked up",
      { app: web({ backingServices: [redis()] }), bindings: withBinding(false), unlooked: true },
      ["Service/shop-web", "PodDisruptionBudget/shop-web"],
    ],
    [
      "paused: nothing is written, nothing looked up",
      { app: web({ paused: true }), unlooked: true },
      undefined,
    ],
    [
      "a new app with Deployments and Services cached whole: only the other kinds are looked up",
      { unlooked: true, wholeKinds: ["Secret", "Deployment", "Service"] },
      ["PodDisruptionBudget/shop-web"],
    ],
    [
      "a new app whose kinds are all cached whole: nothing is looked up",
      { unlooked: true, wholeKinds: [...CHILD_KINDS] },
      undefined,
    ],
  ])("lookups: %s", (_, seen, expected) => {
    const plan = planApp(observation(seen));
    expect(plan.lookUp?.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual(expected);
    if (expected !== undefined) expect(plan.children).toEqual([]);
  });

  test("a kind cached whole: a name it lacks is free and written; another's stub holding it is refused", () => {
    const whole = { unlooked: true, wholeKinds: [...CHILD_KINDS] } as const;
    expect(steps(planApp(observation(whole)))).toEqual([
      "apply Deployment/shop-web",
      "apply Service/shop-web",
      "apply PodDisruptionBudget/shop-web",
    ]);
    const stub: KubeObject = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "shop-web", namespace: "web", uid: "theirs", resourceVersion: "7" },
    };
    const plan = planApp(observation({ ...whole, cached: [stub] }));
    expect(steps(plan)).toEqual([
      "apply Deployment/shop-web",
      "refuse Service/shop-web: Service shop-web already exists and is not this app's (it has no controller); rename the app, the process or the binding, or remove the other object",
      "apply PodDisruptionBudget/shop-web",
    ]);
  });

  test("maxPodLifetime plans a look at each process type's pods; not behind a broken binding", () => {
    const recycled = web({ maxPodLifetime: "24h" });
    expect(planApp(observation({ app: recycled })).recycle).toEqual({
      maxLifetimeMs: 86_400_000,
      processes: [
        {
          name: "web",
          deployment: "Deployment/shop-web",
          namespace: "web",
          labelSelector: "app.kubernetes.io/instance=shop,app.kubernetes.io/component=web",
        },
      ],
    });
    const broken = web({ maxPodLifetime: "24h", backingServices: [redis()] });
    expect(
      planApp(observation({ app: broken, bindings: withBinding(false) })).recycle,
    ).toBeUndefined();
    expect(
      planApp(observation({ app: web({ maxPodLifetime: "24h", paused: true }) })).recycle,
    ).toBeUndefined();
  });
});

/** A Deployment as the API server returns it after a write, with `status`. */
const deploymentAfterWrite = (generation: number, status: Record<string, number>): KubeObject => ({
  ...cachedChild(web(), "Deployment"),
  metadata: { name: "shop-web", namespace: "web", generation },
  status: { observedGeneration: generation, ...status },
});
const rolledOut = { replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 };

function finish(seen: Seen, written: Partial<Written> = {}) {
  const observed = observation(seen);
  return finishPlan(planApp(observed), observed, {
    live: new Map(),
    pods: new Map(),
    now: NOW,
    ...written,
  });
}

const condition = (plan: Plan, type: string) =>
  plan.status?.conditions?.find((c) => c.type === type);
const events = (plan: Plan) => plan.events.map((e) => `${e.type} ${e.reason}`);

describe("finishPlan: status, events, evictions and when to look again", () => {
  test("an invalid spec: the status says what is wrong, one InvalidSpec Warning, no requeue", () => {
    const plan = finish({ invalid: ["spec.image: Required"] });
    expect(condition(plan, "Ready")).toMatchObject({ status: "False", reason: "InvalidSpec" });
    expect(condition(plan, "Stalled")).toMatchObject({ status: "True", reason: "InvalidSpec" });
    expect(events(plan)).toEqual(["Warning InvalidSpec"]);
    expect([plan.requeueAfterMs, plan.cacheLagRecheckMs]).toEqual([undefined, undefined]);
  });

  test("the status reports the Deployment the write returned: a new generation is Progressing", () => {
    const plan = finish(
      {},
      {
        live: new Map([
          ["Deployment/shop-web", deploymentAfterWrite(2, { ...rolledOut, observedGeneration: 1 })],
        ]),
      },
    );
    expect(condition(plan, "Ready")).toMatchObject({ status: "False", reason: "Progressing" });
    expect(condition(plan, "Reconciling")).toMatchObject({ status: "True" });
    expect(plan.requeueAfterMs).toBeUndefined();
    expect(plan.cacheLagRecheckMs).toBe(CACHE_LAG_RECHECK_MS);
  });

  test("becoming Ready is a Normal Event; leaving Ready a Warning", () => {
    const live = new Map([["Deployment/shop-web", deploymentAfterWrite(1, rolledOut)]]);
    const ready = finish({}, { live });
    expect(condition(ready, "Ready")).toMatchObject({ status: "True", reason: "Available" });
    expect(events(ready)).toEqual(["Normal Ready"]);

    const wasReady = web();
    const before = {
      ...wasReady,
      status: {
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "Available",
            message: "",
            lastTransitionTime: "2026-01-01T00:00:00Z",
          },
        ],
      },
    } as StatelessApp;
    const observed = { ...observation(), spec: { valid: true as const, app: before } };
    const lost = finishPlan(planApp(observed), observed, {
      live: new Map(),
      pods: new Map(),
      now: NOW,
    });
    expect(events(lost)).toEqual(["Warning NotReady"]);
    expect(lost.events[0]?.message).toMatch(/^Progressing: /);
  });

  test("failing pods of a process not rolled out: Ready=False PodsFailing with the kubelet's reason, one Warning per new line", () => {
    const pod = (name: string, rs: string, reason: string, message: string) =>
      ({
        metadata: {
          name,
          namespace: "web",
          labels: { "pod-template-hash": "h1" },
          ownerReferences: [
            { apiVersion: "apps/v1", kind: "ReplicaSet", name: rs, uid: "r", controller: true },
          ],
        },
        status: {
          phase: "Pending",
          containerStatuses: [{ name: "app", state: { waiting: { reason, message } } }],
        },
      }) as unknown as V1Pod;
    const pull = pod(
      "shop-web-h1-a",
      "shop-web-h1",
      "ImagePullBackOff",
      'Back-off pulling image "x"',
    );
    // Same labels, another ReplicaSet: not this app's pod, never reported.
    const foreignPod = pod("intruder", "intruder-h1", "CrashLoopBackOff", "not ours");
    const live = new Map([["Deployment/shop-web", deploymentAfterWrite(1, { replicas: 2 })]]);
    const line =
      'web: ImagePullBackOff: Back-off pulling image "x" (pod shop-web-h1-a, container app)';
    const plan = finish({ pods: [pull, foreignPod] }, { live });
    expect(condition(plan, "Ready")).toMatchObject({
      status: "False",
      reason: "PodsFailing",
      message: `rolling out: web 0/2; ${line}`,
    });
    expect(condition(plan, "Reconciling")).toMatchObject({ status: "True", reason: "Progressing" });
    expect(plan.events).toEqual([
      { type: "Warning", reason: "PodFailing", message: line, transition: true },
    ]);
    // The status it wrote, seen again: no second Warning.
    const again = finish(
      { pods: [pull], app: { ...web(), status: plan.status } as StatelessApp },
      { live },
    );
    expect(again.events).toEqual([]);
    // The pod recovers: back to Progressing, the failure gone.
    const recovered = finish(
      { pods: [], app: { ...web(), status: plan.status } as StatelessApp },
      { live },
    );
    expect(condition(recovered, "Ready")).toMatchObject({
      reason: "Progressing",
      message: "rolling out: web 0/2",
    });
    // A rolled-out process reports no pod failure (a pod of an old ReplicaSet is on its way out).
    const done = finish(
      { pods: [pull] },
      { live: new Map([["Deployment/shop-web", deploymentAfterWrite(1, rolledOut)]]) },
    );
    expect(condition(done, "Ready")).toMatchObject({ status: "True", reason: "Available" });
  });

  test("a child the API server rejected stalls the app with its reason, and a Warning says so", () => {
    const plan = finish({}, { applyError: "Service shop-web: spec.ports[0].port: Invalid value" });
    expect(condition(plan, "Stalled")).toMatchObject({
      status: "True",
      reason: "ApplyFailed",
      message: "Service shop-web: spec.ports[0].port: Invalid value",
    });
    expect(condition(plan, "Ready")).toMatchObject({ status: "False", reason: "ApplyFailed" });
    expect(plan.events).toContainEqual({
      type: "Warning",
      reason: "ApplyFailed",
      message: "Service shop-web: spec.ports[0].port: Invalid value",
    });
  });

  test("a child write that fails and is retried: Ready=False ApplyFailed and Reconciling name the child and the API server's message, with a Warning; not Stalled", () => {
    const message =
      "Service shop-web: failed to allocate a serviceIP: range is full (HTTP 500 InternalError)";
    const plan = finish({}, { applyRetrying: message });
    expect(condition(plan, "Ready")).toMatchObject({
      status: "False",
      reason: "ApplyFailed",
      message: `${message}; retrying`,
    });
    expect(condition(plan, "Reconciling")).toMatchObject({
      status: "True",
      reason: "ApplyFailed",
      message: `${message}; retrying`,
    });
    expect(condition(plan, "Stalled")).toBeUndefined();
    expect(plan.events).toContainEqual({ type: "Warning", reason: "ApplyFailed", message });
  });

  test("a name in use: Ready=False, Stalled NameInUse naming kind and name, one Warning, a look again in 30 s", () => {
    const seen: Seen = { lookedUp: [foreign("Service", "shop-web")] };
    const plan = finish(seen);
    const message =
      "Service shop-web already exists and is not this app's (it has no controller); rename the app, the process or the binding, or remove the other object";
    expect(condition(plan, "Ready")).toMatchObject({
      status: "False",
      reason: "NameInUse",
      message,
    });
    expect(condition(plan, "Stalled")).toMatchObject({
      status: "True",
      reason: "NameInUse",
      message,
    });
    expect(plan.events).toEqual([
      { type: "Warning", reason: "NameInUse", message, transition: true },
    ]);
    expect(plan.requeueAfterMs).toBe(NAME_IN_USE_RETRY_MS);

    // The next retry finds the status it wrote: no second Event.
    const again = finish({
      ...seen,
      app: { ...web(), status: plan.status } as StatelessApp,
    });
    expect(condition(again, "Stalled")?.reason).toBe("NameInUse");
    expect(again.events).toEqual([]);
    // Another name in use is news.
    const other = finish({
      lookedUp: [foreign("PodDisruptionBudget", "shop-web")],
      app: { ...web(), status: plan.status } as StatelessApp,
    });
    expect(events(other)).toEqual(["Warning NameInUse"]);
  });

  test("another's Secret has the binding Secret's name: BindingsReady=False NameInUse, never mounted", () => {
    const plan = finish({
      app: web({ backingServices: [redis()] }),
      bindings: withBinding(true),
      cached: [foreign("Secret", "shop-binding-sessions")],
    });
    expect(condition(plan, "BindingsReady")).toMatchObject({
      status: "False",
      reason: "NameInUse",
    });
    expect(condition(plan, "Stalled")).toMatchObject({ reason: "NameInUse" });
    expect(plan.status?.bindings).toEqual([
      { name: "sessions", type: "redis", secretName: "shop-binding-sessions", ready: false },
    ]);
    expect(plan.requeueAfterMs).toBe(BINDING_RETRY_MS);
  });

  test("a binding Secret the API server rejected: BindingsReady=False with its reason", () => {
    const reason =
      'Secret "shop-binding-sessions" is invalid: data: Too long: must have at most 1048576 bytes';
    const plan = finish(
      { app: web({ backingServices: [redis()] }), bindings: withBinding(true) },
      {
        applyError: `Secret shop-binding-sessions: ${reason}`,
        rejected: new Map([["Secret/shop-binding-sessions", reason]]),
      },
    );
    expect(condition(plan, "BindingsReady")).toMatchObject({
      status: "False",
      reason: "SecretRejected",
      message: `binding Secret shop-binding-sessions was not written: ${reason}`,
    });
    expect(condition(plan, "Ready")).toMatchObject({ status: "False" });
    expect(plan.requeueAfterMs).toBe(BINDING_RETRY_MS);
  });

  test("a broken binding: BindingNotReady Warnings and a retry in 30 s, never the cache-lag recheck", () => {
    const plan = finish({ app: web({ backingServices: [redis()] }), bindings: withBinding(false) });
    expect(condition(plan, "BindingsReady")).toMatchObject({ status: "False" });
    expect(events(plan)).toEqual(["Warning BindingNotReady"]);
    expect(plan.requeueAfterMs).toBe(BINDING_RETRY_MS);
    expect(requeueAfterWrites(plan, true)).toBe(BINDING_RETRY_MS);
  });

  test("shadowed binding env is a render Warning, recorded after the status", () => {
    const plan = finish({
      app: web({ backingServices: [redis()], env: [{ name: "SESSIONS_HOST", value: "x" }] }),
      bindings: withBinding(true),
    });
    expect(events(plan)).toContain("Warning BindingEnvShadowed");
  });

  /** A pod of the ReplicaSet `replicaSet` (the Deployment controller's `<deployment>-<hash>`). */
  const pod = (
    name: string,
    startedHoursAgo: number,
    replicaSet = "shop-web-5d8f9c7b6d",
  ): V1Pod => ({
    metadata: {
      name,
      namespace: "web",
      labels: { "pod-template-hash": "5d8f9c7b6d" },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: replicaSet,
          uid: "rs",
          controller: true,
        },
      ],
    },
    status: { phase: "Running", startTime: new Date(NOW - startedHoursAgo * 3_600_000) },
  });

  test("maxPodLifetime: pods the label selector finds that are not our Deployment's are never evicted", () => {
    const plan = finish(
      { app: web({ maxPodLifetime: "24h" }) },
      {
        live: new Map([["Deployment/shop-web", deploymentAfterWrite(1, rolledOut)]]),
        pods: new Map([
          [
            "web",
            [
              pod("payments-a", 30, "shop-web-x-5d8f9c7b6d"),
              { ...pod("bare", 30), metadata: { name: "bare", namespace: "web" } },
              pod("shop-web-b", 2),
            ],
          ],
        ]),
      },
    );
    expect(plan.evictions).toEqual([]);
    expect(plan.requeueAfterMs).toBe(22 * 3_600_000);
  });

  test("maxPodLifetime: the oldest expired pod is evicted when the process type is at full strength", () => {
    const plan = finish(
      { app: web({ maxPodLifetime: "24h" }) },
      {
        live: new Map([["Deployment/shop-web", deploymentAfterWrite(1, rolledOut)]]),
        pods: new Map([["web", [pod("shop-web-a", 30), pod("shop-web-b", 2)]]]),
      },
    );
    expect(plan.evictions).toEqual([
      {
        process: "web",
        pod: { namespace: "web", name: "shop-web-a" },
        message: "evicted pod shop-web-a of web: older than maxPodLifetime 24h",
      },
    ]);
    expect(plan.requeueAfterMs).toBe(5_000);
  });

  test("maxPodLifetime: no eviction while a replacement is not yet available; no pods, no requeue", () => {
    const waiting = finish(
      { app: web({ maxPodLifetime: "24h" }) },
      {
        live: new Map([
          ["Deployment/shop-web", deploymentAfterWrite(1, { ...rolledOut, availableReplicas: 1 })],
        ]),
        pods: new Map([["web", [pod("shop-web-a", 30), pod("shop-web-b", 2)]]]),
      },
    );
    expect(waiting.evictions).toEqual([]);
    expect(waiting.requeueAfterMs).toBe(5_000);
    const young = finish(
      { app: web({ maxPodLifetime: "24h" }) },
      {
        live: new Map([["Deployment/shop-web", deploymentAfterWrite(1, rolledOut)]]),
        pods: new Map([["web", [pod("shop-web-a", 23)]]]),
      },
    );
    expect(young.requeueAfterMs).toBe(3_600_000);
    expect(finish({ app: web({ maxPodLifetime: "24h" }) }).requeueAfterMs).toBeUndefined();
  });

  test("a write that waited for the cache brings the app back within 2 s", () => {
    const plan = finish({});
    expect(requeueAfterWrites(plan, false)).toBeUndefined();
    expect(requeueAfterWrites(plan, true)).toBe(CACHE_LAG_RECHECK_MS);
    expect(requeueAfterWrites({ ...plan, requeueAfterMs: 500 }, true)).toBe(500);
    expect(requeueAfterWrites({ ...plan, requeueAfterMs: 60_000 }, true)).toBe(
      CACHE_LAG_RECHECK_MS,
    );
  });
});

describe("formatPlan", () => {
  test("prints one line per step, names the objects and never the binding data", () => {
    const text = formatPlan(
      finish(
        {
          app: web({ backingServices: [redis()] }),
          bindings: withBinding(true),
          owned: [owned("Service", "shop-worker")],
          lookedUp: [foreign("PodDisruptionBudget", "shop-web")],
        },
        { live: new Map([["Deployment/shop-web", deploymentAfterWrite(1, rolledOut)]]) },
      ),
    );
    expect(text.split("\n")).toEqual([
      "plan for web/shop",
      "  apply Secret shop-binding-sessions (create)",
      "  apply Deployment shop-web (create, only once Secret/shop-binding-sessions is in place)",
      "  apply Service shop-web (create)",
      "  refuse PodDisruptionBudget shop-web (name in use): PodDisruptionBudget shop-web already exists and is not this app's (it has no controller); rename the app, the process or the binding, or remove the other object",
      "  delete Service shop-worker: no longer rendered",
      expect.stringMatching(
        /^ {2}status: Ready=False NameInUse, Stalled=True NameInUse, BindingsReady=True \w+ \(web 2\/2\)$/,
      ),
      expect.stringMatching(
        /^ {2}event Warning NameInUse: PodDisruptionBudget shop-web already exists/,
      ),
      "  then: look again in 30000 ms",
    ]);
    expect(text).not.toContain("pw");
  });
});

describe("the release phase gates the rollout", () => {
  const migrate = { command: ["bin/migrate"] };
  const OLD = "registry.example.com/shop:1.4.1";
  const released = (spec: Partial<StatelessApp["spec"]> = {}) => web({ release: migrate, ...spec });
  const job = (of: StatelessApp = released()) => releaseJobName(of, of.spec.release ?? migrate);
  /** The app's release Job as the cache holds it, with these Job conditions. */
  const jobWith = (of: StatelessApp, ...conditions: Record<string, string>[]) => ({
    ...cachedChild(of, "Job"),
    status: { conditions },
  });
  const complete = { type: "Complete", status: "True" };
  const failed = {
    type: "Failed",
    status: "True",
    reason: "BackoffLimitExceeded",
    message: "Job has reached the specified backoff limit",
  };
  /** The Deployment of the image before: what keeps serving while the release runs. */
  const oldDeployment = () => cachedChild(released({ image: OLD }), "Deployment");
  const created = (o: KubeObject, at: string): KubeObject => ({
    ...o,
    metadata: { ...o.metadata, creationTimestamp: at },
  });
  const current = job();

  test.each<[string, Seen, string[], string]>([
    [
      "a new app: the Job is created, its Deployment waits to exist",
      { app: released() },
      [
        `keep Deployment/shop-web: release ${current} running`,
        "apply Service/shop-web",
        "apply PodDisruptionBudget/shop-web",
        `apply Job/${current}`,
      ],
      "Running",
    ],
    [
      "a new image, no Job yet: the Job is created, the old Deployment is untouched",
      { app: released(), cached: [oldDeployment()] },
      [
        `keep Deployment/shop-web: release ${current} running`,
        "apply Service/shop-web",
        "apply PodDisruptionBudget/shop-web",
        `apply Job/${current}`,
      ],
      "Running",
    ],
    [
      "the Job runs: the old Deployment is held, the Job is never re-applied",
      { app: released(), cached: [oldDeployment(), jobWith(released())] },
      [
        `keep Deployment/shop-web: release ${current} running`,
        "apply Service/shop-web",
        "apply PodDisruptionBudget/shop-web",
        `keep Job/${current}: a release Job is never changed`,
      ],
      "Running",
    ],
    [
      "the Job succeeded: the Deployment rolls",
      { app: released(), cached: [oldDeployment(), jobWith(released(), complete)] },
      [
        "apply Deployment/shop-web [cached]",
        "apply Service/shop-web",
        "apply PodDisruptionBudget/shop-web",
        `keep Job/${current}: a release Job is never changed`,
      ],
      "Succeeded",
    ],
    [
      "the Job failed: nothing rolls",
      { app: released(), cached: [oldDeployment(), jobWith(released(), failed)] },
      [
        `keep Deployment/shop-web: release ${current} failed`,
        "apply Service/shop-web",
        "apply PodDisruptionBudget/shop-web",
        `keep Job/${current}: a release Job is never changed`,
      ],
      "Failed",
    ],
    [
      "the release runs and the template is unchanged (a replica count): the Deployment is applied",
      {
        app: released({
          processes: [{ name: "web", replicas: 3, ports: [{ name: "http", containerPort: 8080 }] }],
        }),
        cached: [cachedChild(released(), "Deployment")],
      },
      [
        "apply Deployment/shop-web [cached]",
        "apply Service/shop-web",
        "apply PodDisruptionBudget/shop-web",
        `apply Job/${current}`,
      ],
      "Running",
    ],
  ])("%s", (_what, seen, expected, state) => {
    const plan = planApp(observation(seen));
    expect(steps(plan)).toEqual(expected);
    expect(plan.release).toMatchObject({ image: released().spec.image, job: current, state });
  });

  test("the held rollout that proceeds once the release succeeded is not drift; a later change of the Deployment is", () => {
    const cached = [oldDeployment(), jobWith(released(), complete)];
    const raw = (state: string) =>
      ({
        ...released(),
        status: {
          observedGeneration: 1,
          release: { image: released().spec.image, job: current, state },
        },
      }) as unknown as KubeObject;
    const proceeds = planApp(observation({ app: released(), raw: raw("Running"), cached }));
    expect(steps(proceeds)[0]).toBe("apply Deployment/shop-web [cached]");
    const drifted = planApp(observation({ app: released(), raw: raw("Succeeded"), cached }));
    expect(steps(drifted)[0]).toBe("apply Deployment/shop-web [cached, drift]");
  });

  test("a fixed release spec is a new release: a new Job, the failed one kept, the Deployment still held", () => {
    const fixed = released({ release: { command: ["bin/migrate", "--fixed"] } });
    const broken = jobWith(released(), failed);
    const plan = planApp(
      observation({ app: fixed, cached: [oldDeployment(), broken], owned: [broken] }),
    );
    expect(job(fixed)).not.toBe(current);
    expect(steps(plan)).toEqual([
      `keep Deployment/shop-web: release ${job(fixed)} running`,
      "apply Service/shop-web",
      "apply PodDisruptionBudget/shop-web",
      `apply Job/${job(fixed)}`,
    ]);
    expect(plan.release?.state).toBe("Running");
  });

  test("the last 3 release Jobs are kept, the older ones deleted", () => {
    const old = ["a", "b", "c", "d"].map((n, i) =>
      created(owned("Job", `shop-release-old${n}`), `2026-01-0${i + 1}T00:00:00Z`),
    );
    const now = created(jobWith(released(), complete), "2026-01-09T00:00:00Z");
    const plan = planApp(
      observation({ app: released(), cached: [oldDeployment(), now], owned: [...old, now] }),
    );
    expect(steps(plan).filter((s) => s.startsWith("delete"))).toEqual([
      "delete Job/shop-release-olda: no longer rendered",
      "delete Job/shop-release-oldb: no longer rendered",
    ]);
  });

  test("a failed Job: the log to read is the newest pod's the Job controls by uid, in its namespace, that did not succeed", () => {
    const failedJob = {
      ...jobWith(released(), failed),
      metadata: { ...jobWith(released(), failed).metadata, uid: "job-uid" },
    };
    const pod = (
      name: string,
      at: string,
      more: { namespace?: string; uid?: string; phase?: string; kind?: string } = {},
    ) =>
      ({
        metadata: {
          name,
          namespace: more.namespace ?? "web",
          creationTimestamp: at,
          ownerReferences: [
            {
              apiVersion: "batch/v1",
              kind: more.kind ?? "Job",
              name: current,
              uid: more.uid ?? "job-uid",
              controller: true,
            },
          ],
        },
        status: { phase: more.phase ?? "Failed" },
      }) as unknown as V1Pod;
    const plan = (pods: V1Pod[]) =>
      planApp(observation({ app: released(), cached: [oldDeployment(), failedJob], pods })).release
        ?.logOf;
    expect(
      plan([
        pod("first", "2026-01-01T00:00:00Z"),
        pod("last", "2026-01-01T00:00:10Z"),
        pod("other-job", "2026-01-01T00:01:00Z", { uid: "another" }),
        pod("other-namespace", "2026-01-01T00:01:00Z", { namespace: "payments" }),
        pod("not-a-job", "2026-01-01T00:01:00Z", { kind: "ReplicaSet" }),
        pod("succeeded", "2026-01-01T00:01:00Z", { phase: "Succeeded" }),
      ]),
    ).toEqual({ jobUid: "job-uid", namespace: "web", pod: "last" });
    expect(plan([pod("other-job", "2026-01-01T00:01:00Z", { uid: "another" })])).toBeUndefined();
    // A Job that runs or succeeded: no log is read.
    expect(
      planApp(
        observation({
          app: released(),
          cached: [oldDeployment(), { ...failedJob, status: { conditions: [complete] } }],
          pods: [pod("last", "2026-01-01T00:00:10Z")],
        }),
      ).release?.logOf,
    ).toBeUndefined();
  });

  test("another's Job of that name: NameInUse, nothing rolls", () => {
    const plan = planApp(
      observation({
        app: released(),
        cached: [oldDeployment()],
        lookedUp: [foreign("Job", current)],
      }),
    );
    expect(steps(plan)[0]).toBe(`keep Deployment/shop-web: release ${current} running`);
    expect(steps(plan)[3]).toMatch(
      new RegExp(`^refuse Job/${current}: Job ${current} already exists`),
    );
  });

  test("the status: ReleaseRunning while it runs, Stalled ReleaseFailed with the Job's reason, status.release", () => {
    const running = finish({ app: released(), cached: [oldDeployment(), jobWith(released())] });
    const message = `release ${current} running; web 0/2`;
    expect(condition(running, "Ready")).toMatchObject({
      status: "False",
      reason: "ReleaseRunning",
      message,
    });
    expect(condition(running, "Reconciling")).toMatchObject({
      status: "True",
      reason: "ReleaseRunning",
      message,
    });
    expect(running.status?.release).toEqual({
      image: released().spec.image,
      job: current,
      state: "Running",
    });

    const broken = finish({
      app: released(),
      cached: [oldDeployment(), jobWith(released(), failed)],
    });
    expect(condition(broken, "Ready")).toMatchObject({ status: "False", reason: "ReleaseFailed" });
    expect(condition(broken, "Stalled")).toMatchObject({
      status: "True",
      reason: "ReleaseFailed",
      message:
        "release " +
        current +
        " failed (BackoffLimitExceeded: Job has reached the specified backoff limit); nothing rolls until spec.image or spec.release changes",
    });
    expect(broken.status?.release?.state).toBe("Failed");
    expect(events(broken)).toContain("Warning ReleaseFailed");
    expect(events(running)).not.toContain("Warning ReleaseFailed");

    const done = finish(
      { app: released(), cached: [oldDeployment(), jobWith(released(), complete)] },
      { live: new Map([["Deployment/shop-web", deploymentAfterWrite(1, rolledOut)]]) },
    );
    expect(condition(done, "Ready")).toMatchObject({ status: "True", reason: "Available" });
    expect(done.status?.release?.state).toBe("Succeeded");
  });
});
