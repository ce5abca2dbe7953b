import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Backoff, backoffDelay } from "../../../src/runtime/backoff.ts";

describe("backoffDelay", () => {
  test.each([
    { attempt: 0, want: 100 },
    { attempt: 1, want: 200 },
    { attempt: 3, want: 800 },
    { attempt: 4, want: 1000 },
    { attempt: 500, want: 1000 },
  ])("attempt $attempt without jitter waits $want ms", ({ attempt, want }) => {
    expect(backoffDelay(attempt, { baseMs: 100, capMs: 1000, jitter: 0 })).toBe(want);
  });

  test("jitter stays within ±jitter of the un-jittered delay", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, r, jitter) => {
          const plain = backoffDelay(attempt, { baseMs: 100, capMs: 60_000, jitter: 0 });
          const d = backoffDelay(attempt, { baseMs: 100, capMs: 60_000, jitter, random: () => r });
          expect(d).toBeGreaterThanOrEqual(Math.floor(plain * (1 - jitter)));
          expect(d).toBeLessThanOrEqual(Math.ceil(plain * (1 + jitter)));
        },
      ),
    );
  });
});

describe("Backoff", () => {
  test("grows per next() and starts over after reset()", () => {
    const b = new Backoff({ baseMs: 10, jitter: 0 });
    expect([b.next(), b.next(), b.next()]).toEqual([10, 20, 40]);
    expect(b.attempts).toBe(3);
    b.reset();
    expect(b.next()).toBe(10);
  });
});
