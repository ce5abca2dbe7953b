import { describe, expect, test } from "vitest";
import { EventLoopTurns, OnePerTurn } from "../../../src/runtime/turns.ts";

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

  test("OnePerTurn: jobs asked at once run in order, each in a turn of its own; a throw does not stop the next", async () => {
    const gate = new OnePerTurn();
    const log: string[] = [];
    const first = gate.run(() => {
      log.push("first");
      // Queued during the first job's turn: runs before the second job.
      setImmediate(() => log.push("immediate"));
      return 1;
    });
    const failing = gate.run(() => {
      log.push("failing");
      throw new Error("bad page");
    });
    const third = gate.run(() => {
      log.push("third");
      return 3;
    });
    expect(await first).toBe(1);
    await expect(failing).rejects.toThrow("bad page");
    expect(await third).toBe(3);
    expect(log).toEqual(["first", "immediate", "failing", "third"]);
  });
});
