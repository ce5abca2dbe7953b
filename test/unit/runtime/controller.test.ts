import { ApiException } from "@kubernetes/client-node";
import { describe, expect, test } from "vitest";
import {
  type Action,
  Controller,
  type ControllerOptions,
  type ReconcileContext,
  requeueAfter,
} from "../../../src/runtime/controller.ts";
import { ConflictError, PermanentError } from "../../../src/runtime/errors.ts";
import type { KubeObject } from "../../../src/runtime/object.ts";
import { Reflector } from "../../../src/runtime/reflector.ts";
import { builtinResources, ownerKeys, type ResourceType } from "../../../src/runtime/resource.ts";
import { FakeClock, flushPromises } from "../../support/fake-clock.ts";
import { event, FakeSource, page } from "./fake-source.ts";
import { recordingLogger } from "./fakes.ts";

const appType: ResourceType = {
  group: "example.dev",
  version: "v1",
  kind: "App",
  plural: "apps",
  namespaced: true,
};

const app = (name: string, rv = "1", spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "example.dev/v1",
  kind: "App",
  metadata: { name, namespace: "ns", resourceVersion: rv, uid: `uid-${name}` },
  spec,
});

const child = (
  name: string,
  rv: string,
  owners: NonNullable<KubeObject["metadata"]>["ownerReferences"],
): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: "ns", resourceVersion: rv, ownerReferences: owners },
});

const secret = (name: string, rv: string): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace: "ns", resourceVersion: rv },
});

function setup(reconcile: ControllerOptions["reconcile"], extra: Partial<ControllerOptions> = {}) {
  const clock = new FakeClock();
  const sources = {
    apps: new FakeSource(),
    deployments: new FakeSource(),
    secrets: new FakeSource(),
  };
  const common = { clock, random: () => 0.5, backoff: { baseMs: 1000, jitter: 0 } };
  const primary = new Reflector({ resource: appType, source: sources.apps, ...common });
  const deployments = new Reflector({
    resource: builtinResources.deployment,
    source: sources.deployments,
    ...common,
  });
  const secrets = new Reflector({
    resource: builtinResources.secret,
    source: sources.secrets,
    ...common,
  });
  const logger = recordingLogger();
  const controller = new Controller({
    name: "apps",
    primary,
    owns: [deployments],
    // Every app binds the Secret named like itself plus "-db".
    watches: [
      { reflector: secrets, map: (s) => [`ns/${String(s.metadata?.name).replace(/-db$/, "")}`] },
    ],
    reconcile,
    clock,
    logger,
    resyncIntervalMs: 0,
    backoff: { baseMs: 1000, capMs: 60_000, jitter: 0 },
    newReconcileId: () => "id",
    ...extra,
  });
  return { clock, sources, controller, logger, primary };
}

/** A reconciler that records keys and returns (or throws) what the script says, per call. */
function recorder(script: Array<Action | Error> = []) {
  const keys: string[] = [];
  const contexts: ReconcileContext[] = [];
  const reconcile = async (key: string, ctx: ReconcileContext): Promise<Action> => {
    keys.push(key);
    contexts.push(ctx);
    const step = script.shift() ?? { type: "awaitChange" };
    if (step instanceof Error) throw step;
    return step;
  };
  return { keys, contexts, reconcile };
}

async function started(s: ReturnType<typeof setup>, apps: KubeObject[] = [app("a")]) {
  s.sources.apps.onList(page(apps, "10"));
  s.sources.deployments.onList(page([], "10"));
  s.sources.secrets.onList(page([], "10"));
  s.controller.startCaches();
  await s.controller.startWorkers();
  await flushPromises();
}

describe("ownerKeys", () => {
  const ref = (over: Record<string, unknown>) => ({
    apiVersion: "example.dev/v1",
    kind: "App",
    name: "a",
    uid: "u",
    controller: true,
    ...over,
  });
  test.each([
    { name: "controller owner of the primary kind", refs: [ref({})], want: ["ns/a"] },
    {
      name: "another version of the same group",
      refs: [ref({ apiVersion: "example.dev/v2" })],
      want: ["ns/a"],
    },
    { name: "not the controller", refs: [ref({ controller: false })], want: [] },
    { name: "controller flag absent", refs: [ref({ controller: undefined })], want: [] },
    { name: "same kind, other group", refs: [ref({ apiVersion: "other.dev/v1" })], want: [] },
    { name: "other kind", refs: [ref({ kind: "Job" })], want: [] },
    { name: "no owner references", refs: undefined, want: [] },
  ])("$name", ({ refs, want }) => {
    expect(ownerKeys(child("d", "1", refs as never), appType)).toEqual(want);
  });
});

describe("Controller", () => {
  test("waits for every cache, then reconciles each primary key once", async () => {
    const r = recorder();
    const s = setup(r.reconcile);
    s.sources.apps.onList(page([app("a"), app("b")], "10"));
    s.sources.deployments.onList(page([], "10"));
    s.sources.secrets.onList(new Error("not yet"), page([], "10"));
    s.controller.startCaches();
    const starting = s.controller.startWorkers();
    await flushPromises();
    expect(s.controller.synced).toBe(false);
    expect(r.keys).toEqual([]);
    await s.clock.advance(1000);
    await starting;
    await flushPromises();
    expect(s.controller.synced).toBe(true);
    expect(r.keys.sort()).toEqual(["ns/a", "ns/b"]);
    expect(r.contexts[0]?.reconcileId).toBe("id");
    await s.controller.shutdown();
  });

  test("events on the primary enqueue its key", async () => {
    const r = recorder();
    const s = setup(r.reconcile);
    await started(s);
    s.sources.apps.current.push(
      event("MODIFIED", app("a", "11", { x: 1 })),
      event("ADDED", app("c", "12")),
    );
    await flushPromises();
    expect(r.keys).toEqual(["ns/a", "ns/a", "ns/c"]);
    await s.controller.shutdown();
  });

  test("an owned object's event reconciles its controlling owner", async () => {
    const r = recorder();
    const s = setup(r.reconcile);
    await started(s);
    r.keys.length = 0;
    const owner = {
      apiVersion: "example.dev/v1",
      kind: "App",
      name: "a",
      uid: "uid-a",
      controller: true,
    };
    const foreign = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      name: "rs",
      uid: "x",
      controller: true,
    };
    s.sources.deployments.current.push(
      event("ADDED", child("a-web", "20", [owner])),
      event("ADDED", child("other", "21", [foreign])),
    );
    await flushPromises();
    expect(r.keys).toEqual(["ns/a"]);
    s.sources.deployments.current.push(event("DELETED", child("a-web", "22", [owner])));
    await flushPromises();
    expect(r.keys).toEqual(["ns/a", "ns/a"]);
    await s.controller.shutdown();
  });

  test("an update that moves an owned object to another owner reconciles both", async () => {
    const r = recorder();
    const s = setup(r.reconcile);
    await started(s, [app("a"), app("b")]);
    const to = (name: string) => [
      { apiVersion: "example.dev/v1", kind: "App", name, uid: name, controller: true },
    ];
    s.sources.deployments.current.push(event("ADDED", child("d", "20", to("a"))));
    await flushPromises();
    r.keys.length = 0;
    s.sources.deployments.current.push(event("MODIFIED", child("d", "21", to("b"))));
    await flushPromises();
    expect(r.keys.sort()).toEqual(["ns/a", "ns/b"]);
    await s.controller.shutdown();
  });

  test("a mapped watch enqueues the keys its mapping returns", async () => {
    const r = recorder();
    const s = setup(r.reconcile);
    await started(s);
    r.keys.length = 0;
    s.sources.secrets.current.push(event("MODIFIED", secret("a-db", "30")));
    await flushPromises();
    expect(r.keys).toEqual(["ns/a"]);
    await s.controller.shutdown();
  });

  test("a mapping that throws is logged and does not stop other events", async () => {
    const r = recorder();
    const s = setup(r.reconcile, {});
    const watches = [
      {
        reflector: s.controller.reflectors[2] as Reflector,
        map: (o: KubeObject) => {
          if (o.metadata?.name === "bad") throw new Error("mapping bug");
          return ["ns/a"];
        },
      },
    ];
    const c2 = new Controller({
      name: "c2",
      primary: s.primary,
      watches,
      reconcile: r.reconcile,
      clock: s.clock,
      logger: s.logger,
      resyncIntervalMs: 0,
    });
    s.sources.apps.onList(page([], "10"));
    s.sources.secrets.onList(page([], "10"));
    c2.startCaches();
    await c2.startWorkers();
    await flushPromises();
    s.sources.secrets.current.push(
      event("ADDED", secret("bad", "31")),
      event("ADDED", secret("good", "32")),
    );
    await flushPromises();
    expect(r.keys).toEqual(["ns/a"]);
    expect(s.logger.lines.some((l) => l.msg === "mapping an event to keys threw")).toBe(true);
    await c2.shutdown();
  });

  test.each([
    {
      name: "a transient ApiException (503)",
      error: () => new ApiException(503, "unavailable", "", {}),
      next: 1000,
    },
    { name: "an error without a status", error: () => new Error("socket hang up"), next: 1000 },
    {
      name: "403 (RBAC may be granted later)",
      error: () => new ApiException(403, "forbidden", "", {}),
      next: 1000,
    },
  ])("$name is retried after backoff", async ({ error, next }) => {
    const r = recorder([error(), error()]);
    const s = setup(r.reconcile);
    await started(s);
    expect(r.keys).toEqual(["ns/a"]);
    await s.clock.advance(next - 1);
    expect(r.keys).toHaveLength(1);
    await s.clock.advance(1);
    expect(r.keys).toHaveLength(2);
    // The second failure doubles the delay.
    await s.clock.advance(2 * next - 1);
    expect(r.keys).toHaveLength(2);
    await s.clock.advance(1);
    expect(r.keys).toHaveLength(3);
    await s.controller.shutdown();
  });

  test.each([
    { name: "422 Invalid", error: () => new ApiException(422, "invalid", "", {}) },
    { name: "400 BadRequest", error: () => new ApiException(400, "bad", "", {}) },
    { name: "PermanentError", error: () => new PermanentError("spec invalid") },
  ])("$name is not retried", async ({ error }) => {
    const r = recorder([error()]);
    const s = setup(r.reconcile);
    await started(s);
    await s.clock.advance(3_600_000);
    expect(r.keys).toEqual(["ns/a"]);
    expect(s.logger.lines.some((l) => l.level === "error" && l.fields.kind === "permanent")).toBe(
      true,
    );
    await s.controller.shutdown();
  });

  test("a conflict is retried at once a few times, then with backoff", async () => {
    const conflict = () => new ApiException(409, "conflict", "", {});
    const r = recorder([conflict(), new ConflictError("stale"), conflict(), conflict()]);
    const s = setup(r.reconcile, { maxImmediateRetries: 3 });
    await started(s);
    expect(r.keys).toHaveLength(4);
    // The fourth conflict in a row backs off (the base delay doubled three times).
    await s.clock.advance(7_999);
    expect(r.keys).toHaveLength(4);
    await s.clock.advance(1);
    expect(r.keys).toHaveLength(5);
    await s.controller.shutdown();
  });

  test("requeueAfter reconciles again after the delay", async () => {
    const r = recorder([requeueAfter(30_000)]);
    const s = setup(r.reconcile);
    await started(s);
    await s.clock.advance(29_999);
    expect(r.keys).toHaveLength(1);
    await s.clock.advance(1);
    expect(r.keys).toHaveLength(2);
    await s.controller.shutdown();
  });

  test("a custom error policy decides the next step", async () => {
    const r = recorder([new Error("x")]);
    const s = setup(r.reconcile, { errorPolicy: () => requeueAfter(5_000) });
    await started(s);
    await s.clock.advance(5_000);
    expect(r.keys).toHaveLength(2);
    await s.controller.shutdown();
  });

  test("periodic resync reconciles every primary key", async () => {
    const r = recorder();
    const s = setup(r.reconcile, { resyncIntervalMs: 60_000 });
    await started(s, [app("a"), app("b")]);
    r.keys.length = 0;
    await s.clock.advance(60_000);
    expect(r.keys.sort()).toEqual(["ns/a", "ns/b"]);
    await s.clock.advance(60_000);
    expect(r.keys).toHaveLength(4);
    await s.controller.shutdown();
  });

  test("stopWorkers aborts the in-flight signal and stops reconciling; events are kept for later", async () => {
    let release: () => void = () => {};
    const contexts: ReconcileContext[] = [];
    const keys: string[] = [];
    const s = setup(async (key, ctx) => {
      keys.push(key);
      contexts.push(ctx);
      if (keys.length === 1) await new Promise<void>((res) => (release = res));
      return { type: "awaitChange" };
    });
    await started(s);
    const stopping = s.controller.stopWorkers();
    expect(contexts[0]?.signal.aborted).toBe(true);
    expect(s.controller.leading).toBe(false);
    release();
    await stopping;
    s.sources.apps.current.push(event("MODIFIED", app("a", "11")));
    await flushPromises();
    expect(keys).toEqual(["ns/a"]);
    await s.controller.startWorkers();
    await flushPromises();
    expect(keys).toEqual(["ns/a", "ns/a"]);
    await s.controller.shutdown();
  });
});
