// reconcile(key) for StatelessApp: observe, plan (pure, plan.ts), carry the plan out. Level-based.
import type { V1Pod } from "@kubernetes/client-node";
import { formatProblem, parseStatelessApp, type StatelessApp } from "../../api/index.ts";
import {
  type Action,
  awaitChange,
  builtinResources,
  classifyError,
  describeError,
  ErrorKind,
  type KubeObject,
  type ReconcileContext,
  type Reconciler,
  requeueAfter,
} from "../../runtime/index.ts";
import { CHILD_KINDS, CHILD_RESOURCES, type ChildKind, isChildKind } from "./children.ts";
import { OWNER_INDEX, PODS_BY_APP, type ReconcileDeps } from "./deps.ts";
import { formatPlan } from "./explain.ts";
import {
  type ChildAction,
  finishPlan,
  type Observation,
  type Plan,
  planApp,
  REPLICAS_HANDOFF_MANAGER,
  requeueAfterWrites,
} from "./plan.ts";
import { childId } from "./prune.ts";
import { resolveBindings } from "./resolve-bindings.ts";
import { resolveConfigHash } from "./resolve-config.ts";

export function createReconciler(deps: ReconcileDeps): Reconciler {
  return (key, ctx) => reconcileApp(key, ctx, deps);
}

export async function reconcileApp(
  key: string,
  ctx: ReconcileContext,
  deps: ReconcileDeps,
): Promise<Action> {
  const seen = await observe(key, deps, ctx.signal);
  if (seen === undefined) return awaitChange();
  let observation = seen;
  let plan = planApp(observation);
  if (plan.lookUp !== undefined) {
    observation = { ...observation, lookedUp: await lookUp(plan.lookUp, deps, ctx.signal) };
    plan = planApp(observation);
  }
  const written = await writeChildren(plan, observation.raw, deps, ctx);
  const done = finishPlan(plan, observation, {
    live: written.live,
    ...(written.applyError === undefined ? {} : { applyError: written.applyError }),
    ...(written.retry === undefined ? {} : { applyRetrying: written.retry.message }),
    ...(written.rejected.size === 0 ? {} : { rejected: written.rejected }),
    ...(await readPods(plan, written.live, deps, ctx.signal)),
    ...(plan.release?.logOf === undefined
      ? {}
      : { releaseLog: await deps.releaseLogs.read(plan.release.logOf, ctx.signal) }),
  });
  // Formatted only if the line is written: pino serializes a value through its toJSON.
  ctx.logger.debug({ plan: { toJSON: () => formatPlan(done) } }, "plan");
  if (done.problems !== undefined)
    ctx.logger.warn({ problems: done.problems.length }, "invalid spec");
  await evict(done, observation.raw, deps, ctx);
  const status = await writeStatus(observation.raw, done, deps, ctx);
  for (const e of done.events) {
    // The status this reconcile compared with predates our last write: that write's reconcile told.
    if (e.transition === true && status.behind) continue;
    if (e.type === "Normal") deps.events.normal(observation.raw, e.reason, e.message);
    else deps.events.warning(observation.raw, e.reason, e.message);
  }
  // The status says what failed; the controller retries with backoff.
  if (written.retry !== undefined) throw written.retry.error;
  const after = requeueAfterWrites(done, written.deferred || status.deferred);
  return after === undefined ? awaitChange() : requeueAfter(after);
}

/** The app from the cache, its bindings resolved, and the cached children it may own. */
async function observe(
  key: string,
  deps: ReconcileDeps,
  signal: AbortSignal,
): Promise<Observation | undefined> {
  const raw = deps.apps.get(key);
  if (raw === undefined || raw.metadata?.deletionTimestamp !== undefined) return undefined;
  const parsed = parseStatelessApp(raw);
  const common = {
    raw,
    cached: (kind: ChildKind, childKey: string) => deps.children[kind].get(childKey),
    ...(deps.wholeKinds === undefined ? {} : { wholeKinds: deps.wholeKinds }),
    fieldManager: deps.applier.fieldManager,
    now: deps.clock.now(),
    pods: deps.pods.byIndex(PODS_BY_APP, key) as unknown as V1Pod[],
  };
  if (!parsed.ok) {
    return {
      ...common,
      spec: { valid: false, problems: parsed.error.map(formatProblem) },
      bindings: { outcomes: [], resolved: [], ready: true },
      owned: [],
    };
  }
  const app: StatelessApp = parsed.value;
  const uid = app.metadata.uid ?? "";
  return {
    ...common,
    spec: { valid: true, app },
    bindings: await resolveBindings(app, deps, signal),
    ...(await resolveConfigHash(app, deps, signal)),
    owned: CHILD_KINDS.flatMap((kind) => deps.children[kind].byIndex(OWNER_INDEX, uid)),
  };
}

/**
 * The rendered children the caches do not know, looked up by name (`Kind/name` → the object, or
 * null when there is none). Only children the cache has no entry for, so a resync of converged
 * apps reads nothing.
 */
async function lookUp(
  objects: readonly KubeObject[],
  deps: ReconcileDeps,
  signal: AbortSignal,
): Promise<Map<string, KubeObject | null>> {
  const found = new Map<string, KubeObject | null>();
  for (const object of objects) {
    const kind = object.kind;
    if (!isChildKind(kind)) throw new Error(`cannot look up ${kind}`);
    const ref = { namespace: object.metadata?.namespace, name: object.metadata?.name ?? "" };
    found.set(
      childId(object),
      (await deps.client.get(CHILD_RESOURCES[kind], ref, { signal })) ?? null,
    );
  }
  return found;
}

interface ChildWrites {
  readonly live: Map<string, KubeObject>;
  applyError?: string;
  /** A failed write the controller retries with backoff: the status names it, then it is thrown. */
  retry?: { readonly message: string; readonly error: unknown };
  /** Children the API server rejected, by `Kind/name`, with its reason. */
  readonly rejected: Map<string, string>;
  /** Children refused (another's name) or rejected: what a `requires` waits for is not in place. */
  readonly missing: Set<string>;
  /** A write waited for the cache to show our previous one. */
  deferred: boolean;
}

/**
 * Carries out the child actions in order. A child the API server rejects is reported and the
 * others are still written; any other failure (a 5xx, a timeout) stops the writes (Secrets go
 * first, so pods never start without them) and is reported, then thrown once the status says so.
 */
async function writeChildren(
  plan: Plan,
  raw: KubeObject,
  deps: ReconcileDeps,
  ctx: ReconcileContext,
): Promise<ChildWrites> {
  const written: ChildWrites = {
    live: new Map(),
    rejected: new Map(),
    missing: new Set(),
    deferred: false,
  };
  for (const action of plan.children) {
    const { object } = action;
    const name = object.metadata?.name;
    try {
      switch (action.action) {
        case "keep":
          if (action.live !== undefined) written.live.set(childId(object), action.live);
          break;
        case "delete":
          await deps.applier.delete(object, { signal: ctx.signal });
          ctx.logger.info({ kind: object.kind, name }, "deleted a child the app no longer wants");
          break;
        case "refuse":
          written.missing.add(childId(object));
          ctx.logger.warn({ kind: object.kind, name, problem: action.problem }, "name in use");
          break;
        case "apply": {
          const waitsFor = action.requires?.find((id) => written.missing.has(id));
          if (waitsFor !== undefined) {
            // The last good template stays: its pods do not start on a Secret that is not ours.
            if (action.live !== undefined) written.live.set(childId(object), action.live);
            ctx.logger.warn(
              { kind: object.kind, name, waitsFor },
              "kept: a child it needs is not in place",
            );
            break;
          }
          written.live.set(childId(object), await applyChild(action, raw, written, deps, ctx));
          break;
        }
      }
    } catch (error) {
      // Stopping (or a conflict, retried at once): nothing to report.
      const kind = classifyError(error);
      if (ctx.signal.aborted || kind === ErrorKind.conflict) throw error;
      const message = childFailure(object, error);
      if (kind === ErrorKind.permanent) {
        written.applyError = message;
        written.rejected.set(
          childId(object),
          String(describeError(error).err ?? "rejected by the API server"),
        );
        written.missing.add(childId(object));
        ctx.logger.warn({ kind: object.kind, name, ...describeError(error) }, "child rejected");
        continue;
      }
      written.retry = { message, error };
      ctx.logger.warn(
        { kind: object.kind, name, ...describeError(error) },
        "writing a child failed; retrying with backoff",
      );
      return written;
    }
  }
  return written;
}

/** `Service shop-web: <the API server's message> (HTTP 500 InternalError)`. */
function childFailure(object: KubeObject, error: unknown): string {
  const { errCode, reason, err } = describeError(error);
  const http = errCode === undefined ? "" : `HTTP ${errCode}${reason ? ` ${reason}` : ""}`;
  const detail =
    err !== undefined && err !== "" ? `${err}${http ? ` (${http})` : ""}` : http || "failed";
  return `${object.kind} ${object.metadata?.name}: ${detail}`;
}

/** Hands off replicas and removes forbidden additions when planned, then applies; returns the freshest view. */
async function applyChild(
  action: Extract<ChildAction, { action: "apply" }>,
  app: KubeObject,
  written: ChildWrites,
  deps: ReconcileDeps,
  ctx: ReconcileContext,
): Promise<KubeObject> {
  const { object } = action;
  const kind = object.kind;
  if (!isChildKind(kind)) throw new Error(`cannot apply ${kind}`);
  const type = CHILD_RESOURCES[kind];
  const ref = { namespace: object.metadata?.namespace, name: object.metadata?.name ?? "" };
  const name = `${kind} ${ref.name}`;
  let current = action.live;
  if (action.handOffReplicas !== undefined) {
    await deps.client.apply(
      type,
      {
        apiVersion: object.apiVersion,
        kind,
        metadata: { name: ref.name, namespace: ref.namespace },
        spec: { replicas: action.handOffReplicas },
      },
      { fieldManager: REPLICAS_HANDOFF_MANAGER, signal: ctx.signal },
    );
  }
  if (action.removeForbidden !== undefined) {
    current = await deps.client.patch(type, ref, action.removeForbidden.patch, {
      fieldManager: deps.applier.fieldManager,
      signal: ctx.signal,
    });
    deps.events.warning(
      app,
      "ForbiddenRemoved",
      `${name}: removed ${action.removeForbidden.findings.join("; ")}`,
    );
  }
  const result = await deps.applier.apply(object, {
    live: current,
    signal: ctx.signal,
    deferWhileCacheLags: true,
  });
  if (result.written && action.reportDrift) {
    deps.events.warning(
      app,
      "DriftCorrected",
      `${name} was changed outside the operator (${result.reason}); re-applied`,
    );
  }
  if (result.deferred === true) written.deferred = true;
  return result.object ?? current ?? object;
}

/** The pods of each process type the plan recycles, listed once its Deployment is written. */
async function readPods(
  plan: Plan,
  live: ReadonlyMap<string, KubeObject>,
  deps: ReconcileDeps,
  signal: AbortSignal,
): Promise<{ pods: Map<string, V1Pod[]>; now: number }> {
  const pods = new Map<string, V1Pod[]>();
  for (const p of plan.recycle?.processes ?? []) {
    if (!live.has(p.deployment)) continue;
    const items = await deps.client.list(
      builtinResources.pod,
      { namespace: p.namespace, labelSelector: p.labelSelector },
      { signal },
    );
    pods.set(p.name, items as unknown as V1Pod[]);
  }
  return { pods, now: deps.clock.now() };
}

async function evict(
  plan: Plan,
  raw: KubeObject,
  deps: ReconcileDeps,
  ctx: ReconcileContext,
): Promise<void> {
  for (const e of plan.evictions) {
    // False: the disruption budget says not now; the plan looks again shortly.
    if (await deps.client.evict(e.pod, { signal: ctx.signal }))
      deps.events.normal(raw, "Recycled", e.message);
  }
}

/**
 * Writes the planned status. `deferred`: the write waits for the cache to show our previous one;
 * `behind`: the cached status this reconcile started from predates our previous write.
 */
async function writeStatus(
  raw: KubeObject,
  plan: Plan,
  deps: ReconcileDeps,
  ctx: ReconcileContext,
): Promise<{ deferred: boolean; behind: boolean }> {
  try {
    const result = await deps.applier.applyStatus(raw, plan.status, {
      live: raw,
      signal: ctx.signal,
      deferWhileCacheLags: true,
    });
    return { deferred: result.deferred === true, behind: result.behind === true };
  } catch (error) {
    // The app went away while we worked: nothing left to report on.
    if ((error as { code?: number }).code === 404) return { deferred: false, behind: false };
    throw error;
  }
}
