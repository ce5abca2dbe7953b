import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, test } from "vitest";
import { decideRecycle, staleChildren } from "../../../src/app/reconcile/index.ts";

const owned = (kind: string, name: string, uid = "u1", extra: Record<string, unknown> = {}) => ({
  kind,
  metadata: { name, ownerReferences: [{ uid, controller: true }], ...extra },
});

describe("staleChildren", () => {
  test("returns only what the app controls, does not keep, and is not already going", () => {
    const objects = [
      owned("Deployment", "shop-web"),
      owned("Deployment", "shop-old"),
      owned("Service", "shop-old"),
      owned("Deployment", "shop-other", "u2"),
      owned("Service", "shop-gone", "u1", { deletionTimestamp: "2026-01-01T00:00:00Z" }),
      {
        kind: "Service",
        metadata: { name: "shop-shared", ownerReferences: [{ uid: "u1", controller: false }] },
      },
    ];
    const stale = staleChildren(objects, new Set(["Deployment/shop-web"]), "u1");
    expect(stale.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Deployment/shop-old",
      "Service/shop-old",
    ]);
  });
});

const HOUR = 3_600_000;
const NOW = Date.parse("2026-11-28T12:00:00Z");
const pod = (name: string, ageMs: number, extra: Partial<V1Pod["metadata"]> = {}): V1Pod => ({
  metadata: { name, ...extra },
  status: { phase: "Running", startTime: new Date(NOW - ageMs) },
});

describe("decideRecycle", () => {
  test("evicts the oldest expired pod when every wanted process is available", () => {
    const d = decideRecycle({
      pods: [pod("b", 2 * HOUR), pod("a", 3 * HOUR), pod("c", HOUR / 2)],
      wanted: 3,
      available: 3,
      maxLifetimeMs: HOUR,
      now: NOW,
    });
    expect(d.evict?.metadata?.name).toBe("a");
    expect(d.recheckAfterMs).toBe(5_000);
  });

  test("waits for the previous replacement before evicting another", () => {
    const terminating = pod("a", 3 * HOUR, { deletionTimestamp: new Date(NOW) });
    for (const input of [
      { pods: [terminating, pod("b", 2 * HOUR)], wanted: 2, available: 1 },
      { pods: [pod("a", 3 * HOUR), pod("b", 2 * HOUR)], wanted: 2, available: 1 },
      { pods: [pod("a", 3 * HOUR), pod("b", 2 * HOUR), pod("c", 1000)], wanted: 2, available: 2 },
    ]) {
      const d = decideRecycle({ ...input, maxLifetimeMs: HOUR, now: NOW });
      expect(d.evict).toBeUndefined();
      expect(d.waiting).toBe("waiting for the previous replacement to become available");
    }
  });

  test("looks again when the oldest pod will expire, and not at all without pods", () => {
    expect(
      decideRecycle({
        pods: [pod("a", HOUR / 4)],
        wanted: 1,
        available: 1,
        maxLifetimeMs: HOUR,
        now: NOW,
      }),
    ).toEqual({
      recheckAfterMs: (3 * HOUR) / 4,
    });
    expect(
      decideRecycle({ pods: [], wanted: 1, available: 0, maxLifetimeMs: HOUR, now: NOW }),
    ).toEqual({});
  });
});
