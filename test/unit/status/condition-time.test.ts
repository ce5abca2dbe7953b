// conditionTime: transition times in whole seconds, so reconciles of one state within a second agree.
import { describe, expect, test } from "vitest";
import { conditionTime, settleConditions } from "../../../src/app/status/index.ts";

describe("conditionTime", () => {
  test.each([
    [Date.UTC(2026, 10, 28, 12, 0, 0, 0), "2026-11-28T12:00:00Z"],
    [Date.UTC(2026, 10, 28, 12, 0, 0, 1), "2026-11-28T12:00:00Z"],
    [Date.UTC(2026, 10, 28, 12, 0, 0, 999), "2026-11-28T12:00:00Z"],
    [Date.UTC(2026, 10, 28, 12, 0, 1, 0), "2026-11-28T12:00:01Z"],
  ])("%i → %s (RFC 3339, as metav1.Time is written)", (ms, expected) => {
    expect(conditionTime(ms)).toBe(expected);
  });

  test("two first reconciles of one state in the same second stamp identical conditions", () => {
    const draft = [{ type: "Ready", status: "False" as const, reason: "R", message: "m" }];
    const t0 = Date.UTC(2026, 10, 28, 12, 0, 0, 120);
    const first = settleConditions(draft, undefined, 1, conditionTime(t0));
    const second = settleConditions(draft, undefined, 1, conditionTime(t0 + 300));
    expect(second).toEqual(first);
  });
});
