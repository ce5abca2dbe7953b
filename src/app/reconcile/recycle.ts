// maxPodLifetime: which pod to recycle now, and when to look again. Pure.
import type { V1Pod } from "@kubernetes/client-node";

export interface RecycleInput {
  readonly pods: readonly V1Pod[];
  /** Processes the Deployment wants. */
  readonly wanted: number;
  /** Processes available right now (the Deployment's status). */
  readonly available: number;
  readonly maxLifetimeMs: number;
  readonly now: number;
}

export interface RecycleDecision {
  /** The oldest expired pod, when evicting it now keeps the process type at full strength. */
  readonly evict?: V1Pod;
  /** When to look again (ms from now); undefined when no pod will ever expire (none run). */
  readonly recheckAfterMs?: number;
  /** Why nothing is evicted though a pod has expired. */
  readonly waiting?: string;
}

const startedAt = (pod: V1Pod): number | undefined => {
  const t = pod.status?.startTime ?? pod.metadata?.creationTimestamp;
  if (t === undefined) return undefined;
  const ms = new Date(t).getTime();
  return Number.isNaN(ms) ? undefined : ms;
};

/**
 * The pods of Deployment `deployment`: controlled by its ReplicaSet, which the Deployment
 * controller names `<deployment>-<pod-template-hash>` and whose pods carry that hash as a label.
 * The process type's label selector alone is not proof: another team's pods may carry the same
 * `app.kubernetes.io/instance` and `component` labels, and are never evicted.
 */
export function podsOf(pods: readonly V1Pod[], deployment: string): V1Pod[] {
  return pods.filter((pod) => {
    const hash = pod.metadata?.labels?.["pod-template-hash"];
    const controller = pod.metadata?.ownerReferences?.find((r) => r.controller === true);
    return (
      hash !== undefined &&
      controller?.kind === "ReplicaSet" &&
      controller.apiVersion === "apps/v1" &&
      controller.name === `${deployment}-${hash}`
    );
  });
}

/** Pods shut down or gone do not count: they are already being replaced. */
const live = (pod: V1Pod) =>
  pod.metadata?.deletionTimestamp === undefined &&
  pod.status?.phase !== "Succeeded" &&
  pod.status?.phase !== "Failed";

/**
 * One pod at a time, oldest first, and only while every wanted process is available: an
 * eviction then takes the type down to wanted − 1 for as long as the replacement takes to start,
 * never lower; the PodDisruptionBudget (maxUnavailable 1) backs that up at the API server.
 */
export function decideRecycle(input: RecycleInput): RecycleDecision {
  const aged = input.pods
    .filter(live)
    .map((pod) => ({ pod, start: startedAt(pod) }))
    .filter((p): p is { pod: V1Pod; start: number } => p.start !== undefined)
    .sort(
      (a, b) =>
        a.start - b.start || (a.pod.metadata?.name ?? "").localeCompare(b.pod.metadata?.name ?? ""),
    );
  const [oldest] = aged;
  if (oldest === undefined) return {};
  const expiresIn = oldest.start + input.maxLifetimeMs - input.now;
  if (expiresIn > 0) return { recheckAfterMs: expiresIn };
  const terminating = input.pods.some((p) => p.metadata?.deletionTimestamp !== undefined);
  if (
    terminating ||
    input.available < input.wanted ||
    input.pods.filter(live).length > input.wanted
  ) {
    return {
      recheckAfterMs: 5_000,
      waiting: "waiting for the previous replacement to become available",
    };
  }
  const next = aged[1];
  const after =
    next === undefined
      ? input.maxLifetimeMs
      : Math.max(5_000, next.start + input.maxLifetimeMs - input.now);
  return { evict: oldest.pod, recheckAfterMs: Math.min(after, 5_000) };
}
