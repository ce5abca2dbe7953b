// Leader election with two electors on a real kube-apiserver Lease, and MicroTime acceptance.
import { describe, expect, test } from "vitest";
import {
  builtinResources,
  formatMicroTime,
  httpLeaseApi,
  LeaderElector,
  type Lease,
  requestJson,
  resourcePath,
} from "../../../src/runtime/index.ts";
import {
  createTestNamespace,
  eventually,
  printClusterLogsOnFailure,
} from "../../support/cluster.ts";
import { countingTransport } from "./helpers.ts";

printClusterLogsOnFailure();

const http = countingTransport();
const api = httpLeaseApi(http.transport);

/** Short timings so the test takes seconds; the ratios match the 15/10/2 s defaults. */
function elector(namespace: string, identity: string, log: string[], leaseDurationMs = 3_000) {
  return new LeaderElector({
    api,
    namespace,
    name: "operator",
    identity,
    leaseDurationMs,
    renewDeadlineMs: (leaseDurationMs * 2) / 3,
    retryPeriodMs: 400,
    onStartedLeading: () => log.push(`${identity}:started`),
    onStoppedLeading: () => log.push(`${identity}:stopped`),
  });
}

describe("LeaderElector on a real apiserver", () => {
  test("the apiserver accepts six-digit MicroTime and rejects three digits", async () => {
    const namespace = await createTestNamespace("microtime");
    const create = (name: string, time: string) =>
      requestJson<Lease>(http.transport, {
        method: "POST",
        path: resourcePath(builtinResources.lease, { namespace }),
        contentType: "application/json",
        body: JSON.stringify({
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name },
          spec: {
            holderIdentity: "x",
            leaseDurationSeconds: 15,
            renewTime: time,
            acquireTime: time,
          },
        }),
      });
    const now = Date.UTC(2026, 0, 1, 12, 0, 0, 123);
    const ok = await create("six", formatMicroTime(now));
    expect(ok.spec?.renewTime).toBe("2026-01-01T12:00:00.123000Z");
    await expect(create("three", new Date(now).toISOString())).rejects.toMatchObject({ code: 400 });
  });

  test("of two electors one leads; when it stops, the other takes over without waiting for expiry", async () => {
    const namespace = await createTestNamespace("leader");
    const log: string[] = [];
    // A 60 s lease: b can only lead within the 20 s below if a released it.
    const a = elector(namespace, "a", log, 60_000);
    const b = elector(namespace, "b", log, 60_000);
    a.start();
    await eventually(async () => a.isLeader, { what: "a to lead" });
    b.start();
    // Several renew periods: b stays a standby, a keeps renewing.
    await new Promise((r) => setTimeout(r, 2_000));
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    expect(b.leader).toBe("a");
    const lease = await api.get(namespace, "operator");
    expect(lease?.spec?.holderIdentity).toBe("a");
    expect(lease?.spec?.renewTime).toMatch(/\.\d{6}Z$/);

    await a.stop();
    const released = await api.get(namespace, "operator");
    // Released (no holder), or already taken by b at its next attempt.
    expect(["", "b"]).toContain(released?.spec?.holderIdentity ?? "");
    await eventually(async () => b.isLeader, {
      what: "b to take over the released lease before it could expire",
      timeoutMs: 20_000,
    });
    expect(log).toEqual(["a:started", "a:stopped", "b:started"]);
    const after = await api.get(namespace, "operator");
    expect(after?.spec?.holderIdentity).toBe("b");
    expect(after?.spec?.leaseTransitions).toBe(1);
    await b.stop();
  });

  test("a standby takes over a lease its holder stopped renewing once the lease expires", async () => {
    const namespace = await createTestNamespace("expiry");
    // A holder that vanished without releasing (a killed process).
    await api.create({
      metadata: { name: "operator", namespace },
      spec: {
        holderIdentity: "crashed",
        leaseDurationSeconds: 3,
        acquireTime: formatMicroTime(Date.now()),
        renewTime: formatMicroTime(Date.now()),
        leaseTransitions: 0,
      },
    });
    const log: string[] = [];
    const b = elector(namespace, "b", log);
    const started = Date.now();
    b.start();
    await new Promise((r) => setTimeout(r, 2_000));
    expect(b.isLeader).toBe(false);
    await eventually(async () => b.isLeader, {
      what: "b to take the expired lease",
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    const waited = Date.now() - started;
    // Not before the lease's 3 s duration; the timeout above bounds the wait after it.
    expect(waited).toBeGreaterThanOrEqual(3_000);
    await b.stop();
  });
});
