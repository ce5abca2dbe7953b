// Timers longer than Node's setTimeout limit (2^31−1 ms): Node fires those after 1 ms; the runtime's clock must not.
import { afterEach, describe, expect, test, vi } from "vitest";
import { MAX_TIMER_MS, realClock } from "../../../src/runtime/clock.ts";
import { WorkQueue } from "../../../src/runtime/queue.ts";

const HOUR = 3_600_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(() => {
  vi.useRealTimers();
});

describe("timers beyond 2^31−1 ms", () => {
  test("a 600 h timer of the real clock does not fire after 1 ms", async () => {
    const fn = vi.fn();
    const timer = realClock.setTimer(600 * HOUR, fn);
    await sleep(40);
    timer.cancel();
    expect(fn).not.toHaveBeenCalled();
  });

  test("it fires when its whole delay has passed, not at the 2^31−1 ms step, and a cancel in between holds", () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const cancelled = vi.fn();
    realClock.setTimer(2 * MAX_TIMER_MS + 10, fired);
    const timer = realClock.setTimer(MAX_TIMER_MS + 5, cancelled);
    vi.advanceTimersByTime(MAX_TIMER_MS + 1);
    timer.cancel();
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(8);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
    expect(cancelled).not.toHaveBeenCalled();
  });

  test("a key requeued after 600 h (maxPodLifetime 600h) is not handled again at once", async () => {
    let calls = 0;
    const queue = new WorkQueue({
      handler: async () => {
        calls++;
        return { type: "requeueAfter", ms: 600 * HOUR };
      },
    });
    queue.start();
    queue.add("web/shop");
    await sleep(60);
    await queue.shutdown();
    expect(calls).toBe(1);
  });

  test("a retry backoff with a cap beyond the limit waits too", async () => {
    let calls = 0;
    const queue = new WorkQueue({
      handler: async () => {
        calls++;
        return { type: "retry" };
      },
      backoff: { baseMs: 700 * HOUR, capMs: 800 * HOUR },
    });
    queue.start();
    queue.add("web/shop");
    await sleep(60);
    await queue.shutdown();
    expect(calls).toBe(1);
  });
});
