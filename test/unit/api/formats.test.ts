import { describe, expect, test } from "vitest";
import { celString, codePoints, DURATION, durationNanos } from "../../../src/api/formats.ts";

describe("durationNanos computes as Go's time.ParseDuration", () => {
  test.each<[string, bigint]>([
    ["1m", 60_000_000_000n],
    ["1h30m", 5_400_000_000_000n],
    ["1.5h", 5_400_000_000_000n],
    ["90s", 90_000_000_000n],
    ["1µs", 1000n],
    ["1μs", 1000n],
    ["1us", 1000n],
    ["0.5ns", 0n],
    // Go truncates the fraction past nanoseconds: this is under a minute.
    ["59.999999999s", 59_999_999_999n],
    ["99999h99999h", 2n * 99999n * 3_600_000_000_000n],
  ])("%s", (text, ns) => {
    expect(DURATION.test(text)).toBe(true);
    expect(durationNanos(text)).toBe(ns);
  });

  test("render was wrong: 59.99999999999999999s rounded up to a minute through floats; the API refuses it", () => {
    // Nine fraction digits at most, as Go reads no more than a nanosecond.
    expect(DURATION.test("59.99999999999999999s")).toBe(false);
  });

  test.each(["1d", "-1h", "1", "", "100000h", ".5h", "1H"])("refuses %j", (text) => {
    expect(DURATION.test(text)).toBe(false);
  });
});

test("codePoints counts what the API server's maxLength counts", () => {
  expect(codePoints("😀😀")).toBe(2);
  expect("😀😀".length).toBe(4);
  expect(codePoints("e\u0301")).toBe(2);
});

test("celString quotes a regular expression raw, so its escapes reach RE2 as written", () => {
  expect(celString("^a\\.b$")).toBe("r'^a\\.b$'");
  expect(celString("it's")).toBe(`r"it's"`);
});
