// The update storm's timings: per change, patch → Deployment with the new image, and how long after the last change was written.
import { type Summary, summarize } from "./stats.ts";

/** One image change of the storm (performance.now() timestamps, ms). */
export interface StormChange {
  /** Just before its patch was sent. */
  readonly sentAt: number;
  /** Its patch's answer arrived (the change is stored). */
  readonly writtenAt: number;
  /** The benchmark's watch saw its Deployment carry the new image. */
  readonly appliedAt: number;
}

export interface StormLatencies {
  readonly changes: number;
  /** The first patch sent → the last patch answered: how long writing the storm took. */
  readonly writeWindowMs: number;
  /** Per change: its patch sent → its Deployment seen with the new image. */
  readonly patchToDeploymentMs: Summary;
  /**
   * Per change: the last change written → its Deployment seen with the new image, 0 for a change
   * applied before then (what the target is on: how far the operator trails the storm's end).
   */
  readonly afterLastChangeMs: Summary;
}

export function stormLatencies(changes: readonly StormChange[]): StormLatencies {
  if (changes.length === 0) {
    const none = summarize([]);
    return { changes: 0, writeWindowMs: 0, patchToDeploymentMs: none, afterLastChangeMs: none };
  }
  const firstSent = Math.min(...changes.map((c) => c.sentAt));
  const lastWritten = Math.max(...changes.map((c) => c.writtenAt));
  return {
    changes: changes.length,
    writeWindowMs: lastWritten - firstSent,
    patchToDeploymentMs: summarize(changes.map((c) => c.appliedAt - c.sentAt)),
    afterLastChangeMs: summarize(changes.map((c) => Math.max(0, c.appliedAt - lastWritten))),
  };
}
