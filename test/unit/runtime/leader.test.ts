import { ApiException } from "@kubernetes/client-node";
import { describe, expect, test } from "vitest";
import {
  formatMicroTime,
  LeaderElector,
  type LeaderElectorOptions,
  type Lease,
  type LeaseApi,
} from "../../../src/runtime/leader.ts";
import { FakeClock, flushPromises } from "../../support/fake-clock.ts";

/** An in-memory Lease endpoint with resourceVersion checks, failure injection and hanging requests. */
class FakeLeaseApi implements LeaseApi {
  lease: Lease | undefined;
  calls: string[] = [];
  failWith: (() => Error) | undefined;
  hang = false;
  #rv = 0;

  async get(_ns: string, _name: string, signal?: AbortSignal) {
    await this.#gate("get", signal);
    return this.lease === undefined ? undefined : structuredClone(this.lease);
  }

  async create(lease: Lease, signal?: AbortSignal) {
    await this.#gate("create", signal);
    if (this.lease !== undefined) throw new ApiException(409, "AlreadyExists", "", {});
    return this.#store(lease);
  }

  async replace(lease: Lease, signal?: AbortSignal) {
    await this.#gate("replace", signal);
    if (lease.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) {
      throw new ApiException(409, "Conflict", "", {});
    }
    return this.#store(lease);
  }

  /** Another process writes the lease (bumping the version). */
  set(spec: Lease["spec"]) {
    this.#store({ metadata: { name: "l", namespace: "ns" }, spec });
  }

  #store(lease: Lease): Lease {
    this.lease = structuredClone({
      ...lease,
      metadata: { ...lease.metadata, resourceVersion: String(++this.#rv) },
    });
    return structuredClone(this.lease);
  }

  async #gate(call: string, signal?: AbortSignal) {
    this.calls.push(call);
    if (this.hang) {
      await new Promise((_resolve, reject) =>
        signal?.addEventListener("abort", () => reject(signal.reason)),
      );
    }
    if (this.failWith) throw this.failWith();
  }
}

function elector(
  api: FakeLeaseApi,
  clock: FakeClock,
  identity = "me",
  extra: Partial<LeaderElectorOptions> = {},
) {
  const log: string[] = [];
  const e = new LeaderElector({
    api,
    clock,
    namespace: "ns",
    name: "l",
    identity,
    random: () => 0,
    onStartedLeading: () => log.push(`${identity}:started`),
    onStoppedLeading: () => log.push(`${identity}:stopped`),
    ...extra,
  });
  return { e, log };
}

const holder = (api: FakeLeaseApi) => api.lease?.spec?.holderIdentity;

describe("formatMicroTime", () => {
  test("has exactly six fractional digits", () => {
    expect(formatMicroTime(Date.UTC(2026, 0, 1))).toBe("2026-01-01T00:00:00.000000Z");
    expect(formatMicroTime(Date.UTC(2026, 5, 30, 12, 34, 56, 789))).toBe(
      "2026-06-30T12:34:56.789000Z",
    );
    expect(formatMicroTime(Date.now())).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });
});

describe("LeaderElector", () => {
  test("acquires a lease that does not exist yet", async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const { e, log } = elector(api, clock);
    e.start();
    await flushPromises();
    expect(e.isLeader).toBe(true);
    expect(log).toEqual(["me:started"]);
    expect(api.lease?.spec).toEqual({
      holderIdentity: "me",
      leaseDurationSeconds: 15,
      acquireTime: "2026-01-01T00:00:00.000000Z",
      renewTime: "2026-01-01T00:00:00.000000Z",
      leaseTransitions: 0,
    });
    await e.stop();
  });

  test("does not take a lease its holder keeps renewing", async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    api.set({
      holderIdentity: "other",
      leaseDurationSeconds: 15,
      renewTime: formatMicroTime(clock.now()),
    });
    const { e, log } = elector(api, clock);
    e.start();
    for (let t = 0; t < 60; t += 2) {
      api.set({
        holderIdentity: "other",
        leaseDurationSeconds: 15,
        renewTime: formatMicroTime(clock.now()),
      });
      await clock.advance(2_000);
    }
    expect(e.isLeader).toBe(false);
    expect(e.leader).toBe("other");
    expect(log).toEqual([]);
    await e.stop();
    expect(holder(api)).toBe("other");
  });

  test("takes an expired lease once it went unrenewed for its duration, counting a transition", async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    api.set({
      holderIdentity: "other",
      leaseDurationSeconds: 15,
      leaseTransitions: 4,
      acquireTime: "x",
      renewTime: "x",
    });
    const { e } = elector(api, clock);
    e.start();
    await clock.advance(14_000);
    expect(e.isLeader).toBe(false);
    await clock.advance(2_000);
    expect(e.isLeader).toBe(true);
    expect(api.lease?.spec?.holderIdentity).toBe("me");
    expect(api.lease?.spec?.leaseTransitions).toBe(5);
    expect(api.lease?.spec?.acquireTime).toBe(formatMicroTime(clock.now()));
    await e.stop();
  });

  test("takes a released lease (no holder) at once", async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    api.set({ leaseDurationSeconds: 1, renewTime: formatMicroTime(clock.now()) });
    const { e } = elector(api, clock);
    e.start();
    await flushPromises();
    expect(e.isLeader).toBe(true);
    await e.stop();
  });

  test("renews every retry period with one write and keeps the acquire time", async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const { e } = elector(api, clock);
    e.start();
    await flushPromises();
    const acquired = api.lease?.spec?.acquireTime;
    api.calls = [];
    await clock.advance(10_000);
    expect(api.calls).toEqual(["replace", "replace", "replace", "replace", "replace"]);
    expect(api.lease?.spec?.renewTime).toBe(formatMicroTime(clock.now()));
    expect(api.lease?.spec?.acquireTime).toBe(acquired);
    expect(e.isLeader).toBe(true);
    await e.stop();
  });

  test("stops leading when renewals fail for the renew deadline, not before", async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const { e, log } = elector(api, clock);
    e.start();
    await clock.advance(2_000);
    api.failWith = () => new ApiException(503, "unavailable", "", {});
    // Last renewal at t=2s; deadline 10 s later.
    await clock.advance(9_999);
    expect(e.isLeader).toBe(true);
    await clock.advance(1);
    expect(e.isLeader).toBe(false);
    expect(log).toEqual(["me:started", "me:stopped"]);
    await e.stop();
  });

  test("stops leading at the deadline even when the renewal request hangs", async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const { e, log } = elector(api, clock);
    e.start();
    await flushPromises();
    api.hang = true;
    await clock.advance(9_999);
    expect(e.isLeader).toBe(true);
    await clock.advance(1);
    expect(e.isLeader).toBe(false);
    expect(log).toEqual(["me:started", "me:stopped"]);
    api.hang = false;
    await e.stop();
  });

  test("stops leading at once when a renewal finds another holder", async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const { e, log } = elector(api, clock);
    e.start();
    await flushPromises();
    api.set({
      holderIdentity: "usurper",
      leaseDurationSeconds: 15,
      renewTime: formatMicroTime(clock.now()),
    });
    await clock.advance(2_000);
    // The renewal conflicts (stale version); the next attempt reads the lease and sees the new holder.
    await clock.advance(2_000);
    expect(e.isLeader).toBe(false);
    expect(log).toEqual(["me:started", "me:stopped"]);
    await e.stop();
  });

  test("releases the lease on stop so a standby takes over at its next attempt", async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const a = elector(api, clock, "a");
    const b = elector(api, clock, "b");
    a.e.start();
    await flushPromises();
    b.e.start();
    await clock.advance(10_000);
    expect([a.e.isLeader, b.e.isLeader]).toEqual([true, false]);
    await a.e.stop();
    expect(a.log).toEqual(["a:started", "a:stopped"]);
    expect(api.lease?.spec?.holderIdentity).toBeUndefined();
    expect(api.lease?.spec?.leaseDurationSeconds).toBe(1);
    await clock.advance(2_000);
    expect(b.e.isLeader).toBe(true);
    await b.e.stop();
  });

  test("of two electors exactly one leads; the standby takes over within the lease duration after the leader dies", async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi();
    const a = elector(api, clock, "a");
    const b = elector(api, clock, "b");
    a.e.start();
    b.e.start();
    await clock.advance(30_000);
    expect([a.e.isLeader, b.e.isLeader].filter(Boolean)).toHaveLength(1);
    const [leader, standby] = a.e.isLeader ? [a, b] : [b, a];
    // The leader's process freezes: its writes never complete (and it gives up leading itself).
    const frozen = new FakeLeaseApi();
    frozen.hang = true;
    const originalReplace = api.replace.bind(api);
    api.replace = (lease, signal) =>
      lease.spec?.holderIdentity === leader.e.identity
        ? frozen.replace(lease, signal)
        : originalReplace(lease, signal);
    const died = clock.now();
    while (!standby.e.isLeader && clock.now() - died < 60_000) await clock.advance(500);
    // Unrenewed for the lease duration as the standby observed it, plus at most one retry period.
    expect(clock.now() - died).toBeGreaterThanOrEqual(13_000);
    expect(clock.now() - died).toBeLessThanOrEqual(15_000 + 2_000);
    expect(leader.e.isLeader).toBe(false);
    api.replace = originalReplace;
    await standby.e.stop();
    await leader.e.stop();
  });

  test("rejects timings where the renew deadline is not shorter than the lease", () => {
    expect(() =>
      elector(new FakeLeaseApi(), new FakeClock(), "x", { renewDeadlineMs: 15_000 }),
    ).toThrow(/renewDeadlineMs/);
  });
});
