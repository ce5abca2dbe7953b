import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { type QueueOutcome, WorkQueue } from "../../../src/runtime/queue.ts";
import { FakeClock, flushPromises } from "../../support/fake-clock.ts";
import { type Deferred, deferred } from "./fakes.ts";

/** A handler whose calls stay pending until the test settles them. */
function scriptedHandler() {
  const calls: Array<{ key: string; done: Deferred<QueueOutcome> }> = [];
  // Calls not yet settled, per key.
  const pending = new Map<string, Array<Deferred<QueueOutcome>>>();
  let running = 0;
  let maxRunning = 0;
  const runningPerKey = new Map<string, number>();
  let overlapped = false;
  const handler = async (key: string): Promise<QueueOutcome> => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    const n = (runningPerKey.get(key) ?? 0) + 1;
    runningPerKey.set(key, n);
    if (n > 1) overlapped = true;
    const done = deferred<QueueOutcome>();
    calls.push({ key, done });
    pending.set(key, [...(pending.get(key) ?? []), done]);
    try {
      return await done.promise;
    } finally {
      running--;
      runningPerKey.set(key, (runningPerKey.get(key) ?? 1) - 1);
    }
  };
  return {
    handler,
    calls,
    keys: () => calls.map((c) => c.key),
    maxRunning: () => maxRunning,
    overlapped: () => overlapped,
    /** Settles the oldest unsettled call of `key`. */
    finish(key: string, outcome: QueueOutcome = { type: "done" }) {
      const call = pending.get(key)?.shift();
      if (call === undefined) throw new Error(`no pending call for ${key}`);
      call.resolve(outcome);
    },
  };
}

function setup(workers = 1, jitter = { jitter: 0, random: () => 0.5 }) {
  const clock = new FakeClock();
  const h = scriptedHandler();
  const queue = new WorkQueue({
    handler: h.handler,
    workers,
    clock,
    backoff: { baseMs: 100, capMs: 1000, factor: 2, ...jitter },
  });
  return { clock, queue, h };
}

describe("WorkQueue", () => {
  test("deduplicates keys added before a worker takes them", async () => {
    const { queue, h } = setup();
    queue.add("ns/a");
    queue.add("ns/a");
    queue.add("ns/b");
    queue.add("ns/a");
    expect(queue.length).toBe(2);
    queue.start();
    await flushPromises();
    h.finish("ns/a");
    await flushPromises();
    h.finish("ns/b");
    await flushPromises();
    expect(h.keys()).toEqual(["ns/a", "ns/b"]);
    expect(queue.length).toBe(0);
  });

  test("a key re-added while in flight runs once more afterwards, never concurrently", async () => {
    const { queue, h } = setup(4);
    queue.start();
    queue.add("ns/a");
    await flushPromises();
    expect(h.keys()).toEqual(["ns/a"]);
    queue.add("ns/a");
    queue.add("ns/a");
    await flushPromises();
    // Four workers are free, but the key is in flight: nothing new starts.
    expect(h.keys()).toEqual(["ns/a"]);
    h.finish("ns/a");
    await flushPromises();
    expect(h.keys()).toEqual(["ns/a", "ns/a"]);
    h.finish("ns/a");
    await flushPromises();
    expect(h.keys()).toEqual(["ns/a", "ns/a"]);
    expect(h.overlapped()).toBe(false);
  });

  test("runs distinct keys on up to N workers", async () => {
    const { queue, h } = setup(2);
    for (const k of ["a", "b", "c"]) queue.add(k);
    queue.start();
    await flushPromises();
    expect(h.keys()).toEqual(["a", "b"]);
    expect(queue.inFlight).toBe(2);
    h.finish("a");
    await flushPromises();
    expect(h.keys()).toEqual(["a", "b", "c"]);
    expect(h.maxRunning()).toBe(2);
  });

  test("does not dispatch before start and stops dispatching on pause", async () => {
    const { queue, h } = setup();
    queue.add("a");
    await flushPromises();
    expect(h.keys()).toEqual([]);
    queue.start();
    await flushPromises();
    const paused = queue.pause();
    queue.add("b");
    h.finish("a");
    await paused;
    await flushPromises();
    expect(h.keys()).toEqual(["a"]);
    expect(queue.length).toBe(1);
    queue.start();
    await flushPromises();
    expect(h.keys()).toEqual(["a", "b"]);
  });

  test("backoff grows per consecutive failure of a key and resets on success", async () => {
    const { clock, queue, h } = setup();
    queue.start();
    queue.add("a");
    const retryTimes: number[] = [];
    const t0 = clock.now();
    for (let i = 0; i < 4; i++) {
      await flushPromises();
      retryTimes.push(clock.now() - t0);
      h.finish("a", { type: "retry" });
      await flushPromises();
      const next = clock.nextTimerAt();
      if (next === undefined) throw new Error("no retry scheduled");
      await clock.advance(next - clock.now());
    }
    // Started at 0, then after 100, 200, 400 more (jitter 0).
    expect(retryTimes).toEqual([0, 100, 300, 700]);
    expect(queue.failures("a")).toBe(4);
    h.finish("a", { type: "done" });
    await flushPromises();
    expect(queue.failures("a")).toBe(0);
    queue.add("a");
    await flushPromises();
    h.finish("a", { type: "retry" });
    await flushPromises();
    expect(clock.nextTimerAt()).toBe(clock.now() + 100);
  });

  test("backoff is capped and jittered by the injected randomness", async () => {
    const { clock, queue, h } = setup(1, { jitter: 0.2, random: () => 0.75 });
    queue.start();
    queue.add("a");
    for (let i = 0; i < 8; i++) {
      await flushPromises();
      h.finish("a", { type: "retry" });
      await flushPromises();
      const next = clock.nextTimerAt();
      if (next === undefined) throw new Error("no retry scheduled");
      await clock.advance(next - clock.now());
    }
    await flushPromises();
    h.finish("a", { type: "retry" });
    await flushPromises();
    // Capped at 1000 before jitter; random 0.75 with jitter 0.2 scales by 1 + 0.2 * 0.5.
    expect(clock.nextTimerAt()).toBe(clock.now() + 1100);
  });

  test("an immediate retry comes back at once but still counts as a failure", async () => {
    const { queue, h } = setup();
    queue.start();
    queue.add("a");
    await flushPromises();
    h.finish("a", { type: "retry", immediate: true });
    await flushPromises();
    expect(h.keys()).toEqual(["a", "a"]);
    expect(queue.failures("a")).toBe(1);
  });

  test("a handler that throws is retried with backoff", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const queue = new WorkQueue({
      clock,
      backoff: { baseMs: 50, jitter: 0 },
      handler: async () => {
        calls++;
        throw new Error("boom");
      },
    });
    queue.start();
    queue.add("a");
    await flushPromises();
    expect(calls).toBe(1);
    await clock.advance(49);
    expect(calls).toBe(1);
    await clock.advance(1);
    expect(calls).toBe(2);
    await queue.shutdown();
  });

  test("delayed adds fire after their delay; the earliest of several wins", async () => {
    const { clock, queue, h } = setup();
    queue.start();
    queue.addAfter("a", 500);
    queue.addAfter("a", 200);
    queue.addAfter("a", 900);
    expect(queue.delayed).toBe(1);
    await clock.advance(199);
    expect(h.keys()).toEqual([]);
    await clock.advance(1);
    expect(h.keys()).toEqual(["a"]);
    h.finish("a", { type: "requeueAfter", ms: 1000 });
    await clock.advance(999);
    expect(h.keys()).toEqual(["a"]);
    await clock.advance(1);
    expect(h.keys()).toEqual(["a", "a"]);
  });

  test("shutdown drains in-flight work, drops waiting and delayed keys, and refuses new ones", async () => {
    const { clock, queue, h } = setup();
    queue.start();
    queue.add("a");
    queue.add("b");
    queue.addAfter("c", 100);
    await flushPromises();
    let drained = false;
    const done = queue.shutdown().then(() => {
      drained = true;
    });
    await flushPromises();
    expect(drained).toBe(false);
    expect(queue.add("d")).toBe(false);
    h.finish("a", { type: "retry" });
    await done;
    expect(drained).toBe(true);
    await clock.advance(10_000);
    expect(h.keys()).toEqual(["a"]);
    expect(queue.length).toBe(0);
    expect(queue.delayed).toBe(0);
  });

  test("reports depth, adds, retries and latencies to the metric hooks", async () => {
    const clock = new FakeClock();
    const seen = {
      depth: [] as number[],
      added: 0,
      retried: 0,
      queued: [] as number[],
      work: [] as number[],
    };
    const gate = deferred<void>();
    const queue = new WorkQueue({
      clock,
      backoff: { baseMs: 10, jitter: 0 },
      handler: async (key) => {
        if (key === "a") {
          await gate.promise;
          return { type: "retry" };
        }
        return { type: "done" };
      },
      metrics: {
        depth: (n) => seen.depth.push(n),
        added: () => seen.added++,
        retried: () => seen.retried++,
        queueDuration: (ms) => seen.queued.push(ms),
        workDuration: (ms) => seen.work.push(ms),
      },
    });
    queue.add("a");
    queue.add("a");
    await clock.advance(30);
    queue.start();
    await clock.advance(5);
    gate.resolve();
    await flushPromises();
    await queue.shutdown();
    expect(seen.added).toBe(2);
    expect(seen.retried).toBe(1);
    expect(seen.queued[0]).toBe(30);
    expect(seen.work[0]).toBe(5);
    expect(seen.depth).toContain(1);
    expect(seen.depth.at(-1)).toBe(0);
  });
});

describe("WorkQueue properties", () => {
  const step = fc.oneof(
    fc.record({ kind: fc.constant("add" as const), key: fc.constantFrom("a", "b", "c", "d") }),
    fc.record({ kind: fc.constant("finish" as const), index: fc.nat(5), retry: fc.boolean() }),
  );

  test("never runs a key twice at once, never exceeds N workers, and runs every key after its last add", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { maxLength: 60 }),
        fc.integer({ min: 1, max: 3 }),
        async (steps, workers) => {
          const clock = new FakeClock();
          let seq = 0;
          const lastAdd = new Map<string, number>();
          const lastStart = new Map<string, number>();
          const running: Array<{ key: string; done: Deferred<QueueOutcome> }> = [];
          let violation = "";
          const queue = new WorkQueue({
            workers,
            clock,
            backoff: { baseMs: 10, capMs: 10, jitter: 0 },
            handler: (key) => {
              if (running.some((r) => r.key === key)) violation = `${key} ran twice at once`;
              if (running.length >= workers) violation = "too many workers";
              lastStart.set(key, ++seq);
              const done = deferred<QueueOutcome>();
              running.push({ key, done });
              return done.promise;
            },
          });
          queue.start();
          const finish = async (index: number, retry: boolean) => {
            const [r] = running.splice(index % Math.max(1, running.length), 1);
            r?.done.resolve(retry ? { type: "retry" } : { type: "done" });
            await flushPromises(1);
          };
          for (const s of steps) {
            if (s.kind === "add") {
              lastAdd.set(s.key, ++seq);
              queue.add(s.key);
            } else {
              await finish(s.index, s.retry);
            }
            await flushPromises(1);
          }
          // Drain: finish everything (successfully) and let retries fire, until idle.
          for (
            let i = 0;
            i < 200 && (running.length > 0 || queue.length > 0 || queue.delayed > 0);
            i++
          ) {
            if (running.length > 0) await finish(0, false);
            else await clock.advance(10);
          }
          expect(violation).toBe("");
          for (const [key, added] of lastAdd)
            expect(lastStart.get(key) ?? 0).toBeGreaterThan(added);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("WorkQueue and the event loop", () => {
  test("a pass of handlers that never wait for I/O still lets timers run in between", async () => {
    let processed = 0;
    const queue = new WorkQueue({
      workers: 4,
      handler: async () => {
        // A cache-only reconcile: about a millisecond of work, no I/O.
        const until = performance.now() + 1;
        while (performance.now() < until) {}
        processed++;
        return { type: "done" };
      },
    });
    for (let i = 0; i < 300; i++) queue.add(`ns/app-${i}`);
    let processedWhenTimerRan: number | undefined;
    setTimeout(() => {
      processedWhenTimerRan = processed;
    }, 0);
    queue.start();
    await new Promise<void>((resolve) => {
      const check = () => (processed === 300 ? resolve() : setImmediate(check));
      check();
    });
    expect(processedWhenTimerRan).toBeDefined();
    expect(processedWhenTimerRan).toBeLessThan(300);
    await queue.shutdown();
  });
});
