import { describe, expect, test } from "vitest";
import type { StatelessApp } from "../../../src/api/index.ts";
import {
  CHILD_KINDS,
  type ChildKind,
  NAME_IN_USE_RETRY_MS,
  OWNER_INDEX,
  PODS_BY_APP,
  REPLICAS_HANDOFF_MANAGER,
  type ReconcileDeps,
  ReleaseLogs,
  reconcileApp,
} from "../../../src/app/reconcile/index.ts";
import { desired } from "../../../src/app/render/index.ts";
import { STATELESS_APP_RESOURCE } from "../../../src/app/watches.ts";
import { createLogger } from "../../../src/platform/logging.ts";
import {
  Applier,
  apiError,
  type Client,
  KubeApiError,
  type KubeObject,
  type ReconcileContext,
  ResourceRegistry,
  realClock,
  Store,
  silentLogger,
} from "../../../src/runtime/index.ts";
import { app } from "../../fixtures/apps.ts";
import { redis, sourceSecret } from "../bindings/fixtures.ts";

/**
 * A client that records every write as `verb Kind name [manager]` and every read by name as
 * `get Kind name`, answers writes with the body, and finds `existing` objects by name.
 */
function fakeClient(
  fail: (verb: string, object: KubeObject) => Error | undefined = () => undefined,
  existing: readonly KubeObject[] = [],
  logs: (pod: string) => string | Error | undefined = () => "",
) {
  const calls: string[] = [];
  const statuses: KubeObject[] = [];
  const reads: string[] = [];
  let rv = 100;
  const answer = (verb: string, object: KubeObject, manager?: string) => {
    calls.push(`${verb} ${object.kind} ${object.metadata?.name}${manager ? ` ${manager}` : ""}`);
    const error = fail(verb, object);
    if (error !== undefined) throw error;
    return { ...object, metadata: { ...object.metadata, resourceVersion: String(++rv) } };
  };
  const client: Client = {
    get: async <T extends KubeObject>(type: { kind: string }, ref: { name: string }) => {
      reads.push(`get ${type.kind} ${ref.name}`);
      return existing.find((o) => o.kind === type.kind && o.metadata?.name === ref.name) as
        | T
        | undefined;
    },
    list: async () => [],
    apply: async (_type, object, options) =>
      answer(
        "apply",
        object,
        options.fieldManager === REPLICAS_HANDOFF_MANAGER ? "hand-off" : undefined,
      ),
    applyStatus: async (_type, object) => {
      statuses.push(object);
      return answer("apply-status", object);
    },
    patch: async (type, ref, patch) => {
      calls.push(`patch ${type.kind} ${ref.name} (${patch.length} ops)`);
      return { kind: type.kind, metadata: { name: ref.name, namespace: ref.namespace } };
    },
    delete: async (type, ref) => {
      calls.push(`delete ${type.kind} ${ref.name}`);
      const error = fail("delete", { kind: type.kind, metadata: { name: ref.name } });
      if (error !== undefined) throw error;
      return true;
    },
    evict: async () => true,
    podLog: async (ref, options) => {
      reads.push(
        `log ${ref.namespace}/${ref.name} ${options.container} tail=${options.tailLines} limit=${options.limitBytes}`,
      );
      const log = logs(ref.name);
      if (log instanceof Error) throw log;
      return log;
    },
    discover: async () => [],
    apiGroups: async () => [],
    create: async () => {
      throw new Error("the reconciler creates nothing");
    },
    listWatch: () => {
      throw new Error("no watches here");
    },
  };
  return { client, calls, statuses, reads };
}

function setup(
  subject: StatelessApp,
  options: {
    fail?: Parameters<typeof fakeClient>[0];
    children?: KubeObject[];
    /** Objects the caches lack that a lookup by name finds. */
    existing?: KubeObject[];
    secrets?: ReconcileDeps["secrets"];
    logger?: ReconcileContext["logger"];
    /** The pod cache: the app's pods as trimPod keeps them. */
    pods?: KubeObject[];
    /** Each pod's log, the error reading it throws, or undefined: no node to read it from. */
    logs?: (pod: string) => string | Error | undefined;
  } = {},
) {
  const { client, calls, statuses, reads } = fakeClient(
    options.fail,
    options.existing,
    options.logs,
  );
  const apps = new Store();
  apps.set(subject as unknown as KubeObject);
  const children = Object.fromEntries(
    CHILD_KINDS.map((kind) => {
      const store = new Store().addIndex(OWNER_INDEX, (o) =>
        (o.metadata?.ownerReferences ?? []).filter((r) => r.controller).map((r) => r.uid),
      );
      for (const child of options.children ?? []) if (child.kind === kind) store.set(child);
      return [kind, store];
    }),
  ) as Record<ChildKind, Store>;
  const events: string[] = [];
  const messages: string[] = [];
  const pods = new Store().addIndex(PODS_BY_APP, (o) => [
    `${o.metadata?.namespace}/${o.metadata?.labels?.["app.kubernetes.io/instance"]}`,
  ]);
  for (const pod of options.pods ?? []) pods.set(pod);
  const releaseLogs = new ReleaseLogs(client);
  const deps = {
    apps,
    children,
    pods,
    applier: new Applier({
      client,
      registry: new ResourceRegistry().register(STATELESS_APP_RESOURCE),
    }),
    client,
    secrets: options.secrets ?? { read: async () => undefined },
    configMaps: new Store(),
    provisioned: { lookup: () => ({ state: "absent" as const }) },
    events: {
      normal: (_o: KubeObject, reason: string, message: string) => {
        events.push(`Normal ${reason}`);
        messages.push(`Normal ${reason}: ${message}`);
      },
      warning: (_o: KubeObject, reason: string, message: string) => {
        events.push(`Warning ${reason}`);
        messages.push(`Warning ${reason}: ${message}`);
      },
    },
    releaseLogs,
    clock: realClock,
  };
  const ctx: ReconcileContext = {
    key: "web/shop",
    reconcileId: "r1",
    logger: options.logger ?? silentLogger,
    signal: new AbortController().signal,
  };
  return {
    run: () => reconcileApp("web/shop", ctx, deps),
    calls,
    reads,
    events,
    messages,
    statuses,
    apps,
    releaseLogs,
  };
}

const web = (spec: Partial<StatelessApp["spec"]> = {}) =>
  app({
    processes: [{ name: "web", replicas: 2, ports: [{ name: "http", containerPort: 8080 }] }],
    ...spec,
  });

describe("reconcileApp carries out the plan", () => {
  test("a new app: its children are applied in order, then the status", async () => {
    const { run, calls } = setup(web());
    expect(await run()).toEqual({ type: "awaitChange" });
    expect(calls).toEqual([
      "apply Deployment shop-web",
      "apply Service shop-web",
      "apply PodDisruptionBudget shop-web",
      "apply-status StatelessApp shop",
    ]);
  });

  test("a new app: each name is looked up before its first write", async () => {
    const { run, reads } = setup(web());
    await run();
    expect(reads).toEqual([
      "get Deployment shop-web",
      "get Service shop-web",
      "get PodDisruptionBudget shop-web",
    ]);
  });

  test("another team's Service of that name is never written; NameInUse, one Warning, then none per retry", async () => {
    const theirs: KubeObject = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "shop-web", namespace: "web", resourceVersion: "5" },
      spec: { selector: { team: "payments" } },
    };
    const subject = web();
    const { run, calls, events } = setup(
      { ...subject, metadata: { ...subject.metadata, resourceVersion: "1" } },
      { existing: [theirs] },
    );
    expect(await run()).toEqual({ type: "requeueAfter", ms: NAME_IN_USE_RETRY_MS });
    expect(calls).toEqual([
      "apply Deployment shop-web",
      "apply PodDisruptionBudget shop-web",
      "apply-status StatelessApp shop",
    ]);
    expect(events).toEqual(["Warning NameInUse"]);
    // A retry before the cache shows that status: the status write waits, the Warning is not repeated.
    events.splice(0);
    calls.splice(0);
    await run();
    expect(calls.filter((c) => c.includes("Service"))).toEqual([]);
    expect(events).toEqual([]);
  });

  test("a binding Secret the API server rejects: the Deployment keeps its last template", async () => {
    const withBinding = web({ backingServices: [redis()] });
    const { run, calls } = setup(withBinding, {
      secrets: {
        read: async () => sourceSecret({ host: "redis.web", port: "6379", password: "pw" }),
      },
      fail: (verb, o) =>
        verb === "apply" && o.kind === "Secret"
          ? new KubeApiError(422, "PATCH …: HTTP 422 Invalid", "", {
              kind: "Status",
              message: "data: Too long: must have at most 1048576 bytes",
            })
          : undefined,
    });
    expect(await run()).toEqual({ type: "requeueAfter", ms: 30_000 });
    expect(calls).toEqual([
      "apply Secret shop-binding-sessions",
      "apply Service shop-web",
      "apply PodDisruptionBudget shop-web",
      "apply-status StatelessApp shop",
    ]);
  });

  test("a child the API server rejects is reported in the status, the others are still applied", async () => {
    const { run, calls } = setup(web(), {
      fail: (verb, o) =>
        verb === "apply" && o.kind === "Service"
          ? new KubeApiError(
              422,
              "PATCH …: HTTP 422 Invalid",
              '{"kind":"Status","message":"spec.ports: Invalid value"}',
              {
                kind: "Status",
                message: "spec.ports: Invalid value",
              },
            )
          : undefined,
    });
    expect(await run()).toEqual({ type: "awaitChange" });
    expect(calls.at(-2)).toBe("apply PodDisruptionBudget shop-web");
    expect(calls.at(-1)).toBe("apply-status StatelessApp shop");
  });

  test("a transient failure is thrown for the controller to retry, after the status and a Warning name it", async () => {
    const { run, calls, messages } = setup(web(), {
      fail: (verb) =>
        verb === "apply" ? new KubeApiError(503, "unavailable", "", undefined) : undefined,
    });
    await expect(run()).rejects.toMatchObject({ code: 503 });
    expect(calls.at(-1)).toBe("apply-status StatelessApp shop");
    expect(messages).toContain("Warning ApplyFailed: Deployment shop-web: HTTP 503");
  });

  test("a Service create the API server keeps answering with 500: from the first failure the status and one Warning name the Service and the message; the next success clears it", async () => {
    const status = {
      kind: "Status" as const,
      code: 500,
      reason: "InternalError",
      message: "failed to allocate a serviceIP: range is full",
    };
    let failing = true;
    const { run, calls, messages, statuses } = setup(web(), {
      fail: (verb, o) =>
        failing && verb === "apply" && o.kind === "Service"
          ? new KubeApiError(500, "PATCH …: HTTP 500", JSON.stringify(status), status)
          : undefined,
    });
    await expect(run()).rejects.toMatchObject({ code: 500 });
    // The writes after the failing one wait for the retry; the status is written at once.
    expect(calls).toEqual([
      "apply Deployment shop-web",
      "apply Service shop-web",
      "apply-status StatelessApp shop",
    ]);
    const message =
      "Service shop-web: failed to allocate a serviceIP: range is full (HTTP 500 InternalError)";
    const ready = (s: KubeObject | undefined) =>
      (
        s?.status as { conditions?: { type: string; reason: string; message: string }[] }
      )?.conditions?.find((c) => c.type === "Ready");
    expect(ready(statuses.at(-1))).toMatchObject({
      reason: "ApplyFailed",
      message: `${message}; retrying`,
    });
    expect(messages).toEqual([`Warning ApplyFailed: ${message}`]);
    failing = false;
    await run();
    expect(ready(statuses.at(-1))).toMatchObject({ reason: "Progressing" });
  });

  test("a delete that keeps failing is reported the same way", async () => {
    const stale = {
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: "shop-old",
        namespace: "web",
        ownerReferences: [{ controller: true, uid: web().metadata.uid ?? "" }],
      },
    } as unknown as KubeObject;
    const { run, messages } = setup(web(), {
      children: [stale],
      fail: (verb) =>
        verb === "delete" ? new KubeApiError(500, "DELETE …: HTTP 500", "", undefined) : undefined,
    });
    await expect(run()).rejects.toMatchObject({ code: 500 });
    expect(messages).toEqual(["Warning ApplyFailed: Service shop-old: HTTP 500"]);
  });

  test("the hand-off and the forbidden-field patch run before the apply, with their Warning", async () => {
    const before = web();
    const rendered = desired(before).objects as unknown as KubeObject[];
    const deployment = rendered.find((o) => o.kind === "Deployment") as KubeObject;
    const service = rendered.find((o) => o.kind === "Service") as KubeObject & { spec: object };
    const ours = (fields: object) => [
      { manager: "stateless-operator", operation: "Apply", apiVersion: "v1", fieldsV1: fields },
    ];
    const { run, calls, events } = setup(
      web({
        processes: [
          {
            name: "web",
            autoscale: { minReplicas: 2, maxReplicas: 4 },
            ports: [{ name: "http", containerPort: 8080 }],
          },
        ],
      }),
      {
        children: [
          {
            ...deployment,
            metadata: {
              ...deployment.metadata,
              managedFields: ours({ "f:spec": { "f:replicas": {} } }),
            },
          },
          {
            ...service,
            spec: {
              ...service.spec,
              sessionAffinity: "ClientIP",
              sessionAffinityConfig: { clientIP: { timeoutSeconds: 10 } },
            },
          },
        ],
      },
    );
    await run();
    expect(calls.slice(0, 4)).toEqual([
      "apply Deployment shop-web hand-off",
      "apply Deployment shop-web",
      "patch Service shop-web (3 ops)",
      "apply Service shop-web",
    ]);
    expect(events).toContain("Warning ForbiddenRemoved");
  });

  test("an invalid spec: only the status is written, with an InvalidSpec Warning", async () => {
    const invalid = { ...web(), spec: { image: "", processes: [] } } as unknown as StatelessApp;
    const { run, calls, events } = setup(invalid);
    expect(await run()).toEqual({ type: "awaitChange" });
    expect(calls).toEqual(["apply-status StatelessApp shop"]);
    expect(events).toEqual(["Warning InvalidSpec"]);
  });

  test("an app that is gone or being deleted: nothing at all", async () => {
    const deleting = web();
    const { run, calls } = setup({
      ...deleting,
      metadata: { ...deleting.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" },
    } as StatelessApp);
    expect(await run()).toEqual({ type: "awaitChange" });
    expect(calls).toEqual([]);
  });

  test("at debug level the plan is logged as text; at info it is not written", async () => {
    const lines: string[] = [];
    const destination = { write: (line: string) => void lines.push(line) };
    await setup(web(), { logger: createLogger("debug", destination) }).run();
    const plan = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "plan");
    expect(plan?.plan).toMatch(/^plan for web\/shop\n {2}apply Deployment shop-web \(create\)/);
    lines.splice(0);
    await setup(web(), { logger: createLogger("info", destination) }).run();
    expect(lines.filter((l) => l.includes('"plan"'))).toEqual([]);
  });
});

describe("a failed release: the last log line of its pod, read once", () => {
  const JOB_UID = "0b9a8c1e-0000-4000-8000-00000000j0b1";
  const released = web({ release: { command: ["bin/migrate"] } });
  const rendered = desired(released, { bindings: { resolved: [], hash: "h" } }).objects.find(
    (o) => o.kind === "Job",
  ) as unknown as KubeObject;
  const jobName = rendered.metadata?.name ?? "";
  const failedJob: KubeObject = {
    ...rendered,
    metadata: { ...rendered.metadata, uid: JOB_UID, resourceVersion: "3" },
    status: {
      conditions: [
        {
          type: "Failed",
          status: "True",
          reason: "BackoffLimitExceeded",
          message: "Job has reached the specified backoff limit",
        },
      ],
    },
  } as KubeObject;
  /** A pod as the cache holds it: the app's instance label, `controller` its controller. */
  const pod = (
    name: string,
    created: string,
    controller: Record<string, unknown> | null = {
      apiVersion: "batch/v1",
      kind: "Job",
      name: jobName,
      uid: JOB_UID,
      controller: true,
    },
  ): KubeObject =>
    ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        namespace: "web",
        uid: `uid-${name}`,
        labels: { "app.kubernetes.io/instance": "shop" },
        ...(controller === null ? {} : { ownerReferences: [controller] }),
        creationTimestamp: created,
      },
      status: { phase: "Failed" },
    }) as KubeObject;
  const stalledOf = (status: KubeObject | undefined) =>
    (
      status?.status as { conditions?: { type: string; message: string }[] } | undefined
    )?.conditions?.find((c) => c.type === "Stalled")?.message;

  test("the newest pod the Job controls is read, bounded, once; a pod the Job does not control never is", async () => {
    const { run, reads, statuses, messages } = setup(released, {
      children: [failedJob],
      pods: [
        pod(`${jobName}-old`, "2026-01-01T00:00:00Z"),
        pod(`${jobName}-new`, "2026-01-01T00:01:00Z"),
        // Newer, labelled as the app's, named like the Job's pods: not controlled by the Job.
        pod(`${jobName}-zzz`, "2026-01-01T00:02:00Z", null),
        pod(`${jobName}-yyy`, "2026-01-01T00:02:00Z", {
          apiVersion: "batch/v1",
          kind: "Job",
          name: jobName,
          uid: "another-job",
          controller: true,
        }),
      ],
      logs: (p) =>
        p.endsWith("-new")
          ? "applying 0042\n\u001b[31mmigration 0042 failed: relation users exists\u001b[0m\n\n"
          : "not this one\n",
    });
    await run();
    expect(reads.filter((r) => r.startsWith("log"))).toEqual([
      `log web/${jobName}-new release tail=2 limit=4096`,
    ]);
    const message = stalledOf(statuses.at(-1));
    expect(message).toBe(
      `release ${jobName} failed (BackoffLimitExceeded: Job has reached the specified backoff limit); last log line of pod ${jobName}-new: "migration 0042 failed: relation users exists"; nothing rolls until spec.image or spec.release changes`,
    );
    expect((statuses.at(-1)?.status as { release?: unknown } | undefined)?.release).toEqual({
      image: released.spec.image,
      job: jobName,
      state: "Failed",
      lastLogLine: "migration 0042 failed: relation users exists",
    });
    expect(messages).toContain(`Warning ReleaseFailed: ${message}`);
    // Every later reconcile of the failed Job uses what was read.
    await run();
    await run();
    expect(reads.filter((r) => r.startsWith("log"))).toHaveLength(1);
  });

  test("a log that cannot be read (the pod has no node, 403 without the permission): the reconcile goes on, the message says why", async () => {
    for (const [error, why] of [
      [
        apiError(
          { method: "GET", path: "…/log" },
          400,
          JSON.stringify({
            kind: "Status",
            reason: "BadRequest",
            message: `pod ${jobName}-a does not have a host assigned`,
          }),
        ),
        `BadRequest: pod ${jobName}-a does not have a host assigned`,
      ],
      [new KubeApiError(403, "GET …: HTTP 403", "", undefined), "HTTP 403"],
      [new Error("socket hang up"), "no answer from the API server"],
      [undefined, "the pod was never scheduled on a node"],
    ] as const) {
      const { run, calls, statuses, releaseLogs } = setup(released, {
        children: [failedJob],
        pods: [pod(`${jobName}-a`, "2026-01-01T00:00:00Z")],
        logs: () => error,
      });
      expect(await run()).toEqual({ type: "awaitChange" });
      expect(calls.at(-1)).toBe("apply-status StatelessApp shop");
      expect(stalledOf(statuses.at(-1))).toContain(
        `; no log line of pod ${jobName}-a: ${why}; nothing rolls`,
      );
      expect(
        (statuses.at(-1)?.status as { release?: object } | undefined)?.release,
      ).not.toHaveProperty("lastLogLine");
      // The failed read is remembered too, until the Job goes.
      expect(releaseLogs.size).toBe(1);
      releaseLogs.forget(JOB_UID);
      expect(releaseLogs.size).toBe(0);
    }
  });

  test("no pod of the Job in the cache: nothing is read, the message has the Job's reason only", async () => {
    const { run, reads, statuses } = setup(released, {
      children: [failedJob],
      pods: [pod("someone-elses", "2026-01-01T00:00:00Z", null)],
    });
    await run();
    expect(reads.filter((r) => r.startsWith("log"))).toEqual([]);
    expect(stalledOf(statuses.at(-1))).toBe(
      `release ${jobName} failed (BackoffLimitExceeded: Job has reached the specified backoff limit); nothing rolls until spec.image or spec.release changes`,
    );
  });
});
