import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  compareQuantities,
  formatQuantity,
  parseQuantity,
  quantityNanos,
} from "../../../src/lib/quantity.ts";

describe("quantityNanos reads a quantity exactly as resource.ParseQuantity", () => {
  test.each<[string | number, bigint | undefined]>([
    ["1", 1_000_000_000n],
    ["0", 0n],
    ["500m", 500_000_000n],
    ["1.5", 1_500_000_000n],
    [".5", 500_000_000n],
    ["5.", 5_000_000_000n],
    ["+1", 1_000_000_000n],
    ["-1", -1_000_000_000n],
    ["1Ki", 1024_000_000_000n],
    ["1.5Ki", 1536_000_000_000n],
    ["1e3", 1000_000_000_000n],
    ["1E3", 1000_000_000_000n],
    ["1e-3", 1_000_000n],
    ["1n", 1n],
    ["1u", 1000n],
    // Below one nano-unit rounds up to one, away from zero: 1e-400 is positive.
    ["1e-400", 1n],
    ["0.0000000001", 1n],
    ["1.0000000001", 1_000_000_001n],
    ["-0.0000000001", -1n],
    // Binary-SI amounts are capped at the largest int64.
    ["16Ei", (2n ** 63n - 1n) * 1_000_000_000n],
    [1024, 1024_000_000_000n],
    ["1e1.5", undefined],
    ["1ki", undefined],
    ["", undefined],
    ["1 ", undefined],
    [1.5, undefined],
  ])("%s", (text, nanos) => {
    expect(quantityNanos(text)).toBe(nanos);
  });

  test("render was wrong: 1e-400 compared as zero through floats; it is one nano-unit", () => {
    expect(compareQuantities("1e-400", "0")).toBe(1);
  });

  test("compares across units exactly", () => {
    expect(compareQuantities("1000m", "1")).toBe(0);
    expect(compareQuantities("1Gi", "1024Mi")).toBe(0);
    expect(compareQuantities("1G", "1Gi")).toBe(-1);
    expect(compareQuantities("x", "1")).toBeUndefined();
  });

  test("formatQuantity states every amount exactly and reads back to it", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 80n }), (nanos) => {
        expect(quantityNanos(formatQuantity(nanos))).toBe(nanos);
      }),
    );
    expect(formatQuantity(3n * 2n ** 30n * 1_000_000_000n)).toBe("3Gi");
    expect(formatQuantity(1_500_000_000n)).toBe("1500m");
  });

  test("parseQuantity keeps its number form for callers that compare loosely", () => {
    expect(parseQuantity("128Mi")).toBe(134217728);
    expect(parseQuantity(" 1 ")).toBe(1);
    expect(parseQuantity(true)).toBeUndefined();
  });
});
