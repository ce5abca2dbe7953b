import { describe, expect, test } from "vitest";
import type { KubeObject } from "../../../src/runtime/object.ts";
import { Reflector, type ReflectorOptions } from "../../../src/runtime/reflector.ts";
import { builtinResources } from "../../../src/runtime/resource.ts";
import type { StoreEvent } from "../../../src/runtime/store.ts";
import { FakeClock, flushPromises } from "../../support/fake-clock.ts";
import {
  bookmark,
  event,
  FakeSource,
  gone,
  HttpError,
  initialEventsEnd,
  page,
  pod,
} from "./fake-source.ts";
import { recordingLogger } from "./fakes.ts";

function setup(overrides: Partial<ReflectorOptions> = {}) {
  const clock = new FakeClock();
  const source = new FakeSource();
  const logger = recordingLogger();
  const restarts: string[] = [];
  const reflector = new Reflector({
    resource: builtinResources.pod,
    source,
    clock,
    logger,
    random: () => 0.5,
    backoff: { baseMs: 1000, capMs: 8000, jitter: 0 },
    inactivityTimeoutMs: 10_000,
    metrics: { watchRestarted: (r) => restarts.push(r) },
    ...overrides,
  });
  const events: string[] = [];
  reflector.subscribe((e: StoreEvent) => {
    events.push(`${e.type}:${e.object.metadata?.name}@${e.object.metadata?.resourceVersion}`);
  });
  return { clock, source, reflector, events, logger, restarts };
}

const names = (objs: KubeObject[]) => objs.map((o) => o.metadata?.name).sort();

describe("Reflector", () => {
  test("a large list gives the event loop turns while its objects are trimmed and told", async () => {
    const { source, reflector, events } = setup();
    const many = Array.from({ length: 40_000 }, (_, i) => pod(`p${i}`, String(i + 1)));
    source.onList(page(many, "50000"));
    // A heartbeat on the event loop's check phase: it beats only when the list lets it.
    let beats = 0;
    let beating = true;
    const beat = () => {
      beats += 1;
      if (beating) setImmediate(beat);
    };
    reflector.start();
    setImmediate(beat);
    await reflector.whenSynced();
    const beatsWhileListing = beats;
    beating = false;
    expect(reflector.store.size).toBe(40_000);
    expect(events).toHaveLength(40_000);
    expect(beatsWhileListing).toBeGreaterThan(1);
    await reflector.stop();
  });

  test("lists page by page, then watches from the list's resourceVersion with bookmarks", async () => {
    const { source, reflector, events } = setup({ pageSize: 2 });
    source.onList(page([pod("a", "5"), pod("b", "6")], "10", "next"), page([pod("c", "7")], "10"));
    expect(reflector.synced).toBe(false);
    reflector.start();
    await reflector.whenSynced();
    await flushPromises();
    expect(source.listCalls.map((c) => [c.limit, c.continue])).toEqual([
      [2, undefined],
      [2, "next"],
    ]);
    expect(names(reflector.store.list())).toEqual(["a", "b", "c"]);
    expect(events).toEqual(["add:a@5", "add:b@6", "add:c@7"]);
    expect(reflector.synced).toBe(true);
    const w = source.current;
    expect(w.options.resourceVersion).toBe("10");
    expect(w.options.allowWatchBookmarks).toBe(true);
    // random() = 0.5 picks the middle of the default 300–600 s range.
    expect(w.options.timeoutSeconds).toBe(450);
    await reflector.stop();
    expect(w.aborted).toBe(true);
  });

  test("applies watch events to the store and emits add, update and delete", async () => {
    const { source, reflector, events } = setup();
    source.onList(page([pod("a", "5")], "10"));
    reflector.start();
    await flushPromises();
    source.current.push(
      event("ADDED", pod("b", "11")),
      event("MODIFIED", pod("a", "12", { spec: { x: 1 } })),
      event("DELETED", pod("b", "13")),
    );
    await flushPromises();
    expect(events).toEqual(["add:a@5", "add:b@11", "update:a@12", "delete:b@13"]);
    expect(reflector.store.get("ns/a")?.spec).toEqual({ x: 1 });
    expect(reflector.store.get("ns/b")).toBeUndefined();
    await reflector.stop();
  });

  test("strips managedFields except the kept managers' entries, then applies the transform", async () => {
    const managed = {
      managedFields: [
        { manager: "kubectl", operation: "Update", fieldsV1: { "f:spec": {} } },
        {
          manager: "stateless-operator",
          operation: "Apply",
          fieldsV1: { "f:spec": { "f:x": {} } },
        },
      ],
    };
    const { source, reflector } = setup({
      keepManagedFieldsOf: ["stateless-operator"],
      transform: (o) => ({ ...o, status: undefined }),
    });
    const withFields = (name: string, rv: string) => {
      const p = pod(name, rv, { status: { big: "x".repeat(100) } });
      return { ...p, metadata: { ...p.metadata, ...managed } };
    };
    source.onList(page([withFields("a", "5")], "10"));
    reflector.start();
    await flushPromises();
    source.current.push(event("ADDED", withFields("b", "11")));
    await flushPromises();
    for (const key of ["ns/a", "ns/b"]) {
      const stored = reflector.store.get(key);
      expect(stored?.metadata?.managedFields?.map((m) => m.manager)).toEqual([
        "stateless-operator",
      ]);
      expect(stored?.status).toBeUndefined();
    }
    await reflector.stop();
  });

  test("drops managedFields entirely by default", async () => {
    const { source, reflector } = setup();
    const p = pod("a", "5");
    source.onList(
      page([{ ...p, metadata: { ...p.metadata, managedFields: [{ manager: "m" }] } }], "10"),
    );
    reflector.start();
    await reflector.whenSynced();
    expect(reflector.store.get("ns/a")?.metadata).not.toHaveProperty("managedFields");
    await reflector.stop();
  });

  test("a 410 ERROR event relists at once and emits deletes for objects that vanished", async () => {
    const { source, reflector, events, restarts } = setup();
    source.onList(
      page([pod("a", "5"), pod("b", "6")], "10"),
      page([pod("a", "20"), pod("c", "21")], "22"),
    );
    reflector.start();
    await flushPromises();
    const first = source.current;
    first.push(gone());
    await flushPromises();
    expect(first.aborted).toBe(true);
    expect(source.listCalls).toHaveLength(2);
    expect(events.slice(2).sort()).toEqual(["add:c@21", "delete:b@6", "update:a@20"]);
    expect(names(reflector.store.list())).toEqual(["a", "c"]);
    expect(source.current.options.resourceVersion).toBe("22");
    expect(restarts).toEqual(["gone"]);
    await reflector.stop();
  });

  test("an HTTP 410 on the watch request relists too", async () => {
    const { source, reflector } = setup();
    source.onList(page([], "10"), page([], "30")).failNextWatch(new HttpError(410));
    reflector.start();
    await flushPromises();
    expect(source.listCalls).toHaveLength(2);
    expect(source.current.options.resourceVersion).toBe("30");
    await reflector.stop();
  });

  test("a second 410 in a row backs off before relisting", async () => {
    const { clock, source, reflector } = setup();
    source.onList(page([], "10"), page([], "11"), page([], "12"));
    reflector.start();
    await flushPromises();
    source.current.push(gone());
    await flushPromises();
    expect(source.listCalls).toHaveLength(2);
    source.current.push(gone());
    await flushPromises();
    expect(source.listCalls).toHaveLength(2);
    await clock.advance(2000);
    expect(source.listCalls).toHaveLength(3);
    await reflector.stop();
  });

  test("the first 410 after an outage relists at once, whatever the backoff grew to", async () => {
    const { clock, source, reflector } = setup();
    source.onList(page([], "10"), page([], "40"));
    for (let i = 0; i < 4; i++) source.failNextWatch(new Error("ECONNREFUSED"));
    source.failNextWatch(new HttpError(410));
    reflector.start();
    await flushPromises();
    for (let i = 0; i < 4; i++) {
      const next = clock.nextTimerAt();
      if (next === undefined) throw new Error("no retry scheduled");
      await clock.advance(next - clock.now());
    }
    // The server is back and the old resourceVersion is gone: relisted without waiting.
    expect(source.listCalls).toHaveLength(2);
    expect(source.current.options.resourceVersion).toBe("40");
    await reflector.stop();
  });

  test("a broken watch backs off, then resumes from the last resourceVersion without relisting", async () => {
    const { clock, source, reflector, restarts } = setup();
    source.onList(page([pod("a", "5")], "10"));
    reflector.start();
    await flushPromises();
    source.current.push(event("MODIFIED", pod("a", "14")));
    await flushPromises();
    source.current.fail(new Error("ECONNRESET"));
    await flushPromises();
    expect(source.watches).toHaveLength(1);
    await clock.advance(999);
    expect(source.watches).toHaveLength(1);
    await clock.advance(1);
    expect(source.watches).toHaveLength(2);
    expect(source.current.options.resourceVersion).toBe("14");
    expect(source.listCalls).toHaveLength(1);
    expect(restarts).toEqual(["error"]);
    await reflector.stop();
  });

  test("consecutive failures back off exponentially up to the cap; a delivered event resets it", async () => {
    const { clock, source, reflector } = setup();
    source.onList(page([], "10"));
    for (let i = 0; i < 5; i++) source.failNextWatch(new HttpError(503));
    reflector.start();
    await flushPromises();
    const attemptsAt: number[] = [];
    const t0 = clock.now();
    for (let i = 0; i < 5; i++) {
      const next = clock.nextTimerAt();
      if (next === undefined) throw new Error("no retry scheduled");
      await clock.advance(next - clock.now());
      attemptsAt.push(clock.now() - t0);
    }
    // Delays 1, 2, 4, 8, 8 s (capped).
    expect(attemptsAt).toEqual([1000, 3000, 7000, 15000, 23000]);
    expect(source.watches).toHaveLength(1);
    source.current.push(bookmark("11"));
    await flushPromises();
    source.current.fail(new Error("reset"));
    await flushPromises();
    expect(clock.nextTimerAt()).toBe(clock.now() + 1000);
    await reflector.stop();
  });

  test("a failed list backs off and lists again; synced only after a list succeeds", async () => {
    const { clock, source, reflector, logger } = setup();
    source.onList(new HttpError(500), page([pod("a", "5")], "10"));
    reflector.start();
    await flushPromises();
    expect(reflector.synced).toBe(false);
    expect(logger.lines.some((l) => l.level === "warn" && l.fields.errCode === 500)).toBe(true);
    await clock.advance(1000);
    expect(reflector.synced).toBe(true);
    expect(source.listCalls).toHaveLength(2);
    await reflector.stop();
  });

  test("bookmarks advance the resourceVersion and keep the inactivity timer alive", async () => {
    const { clock, source, reflector, events } = setup();
    source.onList(page([], "10"));
    reflector.start();
    await flushPromises();
    const first = source.current;
    await clock.advance(9_000);
    first.push(bookmark("20"));
    await clock.advance(9_000);
    expect(first.aborted).toBe(false);
    first.push(bookmark("25"));
    await clock.advance(9_999);
    expect(first.aborted).toBe(false);
    expect(events).toEqual([]);
    first.close();
    await flushPromises();
    expect(source.current.options.resourceVersion).toBe("25");
    await reflector.stop();
  });

  test("a watch silent past the inactivity timeout is aborted and restarted from the last resourceVersion", async () => {
    const { clock, source, reflector, restarts } = setup();
    source.onList(page([], "10"));
    reflector.start();
    await flushPromises();
    source.current.push(event("ADDED", pod("a", "15")));
    await flushPromises();
    const stalled = source.current;
    await clock.advance(9_999);
    expect(stalled.aborted).toBe(false);
    await clock.advance(1);
    expect(stalled.aborted).toBe(true);
    expect(restarts).toEqual(["stalled"]);
    // The stall is a failure: backoff (1 s) before the new watch.
    await clock.advance(1_000);
    expect(source.watches).toHaveLength(2);
    expect(source.current.options.resourceVersion).toBe("15");
    expect(source.listCalls).toHaveLength(1);
    await reflector.stop();
  });

  test("a normal close after events resumes at once; an immediate empty close backs off", async () => {
    const { clock, source, reflector } = setup();
    source.onList(page([], "10"));
    reflector.start();
    await flushPromises();
    source.current.push(event("ADDED", pod("a", "11")));
    source.current.close();
    await flushPromises();
    expect(source.watches).toHaveLength(2);
    source.current.close();
    await flushPromises();
    expect(source.watches).toHaveLength(2);
    await clock.advance(1_000);
    expect(source.watches).toHaveLength(3);
    await reflector.stop();
  });

  test("periodic relist replaces the store and emits what changed", async () => {
    const { clock, source, reflector, events } = setup({
      relistIntervalMs: 60_000,
      inactivityTimeoutMs: 120_000,
    });
    source.onList(page([pod("a", "5"), pod("b", "6")], "10"), page([pod("a", "5")], "40"));
    reflector.start();
    await flushPromises();
    await clock.advance(59_999);
    expect(source.listCalls).toHaveLength(1);
    await clock.advance(1);
    expect(source.listCalls).toHaveLength(2);
    // Unchanged objects (same resourceVersion) emit nothing.
    expect(events).toEqual(["add:a@5", "add:b@6", "delete:b@6"]);
    expect(source.current.options.resourceVersion).toBe("40");
    await reflector.stop();
  });

  test("a subscriber that throws is logged and does not stop the reflector", async () => {
    const { source, reflector, logger } = setup();
    let calls = 0;
    reflector.subscribe(() => {
      calls++;
      throw new Error("handler bug");
    });
    source.onList(page([pod("a", "5")], "10"));
    reflector.start();
    await flushPromises();
    source.current.push(event("ADDED", pod("b", "11")));
    await flushPromises();
    expect(calls).toBe(2);
    expect(reflector.store.get("ns/b")).toBeDefined();
    expect(logger.lines.filter((l) => l.msg === "event handler threw")).toHaveLength(2);
    await reflector.stop();
  });

  test("a non-410 ERROR event backs off and resumes without relisting", async () => {
    const { clock, source, reflector } = setup();
    source.onList(page([], "10"));
    reflector.start();
    await flushPromises();
    source.current.push({
      type: "ERROR",
      object: { kind: "Status", code: 500, reason: "InternalError", message: "etcd" },
    });
    await flushPromises();
    await clock.advance(1_000);
    expect(source.watches).toHaveLength(2);
    expect(source.listCalls).toHaveLength(1);
    await reflector.stop();
  });

  test("watches several namespaces into one store; a relist in one leaves the others alone", async () => {
    const { source, reflector, events } = setup({ namespaces: ["a", "b"] });
    source.onList(
      (o) => page([pod("x", "1", {}, o.namespace)], "10"),
      (o) => page([pod("y", "2", {}, o.namespace)], "10"),
      (o) => page([], `${o.namespace}-20`),
    );
    reflector.start();
    await reflector.whenSynced();
    await flushPromises();
    expect(source.listCalls.map((c) => c.namespace)).toEqual(["a", "b"]);
    expect(reflector.store.keys().sort()).toEqual(["a/x", "b/y"]);
    const inA = source.watches.find((w) => w.options.namespace === "a");
    inA?.push(gone());
    await flushPromises();
    expect(reflector.store.keys()).toEqual(["b/y"]);
    expect(events.at(-1)).toBe("delete:x@1");
    await reflector.stop();
  });

  test("stop ends the loops; the store keeps its content", async () => {
    const { clock, source, reflector } = setup();
    source.onList(page([pod("a", "5")], "10"));
    reflector.start();
    await flushPromises();
    await reflector.stop();
    expect(reflector.running).toBe(false);
    await clock.advance(60_000);
    expect(source.watches).toHaveLength(1);
    expect(reflector.store.size).toBe(1);
  });

  test("an index function that throws on one object does not stall the watch: later events still arrive", async () => {
    const { source, reflector, events, logger, restarts } = setup();
    reflector.addIndex("secrets", (o) => {
      if (o.metadata?.name === "bad") throw new Error("malformed backingServices");
      return [];
    });
    source.onList(page([pod("a", "5")], "10"));
    reflector.start();
    await flushPromises();
    source.current.push(event("ADDED", pod("bad", "11")), event("ADDED", pod("c", "12")));
    await flushPromises();
    expect(events).toEqual(["add:a@5", "add:bad@11", "add:c@12"]);
    expect(restarts).toEqual([]);
    expect(source.current.options.resourceVersion).toBe("10");
    expect(logger.lines.some((l) => l.msg.includes("index") && l.level === "error")).toBe(true);
    await reflector.stop();
  });

  describe("streaming list", () => {
    test("fills the store from the initial events and syncs at their end bookmark, without a list", async () => {
      const { source, reflector, events } = setup({ streamingList: true });
      reflector.start();
      await flushPromises();
      const w = source.current;
      expect(w.options).toMatchObject({
        resourceVersion: "",
        sendInitialEvents: true,
        allowWatchBookmarks: true,
      });
      w.push(event("ADDED", pod("a", "5")), event("ADDED", pod("b", "6")), bookmark("7"));
      await flushPromises();
      // Nothing is told or stored until the initial events end: readers never see half a list.
      expect(reflector.synced).toBe(false);
      expect(reflector.store.size).toBe(0);
      w.push(initialEventsEnd("8"), event("MODIFIED", pod("a", "9", { spec: { x: 1 } })));
      await flushPromises();
      expect(reflector.synced).toBe(true);
      expect(source.listCalls).toEqual([]);
      expect(events).toEqual(["add:a@5", "add:b@6", "update:a@9"]);
      expect(reflector.store.get("ns/a")?.spec).toEqual({ x: 1 });
      // A resumed watch starts from where the stream got to, with no initial events.
      w.close();
      await flushPromises();
      expect(source.current.options.resourceVersion).toBe("9");
      expect(source.current.options.sendInitialEvents).toBeUndefined();
      await reflector.stop();
    });

    test("a stream broken before its end bookmark starts over; a 410 later streams again and deletes what vanished", async () => {
      const { clock, source, reflector, events } = setup({ streamingList: true });
      reflector.start();
      await flushPromises();
      source.current.push(event("ADDED", pod("a", "5")));
      source.current.fail(new Error("ECONNRESET"));
      await flushPromises();
      await clock.advance(1_000);
      expect(source.watches).toHaveLength(2);
      expect(source.current.options).toMatchObject({
        resourceVersion: "",
        sendInitialEvents: true,
      });
      expect(reflector.synced).toBe(false);
      source.current.push(
        event("ADDED", pod("a", "5")),
        event("ADDED", pod("b", "6")),
        initialEventsEnd("6"),
      );
      await flushPromises();
      expect(events).toEqual(["add:a@5", "add:b@6"]);
      source.current.push(gone());
      await flushPromises();
      expect(source.current.options).toMatchObject({
        resourceVersion: "",
        sendInitialEvents: true,
      });
      source.current.push(event("ADDED", pod("b", "6")), initialEventsEnd("20"));
      await flushPromises();
      expect(events.at(-1)).toBe("delete:a@5");
      expect(reflector.store.keys()).toEqual(["ns/b"]);
      expect(source.listCalls).toEqual([]);
      await reflector.stop();
    });

    test("an API server that refuses it (422) is listed page by page from then on", async () => {
      const { source, reflector, logger } = setup({ streamingList: true });
      source.failNextWatch(new HttpError(422));
      source.onList(page([pod("a", "5")], "10"));
      reflector.start();
      await reflector.whenSynced();
      await flushPromises();
      expect(source.listCalls).toHaveLength(1);
      expect(reflector.store.keys()).toEqual(["ns/a"]);
      expect(source.current.options.resourceVersion).toBe("10");
      expect(source.current.options.sendInitialEvents).toBeUndefined();
      expect(logger.lines.some((l) => l.msg.includes("refused a streaming list"))).toBe(true);
      await reflector.stop();
    });

    test("a forbidden streaming list (403) is an error with backoff, not a reason to list", async () => {
      const { clock, source, reflector, restarts } = setup({ streamingList: true });
      source.failNextWatch(new HttpError(403));
      reflector.start();
      await flushPromises();
      expect(restarts).toEqual(["error"]);
      expect(reflector.lastError).toBeInstanceOf(HttpError);
      await clock.advance(1_000);
      expect(source.current.options.sendInitialEvents).toBe(true);
      expect(source.listCalls).toEqual([]);
      await reflector.stop();
    });

    test("a stream the server closes before its end bookmark is listed instead, and lists from then on", async () => {
      const { source, reflector, logger, events } = setup({ streamingList: true });
      source.onList(page([pod("a", "5"), pod("b", "6")], "10"));
      reflector.start();
      await flushPromises();
      source.current.push(event("ADDED", pod("a", "5")));
      source.current.close();
      await reflector.whenSynced();
      await flushPromises();
      expect(source.listCalls).toHaveLength(1);
      expect(events).toEqual(["add:a@5", "add:b@6"]);
      expect(source.current.options.resourceVersion).toBe("10");
      expect(source.current.options.sendInitialEvents).toBeUndefined();
      expect(logger.lines.some((l) => l.msg.includes("before its end bookmark"))).toBe(true);
      // A later 410 relists page by page too: the server is not asked to stream again.
      source.onList(page([pod("b", "6")], "20"));
      source.current.push(gone());
      await flushPromises();
      expect(source.listCalls).toHaveLength(2);
      expect(reflector.store.keys()).toEqual(["ns/b"]);
      await reflector.stop();
    });

    test("a server that ignores sendInitialEvents (no end bookmark) is listed after the silence", async () => {
      const { clock, source, reflector, restarts } = setup({
        streamingList: true,
        initialEventsSilenceMs: 20_000,
        inactivityTimeoutMs: 600_000,
      });
      source.onList(page([pod("a", "5")], "10"));
      reflector.start();
      await flushPromises();
      // It sends the objects as a plain watch would, then nothing.
      source.current.push(event("ADDED", pod("a", "5")));
      await flushPromises();
      await clock.advance(19_000);
      expect(reflector.synced).toBe(false);
      expect(source.listCalls).toEqual([]);
      await clock.advance(1_000);
      await reflector.whenSynced();
      expect(restarts).toEqual(["unfinished"]);
      expect(source.listCalls).toHaveLength(1);
      expect(reflector.store.keys()).toEqual(["ns/a"]);
      await reflector.stop();
    });

    test("a slow stream that keeps delivering is not cut off by the silence limit", async () => {
      const { clock, source, reflector } = setup({
        streamingList: true,
        initialEventsSilenceMs: 20_000,
        inactivityTimeoutMs: 600_000,
      });
      reflector.start();
      await flushPromises();
      for (let i = 0; i < 5; i++) {
        await clock.advance(15_000);
        source.current.push(event("ADDED", pod(`p${i}`, String(i + 1))));
        await flushPromises();
      }
      source.current.push(initialEventsEnd("9"));
      await flushPromises();
      expect(reflector.synced).toBe(true);
      expect(reflector.store.size).toBe(5);
      expect(source.watches).toHaveLength(1);
      expect(source.listCalls).toEqual([]);
      // Once synced, the watch's own (longer) inactivity limit applies.
      await clock.advance(30_000);
      expect(source.watches).toHaveLength(1);
      await reflector.stop();
    });

    test("the periodic relist streams again, timed from the end of the initial events", async () => {
      const { clock, source, reflector } = setup({
        streamingList: true,
        relistIntervalMs: 60_000,
        inactivityTimeoutMs: 600_000,
      });
      reflector.start();
      await flushPromises();
      await clock.advance(5_000);
      source.current.push(event("ADDED", pod("a", "5")), initialEventsEnd("5"));
      await flushPromises();
      await clock.advance(59_000);
      expect(source.watches).toHaveLength(1);
      await clock.advance(1_000);
      await flushPromises();
      expect(source.watches).toHaveLength(2);
      expect(source.current.options).toMatchObject({
        resourceVersion: "",
        sendInitialEvents: true,
      });
      await reflector.stop();
    });
  });
});
