// reconcile(key) for StatelessApp: desired children applied, stale ones deleted, status written. Level-based.
import type { KubernetesObject, V1Deployment, V1Pod } from "@kubernetes/client-node";
import {
  formatProblem,
  parseDuration,
  parseStatelessApp,
  type StatelessApp,
  type StatelessAppStatus,
} from "../../api/index.ts";
import {
  type Action,
  awaitChange,
  builtinResources,
  classifyError,
  describeError,
  ErrorKind,
  fieldsOf,
  type KubeObject,
  type ReconcileContext,
  type Reconciler,
  requestJson,
  requeueAfter,
  resourcePath,
} from "../../runtime/index.ts";
import { bindingsHash, normalizedSecretName } from "../bindings/index.ts";
import {
  BINDINGS_HASH_ANNOTATION,
  childName,
  desired,
  LABEL_COMPONENT,
  LABEL_INSTANCE,
} from "../render/index.ts";
import { ConditionType, computeStatus, conditionTime } from "../status/index.ts";
import { resolveBindings } from "./bindings.ts";
import { CHILD_KINDS, type ChildKind, OWNER_INDEX, type ReconcileDeps } from "./deps.ts";
import { forbiddenAdditions, type JsonPatchOp } from "./forbidden.ts";
import { childId, staleChildren } from "./prune.ts";
import { decideRecycle } from "./recycle.ts";

/** When an app whose write waited for the cache looks again. */
export const CACHE_LAG_RECHECK_MS = 2_000;

/** How often an app with an unresolved binding looks again, besides the Secret and service watches. */
export const BINDING_RETRY_MS = 30_000;

const RESOURCE_OF: Record<ChildKind, (typeof builtinResources)[keyof typeof builtinResources]> = {
  Secret: builtinResources.secret,
  Deployment: builtinResources.deployment,
  Service: builtinResources.service,
  PodDisruptionBudget: builtinResources.podDisruptionBudget,
  HorizontalPodAutoscaler: builtinResources.horizontalPodAutoscaler,
};

const isChildKind = (kind: string | undefined): kind is ChildKind =>
  (CHILD_KINDS as readonly string[]).includes(kind ?? "");
const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
const templateHash = (o: object | undefined) =>
  (o as V1Deployment | undefined)?.spec?.template?.metadata?.annotations?.[
    BINDINGS_HASH_ANNOTATION
  ];

export function createReconciler(deps: ReconcileDeps): Reconciler {
  return (key, ctx) => reconcileApp(key, ctx, deps);
}

export async function reconcileApp(
  key: string,
  ctx: ReconcileContext,
  deps: ReconcileDeps,
): Promise<Action> {
  const raw = deps.apps.get(key);
  if (raw === undefined || raw.metadata?.deletionTimestamp !== undefined) return awaitChange();
  const now = conditionTime(deps.clock.now());

  const parsed = parseStatelessApp(raw);
  if (!parsed.ok) {
    const problems = parsed.error.map(formatProblem);
    // An invalid spec has no processes to report on; the status says only what is wrong.
    const shell = { ...(raw as unknown as StatelessApp), spec: { image: "", processes: [] } };
    await writeStatus(
      raw,
      computeStatus({ app: shell, invalid: problems, deployments: new Map(), bindings: [], now }),
      deps,
      ctx,
    );
    deps.events.warning(raw, "InvalidSpec", problems.slice(0, 3).join("; "));
    ctx.logger.warn({ problems: problems.length }, "invalid spec");
    return awaitChange();
  }
  const app = parsed.value;
  const uid = app.metadata.uid ?? "";
  const steady =
    raw.status !== undefined &&
    (raw.status as { observedGeneration?: number }).observedGeneration === app.metadata.generation;

  const bindings = await resolveBindings(app, deps, ctx.signal);
  const hash = bindingsHash(bindings.resolved);
  const render = desired(app, { bindings: { resolved: bindings.resolved, hash } });
  const live = new Map<string, KubeObject>();
  let applyError: string | undefined;
  let recheckMs: number | undefined;
  const lag = { deferred: false };

  if (app.spec.paused !== true) {
    for (const object of render.objects) {
      const kind = object.kind;
      if (!isChildKind(kind)) continue;
      const cached = deps.children[kind].get(keyOf(object));
      // A broken binding freezes the Deployments as they are: no rollout onto credentials that do not work.
      if (kind === "Deployment" && !bindings.ready) {
        if (cached !== undefined) live.set(childId(object), cached);
        continue;
      }
      try {
        live.set(
          childId(object),
          await applyChild(object, cached, { steady, raw, deps, ctx, lag }),
        );
      } catch (error) {
        if (classifyError(error) !== ErrorKind.permanent) throw error;
        applyError = `${kind} ${object.metadata?.name}: ${String(describeError(error).err ?? "rejected by the API server")}`;
        ctx.logger.warn(
          { kind, name: object.metadata?.name, ...describeError(error) },
          "child rejected",
        );
      }
    }
    await pruneChildren(app, uid, render.objects, deps, ctx);
    if (app.spec.maxPodLifetime !== undefined && bindings.ready) {
      recheckMs = await recyclePods(
        app,
        raw,
        live,
        parseDuration(app.spec.maxPodLifetime),
        deps,
        ctx,
      );
    }
  } else {
    for (const object of render.objects) {
      const kind = object.kind;
      const cached = isChildKind(kind) ? deps.children[kind].get(keyOf(object)) : undefined;
      if (cached !== undefined) live.set(childId(object), cached);
    }
  }

  const deployments = new Map<string, V1Deployment>();
  for (const p of app.spec.processes) {
    const d = live.get(`Deployment/${childName(app, p.name)}`);
    if (d !== undefined) deployments.set(p.name, d as unknown as V1Deployment);
  }
  const status = computeStatus({
    app,
    deployments,
    bindings: bindings.outcomes,
    ...(applyError === undefined ? {} : { applyError }),
    now,
  });
  if (await writeStatus(raw, status, deps, ctx)) lag.deferred = true;
  recordReadyTransition(raw, app, status, deps);
  for (const w of render.warnings) deps.events.warning(raw, w.reason, w.message);
  if (!bindings.ready) {
    for (const o of bindings.outcomes)
      if (o.problem !== undefined) deps.events.warning(raw, "BindingNotReady", o.problem);
    return requeueAfter(BINDING_RETRY_MS);
  }
  // A write skipped because the cache lags behind our own writes is looked at again soon, in
  // case the watch event that normally brings us back never comes.
  if (lag.deferred) recheckMs = Math.min(recheckMs ?? CACHE_LAG_RECHECK_MS, CACHE_LAG_RECHECK_MS);
  return recheckMs === undefined ? awaitChange() : requeueAfter(recheckMs);
}

interface ApplyScope {
  readonly steady: boolean;
  readonly raw: KubeObject;
  readonly deps: ReconcileDeps;
  readonly ctx: ReconcileContext;
  /** Set when a write waited for the cache to catch up. */
  readonly lag: { deferred: boolean };
}

/** Removes forbidden additions, then applies; returns the freshest view of the child. */
async function applyChild(
  object: KubernetesObject,
  cached: KubeObject | undefined,
  scope: ApplyScope,
): Promise<KubeObject> {
  const { deps, ctx, raw } = scope;
  let current: KubeObject | undefined = cached;
  if (releasesReplicas(object, cached, deps.applier.fieldManager))
    await handOffReplicas(object, cached, deps, ctx);
  const fix = forbiddenAdditions(object, cached);
  if (fix.patch.length > 0) {
    current = await jsonPatch(object, fix.patch, deps, ctx.signal);
    deps.events.warning(
      raw,
      "ForbiddenRemoved",
      `${object.kind} ${object.metadata?.name}: removed ${fix.findings.join("; ")}`,
    );
  }
  const result = await deps.applier.apply(object as KubeObject, {
    live: current,
    signal: ctx.signal,
    deferWhileCacheLags: true,
  });
  const rotated = object.kind === "Deployment" && templateHash(object) !== templateHash(cached);
  if (
    result.written &&
    cached !== undefined &&
    scope.steady &&
    !rotated &&
    object.kind !== "Secret"
  ) {
    deps.events.warning(
      raw,
      "DriftCorrected",
      `${object.kind} ${object.metadata?.name} was changed outside the operator (${result.reason}); re-applied`,
    );
  }
  if (result.deferred === true) scope.lag.deferred = true;
  return result.object ?? current ?? (object as KubeObject);
}

/** A Normal Event when the app becomes Ready, a Warning when it stops being Ready. */
function recordReadyTransition(
  raw: KubeObject,
  app: StatelessApp,
  status: StatelessAppStatus,
  deps: ReconcileDeps,
): void {
  const before = app.status?.conditions?.find((c) => c.type === ConditionType.ready);
  const after = status.conditions?.find((c) => c.type === ConditionType.ready);
  if (after === undefined || before?.status === after.status) return;
  if (after.status === "True") deps.events.normal(raw, "Ready", after.message);
  else if (before?.status === "True")
    deps.events.warning(raw, "NotReady", `${after.reason}: ${after.message}`);
}

/** Manager that keeps a Deployment's replica count while the operator lets go of it for an autoscaler. */
export const REPLICAS_HANDOFF_MANAGER = "stateless-operator-replicas-handoff";

/** We applied `spec.replicas` before and no longer do: a process type just got an autoscaler. */
function releasesReplicas(
  object: KubernetesObject,
  cached: KubeObject | undefined,
  manager: string,
): boolean {
  if (object.kind !== "Deployment" || cached === undefined) return false;
  if ((object as V1Deployment).spec?.replicas !== undefined) return false;
  const ours = cached.metadata?.managedFields?.find(
    (e) => e.manager === manager && e.operation === "Apply",
  );
  const spec = fieldsOf(ours)["f:spec"];
  return typeof spec === "object" && spec !== null && "f:replicas" in spec;
}

/**
 * Server-side apply removes a field its last applier stops setting, and the API server would then
 * default `replicas` to 1 until the autoscaler acts: a scale-down to one process. Applying the
 * current count under a second manager first keeps the field, owned by someone else, as the
 * Kubernetes documentation on transferring ownership to an autoscaler describes.
 */
async function handOffReplicas(
  object: KubernetesObject,
  cached: KubeObject | undefined,
  deps: ReconcileDeps,
  ctx: ReconcileContext,
): Promise<void> {
  const replicas = (cached as V1Deployment | undefined)?.spec?.replicas;
  if (replicas === undefined) return;
  await requestJson(deps.transport, {
    method: "PATCH",
    verb: "apply",
    path: resourcePath(RESOURCE_OF.Deployment, {
      namespace: object.metadata?.namespace,
      name: object.metadata?.name,
    }),
    query: { fieldManager: REPLICAS_HANDOFF_MANAGER, force: true },
    contentType: "application/apply-patch+yaml",
    body: JSON.stringify({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: object.metadata?.name, namespace: object.metadata?.namespace },
      spec: { replicas },
    }),
    signal: ctx.signal,
  });
}

async function jsonPatch(
  object: KubernetesObject,
  patch: JsonPatchOp[],
  deps: ReconcileDeps,
  signal: AbortSignal,
): Promise<KubeObject> {
  const kind = object.kind;
  if (!isChildKind(kind)) throw new Error(`cannot patch ${kind}`);
  return requestJson<KubeObject>(deps.transport, {
    method: "PATCH",
    verb: "patch",
    path: resourcePath(RESOURCE_OF[kind], {
      namespace: object.metadata?.namespace,
      name: object.metadata?.name,
    }),
    query: { fieldManager: deps.applier.fieldManager },
    contentType: "application/json-patch+json",
    body: JSON.stringify(patch),
    signal,
  });
}

/** Deletes owned children the app no longer renders (a removed process type, port, autoscaler, binding). */
async function pruneChildren(
  app: StatelessApp,
  uid: string,
  rendered: readonly KubernetesObject[],
  deps: ReconcileDeps,
  ctx: ReconcileContext,
): Promise<void> {
  const keep = new Set(rendered.map(childId));
  // A binding that does not resolve now keeps its Secret: the frozen Deployment still mounts it.
  for (const b of app.spec.backingServices ?? [])
    keep.add(`Secret/${normalizedSecretName(app.metadata.name, b.name)}`);
  for (const kind of CHILD_KINDS) {
    const owned = deps.children[kind].byIndex(OWNER_INDEX, uid);
    for (const stale of staleChildren(owned, keep, uid)) {
      await deps.applier.delete(stale, { signal: ctx.signal });
      ctx.logger.info(
        { kind, name: stale.metadata?.name },
        "deleted a child the app no longer wants",
      );
    }
  }
}

/** Evicts at most one expired pod per process type; returns when to look again. */
async function recyclePods(
  app: StatelessApp,
  raw: KubeObject,
  live: ReadonlyMap<string, KubeObject>,
  maxLifetimeMs: number,
  deps: ReconcileDeps,
  ctx: ReconcileContext,
): Promise<number | undefined> {
  const namespace = app.metadata.namespace ?? "default";
  let recheck: number | undefined;
  for (const p of app.spec.processes) {
    const deployment = live.get(`Deployment/${childName(app, p.name)}`) as unknown as
      | V1Deployment
      | undefined;
    if (deployment === undefined) continue;
    const selector = `${LABEL_INSTANCE}=${app.metadata.name},${LABEL_COMPONENT}=${p.name}`;
    const pods = await requestJson<{ items: V1Pod[] }>(deps.transport, {
      method: "GET",
      verb: "list",
      path: resourcePath(builtinResources.pod, { namespace }),
      query: { labelSelector: selector },
      signal: ctx.signal,
    });
    const decision = decideRecycle({
      pods: pods.items,
      wanted: deployment.spec?.replicas ?? 1,
      available: deployment.status?.availableReplicas ?? 0,
      maxLifetimeMs,
      now: deps.clock.now(),
    });
    if (decision.evict !== undefined) {
      const pod = decision.evict.metadata?.name ?? "";
      try {
        await requestJson(deps.transport, {
          method: "POST",
          verb: "create",
          path: `${resourcePath(builtinResources.pod, { namespace, name: pod })}/eviction`,
          contentType: "application/json",
          body: JSON.stringify({
            apiVersion: "policy/v1",
            kind: "Eviction",
            metadata: { name: pod, namespace },
          }),
          signal: ctx.signal,
        });
        deps.events.normal(
          raw,
          "Recycled",
          `evicted pod ${pod} of ${p.name}: older than maxPodLifetime ${app.spec.maxPodLifetime}`,
        );
      } catch (error) {
        // 429: the disruption budget says not now; try again shortly.
        if ((error as { code?: number }).code !== 429) throw error;
      }
    }
    if (decision.recheckAfterMs !== undefined)
      recheck = Math.min(recheck ?? Number.POSITIVE_INFINITY, decision.recheckAfterMs);
  }
  return recheck;
}

async function writeStatus(
  raw: KubeObject,
  status: unknown,
  deps: ReconcileDeps,
  ctx: ReconcileContext,
): Promise<boolean> {
  try {
    const result = await deps.applier.applyStatus(raw, status, {
      live: raw,
      signal: ctx.signal,
      deferWhileCacheLags: true,
    });
    return result.deferred === true;
  } catch (error) {
    // The app went away while we worked: nothing left to report on.
    if ((error as { code?: number }).code === 404) return false;
    throw error;
  }
}
