// What one reconcile of a StatelessApp does, decided from what it observed: a Plan, plain data. Pure.
//
// Planning happens in two steps around the child writes, because the status reports the
// Deployments as the API server returns them from this reconcile's own writes (a changed spec
// bumps the generation, so the status says Progressing at once, not one watch event later):
//   planApp(observation)                  → the child actions: apply / keep / delete / refuse
//   finishPlan(plan, observation, written) → evictions, status, events, when to look again
// A rendered child whose name the caches do not know is looked up by name first: planApp then
// asks for that (Plan.lookUp) instead of deciding, and is called again with what was found.
import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import { parseDuration, type StatelessApp, type StatelessAppStatus } from "../../api/index.ts";
import { applyNeeded } from "../../runtime/apply-decision.ts";
import { fieldsOf, type KubeObject, objectKey } from "../../runtime/object.ts";
import { bindingsHash, normalizedSecretName } from "../bindings/index.ts";
import {
  BINDINGS_HASH_ANNOTATION,
  childName,
  desired,
  LABEL_COMPONENT,
  LABEL_INSTANCE,
} from "../render/index.ts";
import {
  type BindingOutcome,
  ConditionType,
  computeStatus,
  conditionTime,
  processFailure,
  processRolledOut,
  type ReleaseLog,
} from "../status/index.ts";
import { type ChildKind, isChildKind } from "./children.ts";
import { type ForbiddenFix, forbiddenAdditions } from "./forbidden.ts";
import { nameInUse, ownershipOf } from "./ownership.ts";
import { childId, staleChildren } from "./prune.ts";
import { decideRecycle, podsOf } from "./recycle.ts";
import type { ResolvedBindings } from "./resolve-bindings.ts";

/** When an app whose write waited for the cache looks again. */
export const CACHE_LAG_RECHECK_MS = 2_000;

/** How often an app with an unresolved binding looks again, besides the Secret and service watches. */
export const BINDING_RETRY_MS = 30_000;

/**
 * How often an app whose child name is another's looks again. Freeing a name held by another
 * app or by a Secret brings a watch event at once (watches.ts maps it to the waiting app); an
 * object without the operator's label is in no cache, so only this retry notices it is gone.
 */
export const NAME_IN_USE_RETRY_MS = 30_000;

/** Manager that keeps a Deployment's replica count while the operator lets go of it for an autoscaler. */
export const REPLICAS_HANDOFF_MANAGER = "stateless-operator-replicas-handoff";

/** What reconcile saw before deciding anything. */
export interface Observation {
  /** The app as cached: its metadata and its status as the API server has them. */
  readonly raw: KubeObject;
  /** The parsed app, or what makes its spec invalid. */
  readonly spec:
    | { readonly valid: true; readonly app: StatelessApp }
    | { readonly valid: false; readonly problems: readonly string[] };
  /** Its bindings resolved from their sources (none for an invalid spec). */
  readonly bindings: ResolvedBindings;
  /** The hash of the data envFrom and config read; undefined when the app names no source. */
  readonly configHash?: string;
  /** The cached child of a kind by `namespace/name` (the operator's label-selected caches). */
  readonly cached: (kind: ChildKind, key: string) => KubeObject | undefined;
  /** The kinds whose cache holds every object in scope: a name missing from it is free. */
  readonly wholeKinds?: ReadonlySet<ChildKind>;
  /** The cached children whose controller is this app, every kind, in child-kind order. */
  readonly owned: readonly KubeObject[];
  /**
   * Rendered children the caches had no entry for, as a lookup by name found them (`Kind/name`
   * → the object, or null when there is none): the caches of the kinds not in wholeKinds hold
   * only objects with the operator's label, so another's object of that name is seen this way.
   */
  readonly lookedUp?: { get(id: string): KubeObject | null | undefined };
  /**
   * The app's pods as the pod cache holds them (trimPod: identity, owner, labels and waiting
   * containers), for the failures the status reports.
   */
  readonly pods: readonly V1Pod[];
  /** Our field manager: its managedFields entry says what we applied before. */
  readonly fieldManager: string;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

export type ChildAction =
  | {
      readonly action: "apply";
      readonly object: KubeObject;
      /** The cached object, compared against and reported on until a write answers. */
      readonly live: KubeObject | undefined;
      /**
       * Before applying: apply this replica count under REPLICAS_HANDOFF_MANAGER. We stop setting
       * `spec.replicas` (an autoscaler takes over), and server-side apply would otherwise remove
       * the field and the API server default it to 1 until the autoscaler acts.
       */
      readonly handOffReplicas?: number;
      /** Before applying: remove, by JSON patch, what others added that breaks the rule. */
      readonly removeForbidden?: ForbiddenFix;
      /** A write then means someone changed what we applied: a DriftCorrected Warning. */
      readonly reportDrift: boolean;
      /**
       * Applied only when these children (`Kind/name`) were written or already matched: a
       * Deployment waits for the binding Secrets its pods mount, so a Secret the API server
       * rejects leaves the pods on the last good template instead of rolling them onto the old
       * Secret with a new hash.
       */
      readonly requires?: readonly string[];
    }
  /** Left as it is (reconciling is paused, or a broken binding freezes the Deployment). */
  | {
      readonly action: "keep";
      readonly object: KubeObject;
      readonly live: KubeObject | undefined;
      readonly reason: string;
    }
  /** An owned child the app no longer renders. */
  | { readonly action: "delete"; readonly object: KubeObject; readonly reason: string }
  /**
   * Not written: another's object has the name (NameInUse). Nothing of it changes; the status
   * says whose it is.
   */
  | { readonly action: "refuse"; readonly object: KubeObject; readonly problem: string };

export interface Eviction {
  readonly process: string;
  readonly pod: { readonly namespace: string; readonly name: string };
  /** The Normal `Recycled` Event once the eviction went through. */
  readonly message: string;
}

export interface PlannedEvent {
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
  /**
   * Reports a change of the status (Ready, NotReady, NameInUse): not recorded when the cached
   * status this reconcile compared with predates our previous status write (the applier says
   * so), since the reconcile that made that write recorded it.
   */
  readonly transition?: true;
}

export interface Plan {
  /** `namespace/name` of the app. */
  readonly key: string;
  /** An invalid spec: nothing is written but the status. */
  readonly problems?: readonly string[];
  /**
   * Rendered children neither the caches nor Observation.lookedUp know about: look them up by
   * name and plan again. Such a plan decides nothing else (its `children` is empty).
   */
  readonly lookUp?: readonly KubeObject[];
  readonly children: readonly ChildAction[];
  /** maxPodLifetime: whose pods to read after the child writes, to pick one to recycle. */
  /** The release of the app's image and spec.release, when it has one: its Job and how it went. */
  readonly release?: ReleaseOutcome;
  readonly recycle?: {
    readonly maxLifetimeMs: number;
    readonly processes: readonly RecycledProcess[];
  };
  /** From here on, filled by finishPlan. */
  readonly evictions: readonly Eviction[];
  readonly status?: StatelessAppStatus;
  /** Recorded after the status is written. */
  readonly events: readonly PlannedEvent[];
  /** Milliseconds until the app is looked at again; undefined: only when something changes. */
  readonly requeueAfterMs?: number;
  /** When a write waits for the cache to show our previous one, look again within this. */
  readonly cacheLagRecheckMs?: number;
}

/** Release Jobs kept per app, the current one included: older ones are deleted. */
export const KEPT_RELEASE_JOBS = 3;

export interface ReleaseOutcome {
  readonly image: string;
  readonly job: string;
  /** Running: created and not finished (or not created yet); the Deployments wait. */
  readonly state: "Running" | "Succeeded" | "Failed";
  /** A failed Job's condition: its reason and message, for Stalled. */
  readonly failure?: string;
  /**
   * A failed Job's pod whose log the reconcile reads for its last line (once per Job: the
   * reader remembers it by the Job's uid): the newest pod the Job controls. Undefined when the
   * pod cache holds none of its pods.
   */
  readonly logOf?: ReleaseLogTarget;
  /** That pod's last log line, or why it could not be read: set once the reconcile read it. */
  readonly log?: ReleaseLog;
}

/** The pod of a failed release Job to read the log of, and the Job, whose uid keys the read. */
export interface ReleaseLogTarget {
  readonly jobUid: string;
  readonly namespace: string;
  readonly pod: string;
}

export interface RecycledProcess {
  readonly name: string;
  /** `Deployment/<name>`: its live view says how many processes are wanted and available. */
  readonly deployment: string;
  readonly namespace: string;
  readonly labelSelector: string;
}

/** What the child writes left behind, for finishPlan. */
export interface Written {
  /** The freshest view of each child by `Kind/name`: the API server's answer to a write, else the cache. */
  readonly live: ReadonlyMap<string, KubeObject>;
  /** The last permanent failure writing a child (the API server's reason), for the status. */
  readonly applyError?: string;
  /** A failure writing a child that the controller retries with backoff, for the status. */
  readonly applyRetrying?: string;
  /** The children the API server rejected, by `Kind/name`, with its reason. */
  readonly rejected?: ReadonlyMap<string, string>;
  /** The pods of each recycled process type, read after the writes. */
  readonly pods: ReadonlyMap<string, readonly V1Pod[]>;
  /** When the pods were read. */
  readonly now: number;
  /** The last log line of the failed release's pod (Plan.release.logOf), or why there is none. */
  readonly releaseLog?: ReleaseLog;
}

const templateHash = (o: object | undefined) =>
  (o as V1Deployment | undefined)?.spec?.template?.metadata?.annotations?.[
    BINDINGS_HASH_ANNOTATION
  ];
const blank = { evictions: [], events: [] } as const;

/** The child actions of one reconcile. */
export function planApp(observation: Observation): Plan {
  const { raw, spec, bindings } = observation;
  const key = objectKey(raw);
  if (!spec.valid) {
    return {
      key,
      problems: spec.problems,
      children: [],
      ...blank,
      events: [
        { type: "Warning", reason: "InvalidSpec", message: spec.problems.slice(0, 3).join("; ") },
      ],
    };
  }
  const { app } = spec;
  const wanted = desired(app, {
    bindings: { resolved: bindings.resolved, hash: bindingsHash(bindings.resolved) },
    ...(observation.configHash === undefined ? {} : { configHash: observation.configHash }),
  });
  const children: ChildAction[] = [];
  const renderEvents: PlannedEvent[] = wanted.warnings.map((w) => ({
    type: "Warning",
    reason: w.reason,
    message: w.message,
  }));
  const bindingEvents: PlannedEvent[] = bindings.ready
    ? []
    : bindings.outcomes.flatMap((o) =>
        o.problem === undefined
          ? []
          : [{ type: "Warning" as const, reason: "BindingNotReady", message: o.problem }],
      );
  const events = [...renderEvents, ...bindingEvents];
  const cacheLagRecheckMs = bindings.ready ? CACHE_LAG_RECHECK_MS : undefined;
  // The renderer speaks client-node's types; the caches and the API server give plain JSON.
  const rendered = wanted.objects.filter((o) => isChildKind(o.kind)) as KubeObject[];

  const uid = app.metadata.uid ?? "";
  if (app.spec.paused === true) {
    // Nothing is written, so nothing needs looking up; a cached child of another is not reported.
    for (const object of rendered) {
      const live = cached(observation, object);
      const owner = ownershipOf(live, uid);
      children.push(
        owner.state === "foreign"
          ? refuse(object, owner.holder)
          : { action: "keep", object, live, reason: "paused" },
      );
    }
    return { key, children, ...blank, events, ...lagRecheck(cacheLagRecheckMs) };
  }

  const release = releaseOf(observation, rendered, uid);
  const steady =
    (raw.status as { observedGeneration?: number } | undefined)?.observedGeneration ===
      app.metadata.generation && !releaseJustSucceeded(raw, release);
  // The pods mount every binding Secret: the Deployments are applied only once those are in place.
  const bindingSecrets = rendered.filter((o) => o.kind === "Secret").map(childId);
  const lookUp: KubeObject[] = [];
  for (const object of rendered) {
    // The release Job mounts the binding Secrets as the pods do: it waits for them too.
    const frozen = (object.kind === "Deployment" || object.kind === "Job") && !bindings.ready;
    const holder = holderOf(observation, object);
    if (holder === unknown) {
      // A frozen Deployment is not written: whoever holds the name, nothing changes.
      if (frozen) children.push({ action: "keep", object, live: undefined, reason: KEEP_FROZEN });
      else lookUp.push(object);
      continue;
    }
    const owner = ownershipOf(holder, uid);
    if (owner.state === "foreign") children.push(refuse(object, owner.holder));
    else if (frozen) {
      // No rollout onto credentials that do not work: the last good Deployment keeps running.
      children.push({ action: "keep", object, live: holder, reason: KEEP_FROZEN });
    } else if (object.kind === "Job" && holder !== undefined) {
      // A Job's pod template cannot change; it is the record of one release's run.
      children.push({
        action: "keep",
        object,
        live: holder,
        reason: "a release Job is never changed",
      });
    } else if (
      object.kind === "Deployment" &&
      release !== undefined &&
      release.state !== "Succeeded" &&
      templateChanges(object, holder, observation.fieldManager)
    ) {
      // The old Deployment keeps serving until the release succeeded; a new app's waits to exist.
      children.push({ action: "keep", object, live: holder, reason: releaseHold(release) });
    } else {
      const requires = object.kind === "Deployment" ? bindingSecrets : [];
      children.push(applyAction(object, holder, steady, observation.fieldManager, requires));
    }
  }
  if (lookUp.length > 0)
    return { key, lookUp, children: [], ...blank, events, ...lagRecheck(cacheLagRecheckMs) };
  const keep = new Set(rendered.map(childId));
  // A binding that does not resolve now keeps its Secret: the frozen Deployment still mounts it.
  for (const b of app.spec.backingServices ?? [])
    keep.add(`Secret/${normalizedSecretName(app.metadata.name, b.name)}`);
  for (const job of recentReleaseJobs(observation.owned, uid, release?.job)) keep.add(childId(job));
  for (const stale of staleChildren(observation.owned, keep, app.metadata.uid ?? ""))
    children.push({ action: "delete", object: stale, reason: "no longer rendered" });

  const recycle =
    app.spec.maxPodLifetime !== undefined && bindings.ready
      ? {
          recycle: {
            maxLifetimeMs: parseDuration(app.spec.maxPodLifetime),
            processes: app.spec.processes.map((p) => ({
              name: p.name,
              deployment: `Deployment/${childName(app, p.name)}`,
              namespace: app.metadata.namespace ?? "default",
              labelSelector: `${LABEL_INSTANCE}=${app.metadata.name},${LABEL_COMPONENT}=${p.name}`,
            })),
          },
        }
      : {};
  return {
    key,
    children,
    ...(release === undefined ? {} : { release }),
    ...recycle,
    ...blank,
    events,
    ...lagRecheck(cacheLagRecheckMs),
  };
}

/** The current release and its Job's state; undefined when the app has no spec.release. */
function releaseOf(
  observation: Observation,
  rendered: readonly KubeObject[],
  uid: string,
): ReleaseOutcome | undefined {
  const job = rendered.find((o) => o.kind === "Job");
  if (job === undefined || !observation.spec.valid) return undefined;
  const base = { image: observation.spec.app.spec.image, job: job.metadata?.name ?? "" };
  const holder = holderOf(observation, job);
  if (holder === unknown || holder === undefined || ownershipOf(holder, uid).state !== "ours")
    return { ...base, state: "Running" };
  const conditions =
    (holder.status as { conditions?: JobCondition[] } | undefined)?.conditions ?? [];
  const failed = conditions.find((c) => c.type === "Failed" && c.status === "True");
  if (failed !== undefined) {
    const pod = newestPodOf(observation.pods, holder);
    return {
      ...base,
      state: "Failed",
      failure: `${failed.reason ?? "Failed"}: ${failed.message ?? "the Job failed"}`,
      ...(pod === undefined ? {} : { logOf: pod }),
    };
  }
  if (conditions.some((c) => c.type === "Complete" && c.status === "True"))
    return { ...base, state: "Succeeded" };
  return { ...base, state: "Running" };
}

/**
 * The newest pod (by creation time, then name) whose controller is the Job `job` by uid, in the
 * Job's namespace, that did not succeed: the last attempt, whose log says why the release failed.
 * The app's labels alone are no proof (whoever may create pods in the namespace can set them), so
 * a pod the Job does not control is never read, whatever it is named or labelled.
 */
function newestPodOf(pods: readonly V1Pod[], job: KubeObject): ReleaseLogTarget | undefined {
  const uid = job.metadata?.uid;
  const namespace = job.metadata?.namespace;
  if (uid === undefined || uid === "" || namespace === undefined) return undefined;
  const ofJob = pods.filter((p) => {
    const controller = p.metadata?.ownerReferences?.find((r) => r.controller === true);
    return (
      p.metadata?.namespace === namespace &&
      p.status?.phase !== "Succeeded" &&
      controller?.apiVersion === "batch/v1" &&
      controller.kind === "Job" &&
      controller.uid === uid &&
      controller.name === job.metadata?.name
    );
  });
  const created = (p: V1Pod) => String(p.metadata?.creationTimestamp ?? "");
  const [newest] = ofJob.sort(
    (a, b) =>
      created(b).localeCompare(created(a)) ||
      (b.metadata?.name ?? "").localeCompare(a.metadata?.name ?? ""),
  );
  const name = newest?.metadata?.name;
  return name === undefined ? undefined : { jobUid: uid, namespace, pod: name };
}

/**
 * The release the last status reported as not succeeded has succeeded: the Deployments held for
 * it roll now, which is the spec's change reaching them, not drift to report.
 */
function releaseJustSucceeded(raw: KubeObject, release: ReleaseOutcome | undefined): boolean {
  if (release?.state !== "Succeeded") return false;
  const before = (raw.status as { release?: { job?: string; state?: string } } | undefined)
    ?.release;
  return before?.job !== release.job || before.state !== "Succeeded";
}

interface JobCondition {
  readonly type?: string;
  readonly status?: string;
  readonly reason?: string;
  readonly message?: string;
}

const releaseHold = (release: ReleaseOutcome): string =>
  release.state === "Failed" ? `release ${release.job} failed` : `release ${release.job} running`;

/**
 * Whether applying the Deployment would change its pod template (a rollout): absent, or the
 * template differs from what we applied. Decided on the template alone and our ownership of it,
 * so a replica count or a label still reaches the old Deployment while the release runs.
 */
function templateChanges(
  object: KubeObject,
  live: KubeObject | undefined,
  fieldManager: string,
): boolean {
  if (live === undefined) return true;
  const templateOnly = (o: KubeObject): KubeObject => ({
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: { name: o.metadata?.name ?? "" },
    spec: { template: (o as V1Deployment).spec?.template },
  });
  const entries = (live.metadata?.managedFields ?? []).map((e) => {
    const spec = fieldsOf(e)["f:spec"] as Record<string, unknown> | undefined;
    const template = spec?.["f:template"];
    return {
      ...e,
      fieldsV1: template === undefined ? {} : { "f:spec": { "f:template": template } },
    };
  });
  const liveTemplate = {
    ...templateOnly(live),
    metadata: { name: live.metadata?.name ?? "", managedFields: entries },
  };
  return applyNeeded(templateOnly(object), liveTemplate, { fieldManager }).write;
}

/**
 * The release Jobs to keep: the current one and the newest others by creationTimestamp (one
 * second resolution), KEPT_RELEASE_JOBS in all. Every other owned Job is deleted (in the
 * background: its pods go with it).
 */
function recentReleaseJobs(
  owned: readonly KubeObject[],
  uid: string,
  current: string | undefined,
): KubeObject[] {
  const jobs = owned
    .filter((o) => o.kind === "Job" && ownershipOf(o, uid).state === "ours")
    .sort((a, b) =>
      String(b.metadata?.creationTimestamp ?? "").localeCompare(
        String(a.metadata?.creationTimestamp ?? ""),
      ),
    );
  const others = jobs.filter((j) => j.metadata?.name !== current);
  return others.slice(0, current === undefined ? KEPT_RELEASE_JOBS : KEPT_RELEASE_JOBS - 1);
}

const KEEP_FROZEN = "a binding is not ready";

/** Neither the cache nor a lookup by name has seen the name yet. */
const unknown = Symbol("unknown");

/**
 * The object holding a rendered child's name: the cache's, else none when that cache holds its
 * whole kind, else a lookup's (undefined: none).
 */
function holderOf(
  observation: Observation,
  object: KubeObject,
): KubeObject | undefined | typeof unknown {
  const live = cached(observation, object);
  if (live !== undefined) return live;
  if (observation.wholeKinds?.has(object.kind as ChildKind) === true) return undefined;
  const found = observation.lookedUp?.get(childId(object));
  return found === undefined ? unknown : (found ?? undefined);
}

const refuse = (object: KubeObject, holder: string): ChildAction => ({
  action: "refuse",
  object,
  problem: nameInUse(object.kind ?? "", object.metadata?.name ?? "", holder),
});

function applyAction(
  object: KubeObject,
  live: KubeObject | undefined,
  steady: boolean,
  fieldManager: string,
  requires: readonly string[],
): ChildAction {
  const replicas = releasesReplicas(object, live, fieldManager)
    ? (live as V1Deployment).spec?.replicas
    : undefined;
  const fix = forbiddenAdditions(object, live);
  const rotated = object.kind === "Deployment" && templateHash(object) !== templateHash(live);
  return {
    action: "apply",
    object,
    live,
    ...(replicas === undefined ? {} : { handOffReplicas: replicas }),
    ...(fix.patch.length > 0 ? { removeForbidden: fix } : {}),
    reportDrift: live !== undefined && steady && !rotated && object.kind !== "Secret",
    ...(requires.length > 0 ? { requires } : {}),
  };
}

/** We applied `spec.replicas` before and no longer do: a process type just got an autoscaler. */
function releasesReplicas(
  object: KubeObject,
  live: KubeObject | undefined,
  manager: string,
): boolean {
  if (object.kind !== "Deployment" || live === undefined) return false;
  if ((object as V1Deployment).spec?.replicas !== undefined) return false;
  const ours = live.metadata?.managedFields?.find(
    (e) => e.manager === manager && e.operation === "Apply",
  );
  const spec = fieldsOf(ours)["f:spec"];
  return typeof spec === "object" && spec !== null && "f:replicas" in spec;
}

/** Evictions, status, events and when to look again, once the children are written. */
export function finishPlan(plan: Plan, observation: Observation, written: Written): Plan {
  const { raw, spec, bindings } = observation;
  const now = conditionTime(observation.now);
  if (!spec.valid) {
    // An invalid spec has no processes to report on; the status says only what is wrong.
    const shell = { ...(raw as unknown as StatelessApp), spec: { image: "", processes: [] } };
    const status = computeStatus({
      app: shell,
      invalid: spec.problems,
      deployments: new Map(),
      bindings: [],
      now,
    });
    return { ...plan, status };
  }
  const { app } = spec;
  const deployments = new Map<string, V1Deployment>();
  for (const p of app.spec.processes) {
    const d = written.live.get(`Deployment/${childName(app, p.name)}`);
    if (d !== undefined) deployments.set(p.name, d as unknown as V1Deployment);
  }
  const outcomes = bindingOutcomes(bindings.outcomes, plan, written);
  const refused = plan.children.flatMap((c) => (c.action === "refuse" ? [c.problem] : []));
  const podFailures = failingProcesses(app, deployments, observation.pods);
  const status = computeStatus({
    app,
    deployments,
    bindings: outcomes,
    ...(plan.release === undefined
      ? {}
      : {
          release:
            written.releaseLog === undefined
              ? plan.release
              : { ...plan.release, log: written.releaseLog },
        }),
    ...(written.applyError === undefined ? {} : { applyError: written.applyError }),
    ...(written.applyRetrying === undefined ? {} : { applyRetrying: written.applyRetrying }),
    ...(refused.length === 0 ? {} : { nameInUse: refused }),
    ...(podFailures.size === 0 ? {} : { podFailures }),
    now,
  });
  // One Warning per failure; the recorder joins repeats of one message into a series.
  const failures: PlannedEvent[] = [written.applyError, written.applyRetrying].flatMap((m) =>
    m === undefined ? [] : [{ type: "Warning" as const, reason: "ApplyFailed", message: m }],
  );
  const events = [
    ...readyTransition(app, status),
    ...stalledTransition(app, status),
    ...podFailureTransitions(app, status, podFailures),
    ...failures,
    ...plan.events,
  ];
  const retry = refused.length === 0 ? Number.POSITIVE_INFINITY : NAME_IN_USE_RETRY_MS;
  if (outcomes.some((o) => o.problem !== undefined))
    return { ...plan, status, events, requeueAfterMs: Math.min(BINDING_RETRY_MS, retry) };

  const evictions: Eviction[] = [];
  let recheck: number | undefined;
  for (const process of plan.recycle?.processes ?? []) {
    const deployment = written.live.get(process.deployment) as unknown as V1Deployment | undefined;
    if (deployment === undefined) continue;
    const decision = decideRecycle({
      // Only the pods of our Deployment: the label selector alone may match another's pods.
      pods: podsOf(written.pods.get(process.name) ?? [], deployment.metadata?.name ?? ""),
      wanted: deployment.spec?.replicas ?? 1,
      available: deployment.status?.availableReplicas ?? 0,
      maxLifetimeMs: plan.recycle?.maxLifetimeMs ?? 0,
      now: written.now,
    });
    const pod = decision.evict?.metadata?.name;
    if (pod !== undefined) {
      evictions.push({
        process: process.name,
        pod: { namespace: process.namespace, name: pod },
        message: `evicted pod ${pod} of ${process.name}: older than maxPodLifetime ${app.spec.maxPodLifetime}`,
      });
    }
    if (decision.recheckAfterMs !== undefined)
      recheck = Math.min(recheck ?? Number.POSITIVE_INFINITY, decision.recheckAfterMs);
  }
  const after = Math.min(recheck ?? Number.POSITIVE_INFINITY, retry);
  return {
    ...plan,
    evictions,
    status,
    events,
    ...(after === Number.POSITIVE_INFINITY ? {} : { requeueAfterMs: after }),
  };
}

/**
 * The resolved bindings, less those whose binding Secret is not in place: refused (another's
 * Secret has its name, and is never mounted) or rejected by the API server (its reason).
 */
function bindingOutcomes(
  resolved: readonly BindingOutcome[],
  plan: Plan,
  written: Written,
): BindingOutcome[] {
  const refused = new Map(
    plan.children.flatMap((c) => (c.action === "refuse" ? [[childId(c.object), c.problem]] : [])),
  );
  return resolved.map((o) => {
    if (o.problem !== undefined || o.secretName === undefined) return o;
    const id = `Secret/${o.secretName}`;
    const inUse = refused.get(id);
    if (inUse !== undefined) return { ...o, problem: inUse, reason: "NameInUse" };
    const rejected = written.rejected?.get(id);
    if (rejected !== undefined)
      return {
        ...o,
        problem: `binding Secret ${o.secretName} was not written: ${rejected}`,
        reason: "SecretRejected",
      };
    return o;
  });
}

/**
 * The failure line of each process type not rolled out whose pods fail: only the pods of its
 * Deployment (the labels alone may match another's pods, which never show up here).
 */
function failingProcesses(
  app: StatelessApp,
  deployments: ReadonlyMap<string, V1Deployment>,
  pods: readonly V1Pod[],
): Map<string, string> {
  const lines = new Map<string, string>();
  for (const p of app.spec.processes) {
    const deployment = deployments.get(p.name);
    if (deployment === undefined || processRolledOut(deployment)) continue;
    const line = processFailure(p.name, podsOf(pods, childName(app, p.name)));
    if (line !== undefined) lines.set(p.name, line);
  }
  return lines;
}

/**
 * A Warning for each pod failure the Ready condition reports that it did not report before: one
 * per distinct message (a repeat of one joins its Event's series in the recorder).
 */
function podFailureTransitions(
  app: StatelessApp,
  status: StatelessAppStatus,
  failures: ReadonlyMap<string, string>,
): PlannedEvent[] {
  const after = status.conditions?.find((c) => c.type === ConditionType.ready);
  if (after?.reason !== "PodsFailing") return [];
  const before = app.status?.conditions?.find((c) => c.type === ConditionType.ready)?.message ?? "";
  return [...failures.values()]
    .filter((line) => !before.includes(line))
    .map((line) => ({ type: "Warning", reason: "PodFailing", message: line, transition: true }));
}

/** Stalled reasons reported by a Warning of that reason when they begin or their message changes. */
const WARNED_STALLS: readonly string[] = ["NameInUse", "ReleaseFailed"];

/**
 * A Warning when the app becomes NameInUse (or another name is in use) or its release fails:
 * once, not at every retry.
 */
function stalledTransition(app: StatelessApp, status: StatelessAppStatus): PlannedEvent[] {
  const after = status.conditions?.find((c) => c.type === ConditionType.stalled);
  if (after === undefined || !WARNED_STALLS.includes(after.reason)) return [];
  const before = app.status?.conditions?.find((c) => c.type === ConditionType.stalled);
  if (before?.reason === after.reason && before.message === after.message) return [];
  return [{ type: "Warning", reason: after.reason, message: after.message, transition: true }];
}

/** A Normal Event when the app becomes Ready, a Warning when it stops being Ready. */
function readyTransition(app: StatelessApp, status: StatelessAppStatus): PlannedEvent[] {
  const before = app.status?.conditions?.find((c) => c.type === ConditionType.ready);
  const after = status.conditions?.find((c) => c.type === ConditionType.ready);
  if (after === undefined || before?.status === after.status) return [];
  if (after.status === "True")
    return [{ type: "Normal", reason: "Ready", message: after.message, transition: true }];
  if (before?.status === "True")
    return [
      {
        type: "Warning",
        reason: "NotReady",
        message: `${after.reason}: ${after.message}`,
        transition: true,
      },
    ];
  return [];
}

/** The requeue after the writes: a write that waited for the cache shortens it to cacheLagRecheckMs. */
export function requeueAfterWrites(plan: Plan, deferred: boolean): number | undefined {
  if (!deferred || plan.cacheLagRecheckMs === undefined) return plan.requeueAfterMs;
  return Math.min(plan.requeueAfterMs ?? plan.cacheLagRecheckMs, plan.cacheLagRecheckMs);
}

const cached = (observation: Observation, object: KubeObject) =>
  observation.cached(object.kind as ChildKind, objectKey(object));

const lagRecheck = (ms: number | undefined) => (ms === undefined ? {} : { cacheLagRecheckMs: ms });
