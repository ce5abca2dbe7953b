// Why a process type's pods do not run, as the kubelet and the scheduler report it, and the trimmed pod the cache keeps. Pure.
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import type { KubeObject } from "../../runtime/index.ts";
import { LABEL_INSTANCE } from "../render/index.ts";

/**
 * Waiting reasons of a container that is on its way: every other one (ErrImagePull,
 * ImagePullBackOff, ErrImageNeverPull, InvalidImageName, CrashLoopBackOff,
 * CreateContainerConfigError, CreateContainerError, RunContainerError, …) is a failure.
 */
const STARTING = new Set(["ContainerCreating", "PodInitializing"]);

/** The longest kubelet or termination message kept in the cache and shown in the status. */
const MESSAGE_MAX = 512;

/** One pod's failure: the kubelet's reason and message for a container, or the scheduler's. */
export interface PodFailure {
  readonly pod: string;
  readonly container?: string;
  readonly reason: string;
  readonly message: string;
}

const clip = (text: string | undefined): string | undefined =>
  text === undefined || text.length <= MESSAGE_MAX ? text : `${text.slice(0, MESSAGE_MAX - 1)}…`;

/** The object without its undefined fields, so the cache holds no empty keys. */
const defined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** `last exit code 3 (Error): <termination message>`: why a crash-looping container stopped. */
function lastExit(status: V1ContainerStatus): string | undefined {
  const t = status.lastState?.terminated;
  if (t === undefined) return undefined;
  const reason = t.reason === undefined ? "" : ` (${t.reason})`;
  const message = t.message ? `: ${t.message.trim()}` : "";
  return `last exit code ${t.exitCode}${reason}${message}`;
}

/** The first failure of one pod (init containers first, as they run), or undefined when it has none. */
export function podFailure(pod: V1Pod): PodFailure | undefined {
  const name = pod.metadata?.name ?? "";
  if (pod.metadata?.deletionTimestamp !== undefined) return undefined;
  if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return undefined;
  const statuses = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  for (const s of statuses) {
    const waiting = s.state?.waiting;
    if (waiting?.reason === undefined || STARTING.has(waiting.reason)) continue;
    const parts = [waiting.message?.trim(), lastExit(s)].filter((p) => p !== undefined && p !== "");
    return {
      pod: name,
      container: s.name,
      reason: waiting.reason,
      message: parts.length > 0 ? parts.join("; ") : "no message from the kubelet",
    };
  }
  const unscheduled = pod.status?.conditions?.find(
    (c) => c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable",
  );
  if (unscheduled !== undefined)
    return { pod: name, reason: "Unschedulable", message: unscheduled.message ?? "" };
  return undefined;
}

/**
 * A process type's failure line: `web: ImagePullBackOff: <the kubelet's message> (pod …,
 * container …)`, from the first failing pod by name (so the line does not flip between pods),
 * and how many more fail. Undefined when none of `pods` fails.
 */
export function processFailure(process: string, pods: readonly V1Pod[]): string | undefined {
  const failures = pods
    .map(podFailure)
    .filter((f): f is PodFailure => f !== undefined)
    .sort((a, b) => a.pod.localeCompare(b.pod));
  const [first] = failures;
  if (first === undefined) return undefined;
  const where =
    first.container === undefined
      ? `pod ${first.pod}`
      : `pod ${first.pod}, container ${first.container}`;
  const more = failures.length > 1 ? `; ${failures.length - 1} more pods failing` : "";
  return `${process}: ${first.reason}: ${first.message} (${where}${more})`;
}

/** A container status as the cache keeps it: only what podFailure reads, only while it fails. */
function trimContainer(s: V1ContainerStatus): V1ContainerStatus | undefined {
  const waiting = s.state?.waiting;
  if (waiting?.reason === undefined || STARTING.has(waiting.reason)) return undefined;
  const t = s.lastState?.terminated;
  return {
    name: s.name,
    state: { waiting: defined({ reason: waiting.reason, message: clip(waiting.message) }) },
    ...(t === undefined
      ? {}
      : {
          lastState: {
            terminated: defined({
              exitCode: t.exitCode,
              reason: t.reason,
              message: clip(t.message),
            }),
          },
        }),
  } as unknown as V1ContainerStatus;
}

const POD_TEMPLATE_HASH = "pod-template-hash";

const pick = (labels: Record<string, string> | undefined, keys: readonly string[]) =>
  labels === undefined
    ? undefined
    : Object.fromEntries(keys.filter((k) => k in labels).map((k) => [k, labels[k] as string]));

/**
 * The pod cache's transform: a pod reduced to its identity, its controller (and, for a Job's pod,
 * its creation time), two labels and the fields podFailure reads — a rendered pod is 3–6 kB as
 * the API server sends it; a running one is a few hundred bytes here, a failing one at most about
 * 1.5 kB (messages clipped). No spec.
 */
export function trimPod(obj: KubeObject): KubeObject {
  const pod = obj as V1Pod;
  const m = pod.metadata ?? {};
  const s = pod.status ?? {};
  // The first failing container of each list is all podFailure reads: a pod of many containers
  // costs no more than a pod of one.
  const firstFailing = (list: V1ContainerStatus[] | undefined) => {
    for (const c of list ?? []) {
      const kept = trimContainer(c);
      if (kept !== undefined) return [kept];
    }
    return undefined;
  };
  const unscheduled = s.conditions?.find(
    (c) => c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable",
  );
  const controller = m.ownerReferences?.find((r) => r.controller === true);
  const status = defined({
    phase: s.phase,
    initContainerStatuses: firstFailing(s.initContainerStatuses),
    containerStatuses: firstFailing(s.containerStatuses),
    conditions:
      unscheduled === undefined
        ? undefined
        : [{ ...unscheduled, message: clip(unscheduled.message) }],
  });
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      // Only the labels and the owner the operator reads: whoever creates a pod decides how
      // many labels it has, not how much of the operator's memory they take.
      labels: pick(m.labels, [LABEL_INSTANCE, POD_TEMPLATE_HASH]),
      ownerReferences: m.ownerReferences?.filter((r) => r.controller === true).slice(0, 1),
      // A release Job's pods: the newest one is the one whose log a failed release reports.
      ...(controller?.kind === "Job" && m.creationTimestamp !== undefined
        ? { creationTimestamp: m.creationTimestamp }
        : {}),
      ...(m.deletionTimestamp === undefined ? {} : { deletionTimestamp: m.deletionTimestamp }),
    },
    status,
  } as KubeObject;
}
