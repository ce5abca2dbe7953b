import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  forEachConcurrently,
  keyOf,
  namespaceNames,
  spreadApps,
} from "../../../bench/lib/spread.ts";

const name = (i: number) => `app-${i}`;

/** How many apps each namespace holds, in the namespaces' order. */
const countsOf = (apps: readonly { namespace: string }[], namespaces: readonly string[]) => {
  const counts = new Map(namespaces.map((ns) => [ns, 0]));
  for (const a of apps) counts.set(a.namespace, (counts.get(a.namespace) ?? 0) + 1);
  return namespaces.map((ns) => counts.get(ns));
};

describe("spreadApps puts N apps over M namespaces as evenly as possible", () => {
  test.each<[number, number, number[]]>([
    [6, 3, [2, 2, 2]],
    [7, 3, [3, 2, 2]],
    [8, 3, [3, 3, 2]],
    [2, 3, [1, 1, 0]],
    [0, 3, [0, 0, 0]],
  ])("%i apps over %i namespaces: %j per namespace", (n, m, counts) => {
    const namespaces = namespaceNames("ns", m);
    const apps = spreadApps(n, namespaces, name);
    expect(apps).toHaveLength(n);
    expect(countsOf(apps, namespaces)).toEqual(counts);
  });

  test("the issue's size: 20 000 apps over 2 000 namespaces, 10 each", () => {
    const namespaces = namespaceNames("ns", 2000);
    const apps = spreadApps(20_000, namespaces, name);
    expect(new Set(countsOf(apps, namespaces))).toEqual(new Set([10]));
    expect(new Set(apps.map(keyOf)).size).toBe(20_000);
  });

  test("names count from 0 within each namespace, namespace by namespace", () => {
    expect(spreadApps(5, ["a", "b"], name)).toEqual([
      { namespace: "a", name: "app-0" },
      { namespace: "a", name: "app-1" },
      { namespace: "a", name: "app-2" },
      { namespace: "b", name: "app-0" },
      { namespace: "b", name: "app-1" },
    ]);
  });

  test("every app is distinct and no namespace holds more than one app over another", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 300 }), (n, m) => {
        const namespaces = namespaceNames("ns", m);
        const apps = spreadApps(n, namespaces, name);
        expect(new Set(apps.map(keyOf)).size).toBe(n);
        const counts = countsOf(apps, namespaces).map(Number);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }),
    );
  });

  test("no namespace: only zero apps fit", () => {
    expect(spreadApps(0, [], name)).toEqual([]);
    expect(() => spreadApps(1, [], name)).toThrow(/no namespace/);
    expect(() => spreadApps(-1, ["a"], name)).toThrow(/count/);
    expect(() => spreadApps(1.5, ["a"], name)).toThrow(/count/);
  });
});

test("namespaceNames numbers from 0", () => {
  expect(namespaceNames("bench-scale", 3)).toEqual([
    "bench-scale-0",
    "bench-scale-1",
    "bench-scale-2",
  ]);
  expect(namespaceNames("x", 0)).toEqual([]);
});

describe("forEachConcurrently", () => {
  const tick = () => new Promise<void>((r) => setTimeout(r, 1));

  test("runs every item once, with at most `concurrency` in flight", async () => {
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    await forEachConcurrently(
      Array.from({ length: 50 }, (_, i) => i),
      7,
      async (item, index) => {
        expect(item).toBe(index);
        inFlight++;
        most = Math.max(most, inFlight);
        await tick();
        seen.push(item);
        inFlight--;
      },
    );
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(most).toBe(7);
  });

  test("starts the items in order", async () => {
    const started: number[] = [];
    await forEachConcurrently([0, 1, 2, 3, 4], 2, async (i) => {
      started.push(i);
      await tick();
    });
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  test("no items, or a concurrency below one, still works", async () => {
    await forEachConcurrently([], 4, async () => {
      throw new Error("not called");
    });
    const seen: number[] = [];
    await forEachConcurrently([1, 2], 0, async (i) => {
      seen.push(i);
    });
    expect(seen).toEqual([1, 2]);
  });

  test("the first failure rejects, and no further item starts", async () => {
    const started: number[] = [];
    await expect(
      forEachConcurrently([0, 1, 2, 3, 4, 5], 2, async (i) => {
        started.push(i);
        await tick();
        if (i === 1) throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(started.length).toBeLessThan(6);
  });
});
