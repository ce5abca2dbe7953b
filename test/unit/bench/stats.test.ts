import { describe, expect, test } from "vitest";
import { quantile, summarize } from "../../../bench/lib/stats.ts";
import { stormLatencies } from "../../../bench/lib/storm.ts";

describe("quantile (nearest rank)", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted on purpose
  test.each<[number, number]>([
    [0.5, 50],
    [0.9, 90],
    [0.99, 99],
    [1, 100],
    [0, 1],
  ])("q = %f of 1..100 is %f", (q, want) => {
    expect(quantile(hundred, q)).toBe(want);
  });

  test("small samples: p99 of fewer than 100 values is the maximum", () => {
    expect(quantile([3, 1, 2], 0.99)).toBe(3);
    expect(quantile([3, 1, 2], 0.5)).toBe(2);
    expect(quantile([7], 0.5)).toBe(7);
  });

  test("no values: NaN, and the input is left unsorted", () => {
    expect(quantile([], 0.5)).toBeNaN();
    const values = [3, 1, 2];
    quantile(values, 0.5);
    expect(values).toEqual([3, 1, 2]);
  });
});

test("summarize", () => {
  expect(summarize([1, 2, 3, 4])).toEqual({ count: 4, p50: 2, p90: 4, p99: 4, max: 4, mean: 2.5 });
});

describe("stormLatencies", () => {
  test("per change from its patch, and after the last change was written (0 when before)", () => {
    const l = stormLatencies([
      { sentAt: 0, writtenAt: 10, appliedAt: 30 },
      { sentAt: 5, writtenAt: 20, appliedAt: 50 },
      { sentAt: 10, writtenAt: 40, appliedAt: 140 },
    ]);
    expect(l.changes).toBe(3);
    expect(l.writeWindowMs).toBe(40);
    expect(l.patchToDeploymentMs.p50).toBe(45);
    expect(l.patchToDeploymentMs.max).toBe(130);
    // The last change was written at 40: the first is applied before it, the others 10 and 100 ms after.
    expect([l.afterLastChangeMs.p50, l.afterLastChangeMs.max]).toEqual([10, 100]);
    expect(l.afterLastChangeMs.mean).toBeCloseTo(110 / 3);
  });

  test("the order of the records does not matter", () => {
    const changes = Array.from({ length: 50 }, (_, i) => ({
      sentAt: i,
      writtenAt: i + 5,
      appliedAt: i * 3 + 20,
    }));
    expect(stormLatencies([...changes].reverse())).toEqual(stormLatencies(changes));
  });

  test("no change", () => {
    const l = stormLatencies([]);
    expect(l.changes).toBe(0);
    expect(l.writeWindowMs).toBe(0);
    expect(l.afterLastChangeMs.p99).toBeNaN();
  });
});
