// What an e2e scenario reports for the summary table: recovery times and notes, as test annotations.

import type { TestContext } from "vitest";

/** Annotation types the summary reporter reads. */
export const SUMMARY_TYPES = { recovery: "recovery", note: "note" } as const;

type Annotate = TestContext["annotate"];

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Records how long the system took to recover from the fault (reported, not asserted). */
export async function reportRecovery(annotate: Annotate, what: string, ms: number): Promise<void> {
  await annotate(`${what} ${seconds(ms)}`, SUMMARY_TYPES.recovery);
}

/** Records a short fact about the run (counts, what was observed). */
export async function reportNote(annotate: Annotate, note: string): Promise<void> {
  await annotate(note, SUMMARY_TYPES.note);
}

/** Measures from now: `elapsed()` gives the milliseconds since. */
export function stopwatch(): { elapsed(): number } {
  const started = performance.now();
  return { elapsed: () => performance.now() - started };
}
