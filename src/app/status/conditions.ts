// kstatus-style conditions: Ready always present, Reconciling and Stalled only while True.
import type { Condition } from "../../api/index.ts";

export const ConditionType = {
  ready: "Ready",
  reconciling: "Reconciling",
  stalled: "Stalled",
  bindingsReady: "BindingsReady",
  paused: "Paused",
} as const;

/** A condition as the reconcile decides it, before transition times are settled. */
export interface ConditionDraft {
  readonly type: string;
  readonly status: "True" | "False" | "Unknown";
  readonly reason: string;
  readonly message: string;
}

/**
 * Stamps drafts with the generation and a transition time: the previous time when the status
 * did not flip (so an unchanged reconcile writes nothing), `now` when it did.
 */
export function settleConditions(
  drafts: readonly ConditionDraft[],
  previous: readonly Condition[] | undefined,
  generation: number | undefined,
  now: string,
): Condition[] {
  return drafts.map((d) => {
    const before = previous?.find((c) => c.type === d.type);
    return {
      type: d.type,
      status: d.status,
      ...(generation === undefined ? {} : { observedGeneration: generation }),
      lastTransitionTime:
        before !== undefined && before.status === d.status ? before.lastTransitionTime : now,
      reason: d.reason,
      message: d.message,
    };
  });
}

/**
 * A condition's transition time as the API server writes metav1.Time: RFC 3339 in whole seconds.
 * Sub-second stamps would make two reconciles of one unchanged state differ (a second status
 * write whenever a reconcile runs before its own last write reached the cache); whole seconds
 * make them identical within the same second, so the applier's last-write memo skips the repeat.
 */
export function conditionTime(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** Truncates a message to what a condition holds, on a character boundary. */
export function conditionMessage(text: string, max = 1024): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
