import { describe, expect, test } from "vitest";
import { FakeClock } from "../../support/fake-clock.ts";

describe("FakeClock", () => {
  test("fires timers in due order, ties in creation order, and only when advanced past them", async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimer(30, () => fired.push("c"));
    clock.setTimer(10, () => fired.push("a"));
    clock.setTimer(10, () => fired.push("b"));
    const cancelled = clock.setTimer(20, () => fired.push("x"));
    cancelled.cancel();
    await clock.advance(29);
    expect(fired).toEqual(["a", "b"]);
    await clock.advance(1);
    expect(fired).toEqual(["a", "b", "c"]);
    expect(clock.now()).toBe(30);
  });

  test("timers scheduled by a firing timer inside the window fire in the same advance", async () => {
    const clock = new FakeClock(0);
    const at: number[] = [];
    const loop = async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(10);
        at.push(clock.now());
      }
    };
    const done = loop();
    await clock.advance(100);
    await done;
    expect(at).toEqual([10, 20, 30]);
  });

  test("sleep resolves false when aborted, and at once when already aborted", async () => {
    const clock = new FakeClock(0);
    const ac = new AbortController();
    const slept = clock.sleep(1000, ac.signal);
    ac.abort();
    expect(await slept).toBe(false);
    expect(await clock.sleep(1000, ac.signal)).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });
});
