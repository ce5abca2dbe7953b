// computeStatus: the StatelessApp status from what reconcile saw and did. Pure.
import type { V1Deployment } from "@kubernetes/client-node";
import type {
  BindingStatus,
  Process,
  ProcessStatus,
  StatelessApp,
  StatelessAppStatus,
} from "../../api/index.ts";
import { childName, minimumReplicas } from "../render/index.ts";
import {
  type ConditionDraft,
  ConditionType,
  conditionMessage,
  settleConditions,
} from "./conditions.ts";
import { clipLine, type ReleaseLog, releaseLogPhrase } from "./release-log.ts";

/** One binding's outcome: resolved, or the problem that stops it (its message names Secret and key). */
export interface BindingOutcome {
  readonly name: string;
  readonly type: string;
  readonly secretName?: string;
  readonly problem?: string;
  /**
   * BindingsReady's reason for the problem: NameInUse (another's Secret has the binding Secret's
   * name), SecretRejected (the API server refused to write it). @default "SourceNotReady"
   */
  readonly reason?: string;
}

export interface StatusInput {
  readonly app: StatelessApp;
  /** The spec's problems when it is invalid (the API server missed them, e.g. an old CRD). */
  readonly invalid?: readonly string[];
  /** Live Deployments by process name. */
  readonly deployments: ReadonlyMap<string, V1Deployment>;
  readonly bindings: readonly BindingOutcome[];
  /** A permanent failure applying children, e.g. a child the API server rejects. */
  readonly applyError?: string;
  /** A child write that failed and is being retried (a 5xx, a timeout), naming the child and why. */
  readonly applyRetrying?: string;
  /** The current release (spec.release): its Job's state; a failure with the Job's reason. */
  readonly release?: {
    readonly image: string;
    readonly job: string;
    readonly state: "Running" | "Succeeded" | "Failed";
    readonly failure?: string;
    /** A failed release's log: the last line of its newest pod, or why it could not be read. */
    readonly log?: ReleaseLog;
  };
  /** Children not written because another's object has their name, each naming kind, name and holder. */
  readonly nameInUse?: readonly string[];
  /**
   * Why a process type's pods fail, by process name (processFailure's line: the kubelet's reason
   * and message); reported while the type is not rolled out.
   */
  readonly podFailures?: ReadonlyMap<string, string>;
  readonly now: string;
}

/** Rolled out: the Deployment controller saw the latest spec and every process runs it and is available. */
export function processRolledOut(deployment: V1Deployment | undefined): boolean {
  if (deployment === undefined) return false;
  const want = deployment.spec?.replicas ?? 1;
  const s = deployment.status ?? {};
  return (
    (s.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 1) &&
    (s.updatedReplicas ?? 0) >= want &&
    (s.replicas ?? 0) === (s.updatedReplicas ?? 0) &&
    (s.availableReplicas ?? 0) >= want
  );
}

function processStatuses(input: StatusInput): ProcessStatus[] {
  return input.app.spec.processes.map((p) => {
    const d = input.deployments.get(p.name);
    const s = d?.status ?? {};
    return {
      name: p.name,
      deployment: childName(input.app, p.name),
      ...((p.ports ?? []).length > 0 ? { service: childName(input.app, p.name) } : {}),
      replicas: s.replicas ?? 0,
      readyReplicas: s.readyReplicas ?? 0,
      updatedReplicas: s.updatedReplicas ?? 0,
    };
  });
}

/**
 * Why a process type's pods are not being created: its Deployment's `ReplicaFailure` condition
 * (the ReplicaSet controller could not create pods: an admission policy refused them, a quota
 * is used up), as `web: <the API server's message>`.
 */
function replicaFailures(input: StatusInput, processes: readonly Process[]): string[] {
  return processes.flatMap((p) => {
    const failure = input.deployments
      .get(p.name)
      ?.status?.conditions?.find((c) => c.type === "ReplicaFailure" && c.status === "True");
    if (failure === undefined) return [];
    return [`${p.name}: pods cannot be created: ${failure.message ?? failure.reason ?? "unknown"}`];
  });
}

/** The pod failures of the process types not rolled out, in spec order. */
function podFailureLines(input: StatusInput, pending: readonly Process[]): string[] {
  return pending.flatMap((p) => {
    const line = input.podFailures?.get(p.name);
    return line === undefined ? [] : [line];
  });
}

/** The count a process type should run: the live Deployment's (an autoscaler may have moved it), else the spec's. */
const wanted = (input: StatusInput, process: Process): number =>
  input.deployments.get(process.name)?.spec?.replicas ?? minimumReplicas(process);

/** `web 2/2, worker 1/1`: ready processes over wanted ones, per type. */
export function summarize(input: StatusInput, processes: readonly ProcessStatus[]): string {
  return input.app.spec.processes
    .map((p, i) => `${p.name} ${processes[i]?.readyReplicas ?? 0}/${wanted(input, p)}`)
    .join(", ");
}

/** The longest Job condition reason and message kept in the ReleaseFailed message. */
const RELEASE_FAILURE_MAX = 400;

/**
 * `release <job> failed (<reason>: <message>); last log line of pod <pod>: "<line>"; nothing
 * rolls until spec.image or spec.release changes`. The Job's condition and the log line are
 * clipped first, so the message stays within a condition's and keeps its end.
 */
function releaseFailedMessage(release: NonNullable<StatusInput["release"]>): string {
  const failure = clipLine(release.failure ?? "Failed", RELEASE_FAILURE_MAX);
  const log = release.log === undefined ? "" : `; ${releaseLogPhrase(release.log)}`;
  return conditionMessage(
    `release ${release.job} failed (${failure})${log}; nothing rolls until spec.image or spec.release changes`,
  );
}

export function computeStatus(input: StatusInput): StatelessAppStatus {
  const { app } = input;
  const generation = app.metadata.generation;
  const drafts: ConditionDraft[] = [];
  const processes = processStatuses(input);
  const summary = summarize(input, processes);
  const bindingProblems = input.bindings
    .filter((b) => b.problem !== undefined)
    .map((b) => b.problem ?? "");
  const hasBindings = (app.spec.backingServices ?? []).length > 0;

  if (input.invalid !== undefined && input.invalid.length > 0) {
    const message = conditionMessage(`invalid spec: ${input.invalid.join("; ")}`);
    drafts.push({ type: ConditionType.ready, status: "False", reason: "InvalidSpec", message });
    drafts.push({ type: ConditionType.stalled, status: "True", reason: "InvalidSpec", message });
  } else {
    const pending = app.spec.processes.filter(
      (p) => !processRolledOut(input.deployments.get(p.name)),
    );
    let stalled: ConditionDraft | undefined;
    // First: the one problem no retry of the operator's fixes, and the one with a Warning Event.
    if ((input.nameInUse ?? []).length > 0) {
      stalled = {
        type: ConditionType.stalled,
        status: "True",
        reason: "NameInUse",
        message: conditionMessage((input.nameInUse ?? []).join("; ")),
      };
    } else if (bindingProblems.length > 0) {
      stalled = {
        type: ConditionType.stalled,
        status: "True",
        reason: "BindingsNotReady",
        message: conditionMessage(bindingProblems.join("; ")),
      };
    } else if (input.release?.state === "Failed") {
      stalled = {
        type: ConditionType.stalled,
        status: "True",
        reason: "ReleaseFailed",
        message: releaseFailedMessage(input.release),
      };
    } else if (input.applyError !== undefined) {
      stalled = {
        type: ConditionType.stalled,
        status: "True",
        reason: "ApplyFailed",
        message: conditionMessage(input.applyError),
      };
    }
    if (stalled !== undefined) {
      drafts.push({
        type: ConditionType.ready,
        status: "False",
        reason: stalled.reason,
        message: stalled.message,
      });
      drafts.push(stalled);
    } else if (input.applyRetrying !== undefined) {
      const message = conditionMessage(`${input.applyRetrying}; retrying`);
      drafts.push({ type: ConditionType.ready, status: "False", reason: "ApplyFailed", message });
      drafts.push({
        type: ConditionType.reconciling,
        status: "True",
        reason: "ApplyFailed",
        message,
      });
    } else if (app.spec.paused === true) {
      const ready = pending.length === 0;
      drafts.push({
        type: ConditionType.ready,
        status: ready ? "True" : "False",
        reason: "Paused",
        message: `reconciling is paused; ${summary}`,
      });
    } else if (input.release?.state === "Running") {
      const message = conditionMessage(`release ${input.release.job} running; ${summary}`);
      drafts.push({
        type: ConditionType.ready,
        status: "False",
        reason: "ReleaseRunning",
        message,
      });
      drafts.push({
        type: ConditionType.reconciling,
        status: "True",
        reason: "ReleaseRunning",
        message,
      });
    } else if (pending.length > 0) {
      const failing = podFailureLines(input, pending);
      const message = conditionMessage(
        [`rolling out: ${summary}`, ...replicaFailures(input, pending), ...failing].join("; "),
      );
      drafts.push({
        type: ConditionType.ready,
        status: "False",
        reason: failing.length > 0 ? "PodsFailing" : "Progressing",
        message,
      });
      drafts.push({
        type: ConditionType.reconciling,
        status: "True",
        reason: "Progressing",
        message,
      });
    } else {
      drafts.push({
        type: ConditionType.ready,
        status: "True",
        reason: "Available",
        message: summary,
      });
    }
  }
  if (hasBindings && (input.invalid ?? []).length === 0) {
    drafts.push(
      bindingProblems.length === 0
        ? {
            type: ConditionType.bindingsReady,
            status: "True",
            reason: "Resolved",
            message: "every binding resolved",
          }
        : {
            type: ConditionType.bindingsReady,
            status: "False",
            reason: input.bindings.find((b) => b.problem !== undefined)?.reason ?? "SourceNotReady",
            message: conditionMessage(bindingProblems.join("; ")),
          },
    );
  }
  if (app.spec.paused === true) {
    drafts.push({
      type: ConditionType.paused,
      status: "True",
      reason: "Paused",
      message: "spec.paused is true: children are left as they are",
    });
  }

  const bindings: BindingStatus[] = input.bindings.map((b) => ({
    name: b.name,
    type: b.type,
    ...(b.secretName === undefined ? {} : { secretName: b.secretName }),
    ready: b.problem === undefined,
  }));
  return {
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    conditions: settleConditions(drafts, app.status?.conditions, generation, input.now),
    processes,
    ...(bindings.length === 0 ? {} : { bindings }),
    ...(input.release === undefined
      ? {}
      : {
          release: {
            image: input.release.image,
            job: input.release.job,
            state: input.release.state,
            ...(input.release.log?.line === undefined
              ? {}
              : { lastLogLine: input.release.log.line }),
          },
        }),
    summary,
  };
}
