import { describe, expect, test } from "vitest";
import { EventLoopTurns } from "../../../src/runtime/turns.ts";

describe("EventLoopTurns", () => {
  test("due once a slice has run; yield lets queued immediates run and starts a new slice", async () => {
    let now = 1000;
    const turns = new EventLoopTurns(10, () => now);
    now += 9;
    expect(turns.due()).toBe(false);
    now += 1;
    expect(turns.due()).toBe(true);
    let ran = false;
    setImmediate(() => {
      ran = true;
    });
    await turns.yield();
    expect(ran).toBe(true);
    expect(turns.due()).toBe(false);
    now += 10;
    expect(turns.due()).toBe(true);
  });
});
