// Real pods 6: a rolling update of session-counter's web processes (its manifest's preStop sleep
// of 5 s, terminationGracePeriodSeconds 20) while clients keep sending requests through the
// Service's ClusterIP (kube-proxy). Every request succeeds at its first attempt (no retry, not
// even of a refused connection: the hook keeps the old process listening while the endpoint
// goes), every count is exact, and each old pod got SIGTERM only after the sleep: its own log says
// when SIGTERM came, a watch of ours when the pod was deleted.

import { beforeAll, describe, expect, test } from "vitest";
import { Recorder } from "../e2e/support/kube.ts";
import { kubectlOk } from "../integration/install/kubectl.ts";
import { eventually, printClusterLogsOnFailure } from "../support/cluster.ts";
import {
  applyAsTenant,
  appPods,
  deployRedis,
  followLogs,
  installOperator,
  kube,
  type LogFollower,
  type RedisEndpoint,
  serviceAddress,
  sessionCounterObjects,
  storedCounts,
  tenantNamespace,
  visitOnce,
  waitReady,
} from "./support/node.ts";

printClusterLogsOnFailure();

const PASSWORD = "rollout-prestop-password";
const SLEEP_SECONDS = 5; // examples/session-counter/statelessapp.yaml
const GRACE_SECONDS = 20;
const CLIENTS = 4;
let namespace: string;
let redis: RedisEndpoint;

type WatchedPod = {
  metadata: {
    name: string;
    uid: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
  };
  spec: {
    terminationGracePeriodSeconds?: number;
    containers: { lifecycle?: unknown; env?: { name: string; value?: string }[] }[];
  };
  status?: {
    conditions?: { type: string; status: string }[];
    containerStatuses?: {
      state?: { terminated?: { exitCode: number; reason?: string; finishedAt?: string } };
    }[];
  };
};
type Deployment = {
  spec: { template: { spec: WatchedPod["spec"] } };
};

/** The example's spec with one more variable: a change of the pod template, so the pods roll. */
const withMark = (mark: string) => ({
  env: [
    { name: "SESSION_TTL_SECONDS", value: "1800" },
    { name: "ROLLOUT_MARK", value: mark },
  ],
});

beforeAll(async () => {
  await installOperator();
  namespace = await tenantNamespace("rollout");
  redis = await deployRedis(namespace, PASSWORD);
  await applyAsTenant(namespace, sessionCounterObjects(namespace, redis, PASSWORD, withMark("1")));
  await waitReady(namespace, "session-counter");
});

/** The time a JSON log line of session-counter carries, for the line whose msg is `msg`. */
function loggedAt(follower: LogFollower, msg: string): number | undefined {
  for (const { line } of follower.lines) {
    try {
      const entry = JSON.parse(line) as { time?: string; msg?: string };
      if (entry.msg === msg && entry.time !== undefined) return Date.parse(entry.time);
    } catch {
      // not one of the server's lines
    }
  }
  return undefined;
}

describe("a rolling update with the preStop sleep", () => {
  test("no request fails while every pod is replaced; SIGTERM comes after the sleep", async () => {
    const deployment = JSON.parse(
      await kubectlOk(["-n", namespace, "get", "deployment", "session-counter-web", "-o", "json"]),
    ) as Deployment;
    expect(deployment.spec.template.spec.containers[0]?.lifecycle).toEqual({
      preStop: { sleep: { seconds: SLEEP_SECONDS } },
    });
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(GRACE_SECONDS);

    const web = await serviceAddress(namespace, "session-counter-web");
    const original = (await appPods(namespace, "session-counter")).filter(
      (p) => p.metadata.deletionTimestamp === undefined,
    );
    expect(original).toHaveLength(3);
    const originals = new Set(original.map((p) => p.metadata.uid));
    const logs = new Map(
      original.map((p) => [p.metadata.name, followLogs(namespace, p.metadata.name)]),
    );
    const pods = new Recorder<WatchedPod>(kube(), "Pod", namespace, {
      labelSelector: "app.kubernetes.io/instance=session-counter",
    });

    // Clients: each keeps one session and sends one request at a time on a new connection.
    const sessions = Array.from({ length: CLIENTS }, (_, i) => `rollout-${i}-${Date.now()}`);
    const sent = sessions.map(() => 0);
    const counted = sessions.map(() => 0);
    const failures: string[] = [];
    const served: { at: number; pod: string }[] = [];
    let stop = false;
    const clients = sessions.map(async (session, i) => {
      while (!stop) {
        sent[i] = (sent[i] ?? 0) + 1;
        try {
          const v = await visitOnce(web.host, web.port, session);
          served.push({ at: Date.now(), pod: v.servedBy.split("/")[0] ?? "" });
          counted[i] = (counted[i] ?? 0) + 1;
          if (v.count !== counted[i]) {
            failures.push(`${session}: count ${v.count} at its ${counted[i]}th answer`);
            counted[i] = v.count;
          }
        } catch (error) {
          failures.push(`${new Date().toISOString()} ${session}: ${(error as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    });

    let rollout = 0;
    let rolledAt = 0;
    try {
      await eventually(
        async () => {
          pods.check();
          return served.length >= 20;
        },
        { timeoutMs: 30_000, what: "20 requests served before the change" },
      );
      const started = Date.now();
      await applyAsTenant(
        namespace,
        sessionCounterObjects(namespace, redis, PASSWORD, withMark("2")),
      );
      await eventually(
        async () => {
          pods.check();
          const gone = new Set(
            pods.events.filter((e) => e.type === "DELETED").map((e) => e.object.metadata.uid),
          );
          if (![...originals].every((uid) => gone.has(uid))) return false;
          const live = [...pods.latest().values()].filter(
            (p) =>
              p.metadata.deletionTimestamp === undefined &&
              p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
          );
          return live.length === 3 && live.every((p) => !originals.has(p.metadata.uid));
        },
        { timeoutMs: 180_000, intervalMs: 250, what: "every original pod replaced and gone" },
      );
      await waitReady(namespace, "session-counter");
      rolledAt = Date.now();
      rollout = rolledAt - started;
      // A few more seconds of traffic, on the new pods only.
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      stop = true;
      await Promise.all(clients);
      await pods.stop();
      for (const follower of logs.values()) follower.stop();
    }

    // Each old pod, measured: when our watch saw it deleted, when its log says SIGTERM came and
    // when it stopped, its exit code if the kubelet reported one before the pod went.
    const measured = [...originals].map((uid) => {
      const history = pods.events.filter((e) => e.object.metadata.uid === uid);
      const name = history[0]?.object.metadata.name ?? uid;
      const deleting = history.find((e) => e.object.metadata.deletionTimestamp !== undefined);
      const follower = logs.get(name);
      const deletedAt = deleting?.at;
      const at = (msg: string) => {
        const t = follower === undefined ? undefined : loggedAt(follower, msg);
        return t === undefined || deletedAt === undefined ? undefined : t - deletedAt;
      };
      return {
        name,
        grace: deleting?.object.metadata.deletionGracePeriodSeconds,
        signal: follower?.lines.find((l) => l.line.includes('"shutting down"'))?.line,
        toSigterm: at("shutting down"),
        toExit: at("stopped"),
        exitCode: history
          .map((e) => e.object.status?.containerStatuses?.[0]?.state?.terminated?.exitCode)
          .find((c) => c !== undefined),
        servedAfterDelete:
          deletedAt === undefined
            ? 0
            : served.filter((s) => s.pod === name && s.at > deletedAt).length,
      };
    });
    const total = sent.reduce((a, b) => a + b, 0);
    const secs = (ms: number | undefined) => (ms === undefined ? "?" : (ms / 1000).toFixed(2));
    console.error(
      `[node] rollout-prestop: ${total} requests sent by ${CLIENTS} clients, ${failures.length} failed, rollout ${secs(rollout)} s`,
    );
    for (const m of measured) {
      console.error(
        `[node] rollout-prestop: ${m.name}: SIGTERM ${secs(m.toSigterm)} s after the delete, exited ${secs(m.toExit)} s after (exit code ${m.exitCode ?? "not seen"}), ${m.servedAfterDelete} requests served after the delete`,
      );
    }

    expect(failures).toEqual([]);
    expect(counted).toEqual(sent);
    expect(await storedCounts(redis, PASSWORD, sessions)).toEqual(sent.map(String));
    expect(measured).toHaveLength(3);
    for (const m of measured) {
      expect(m.grace, `${m.name}: deletionGracePeriodSeconds`).toBe(GRACE_SECONDS);
      expect(m.signal, `${m.name}'s "shutting down" line`).toContain('"signal":"SIGTERM"');
      // Our watch sees the delete a little after the API server made it, so this is a lower
      // bound of how long the kubelet waited before SIGTERM; 250 ms for that watch's latency.
      expect(m.toSigterm, `${m.name}: ms from the delete to SIGTERM`).toBeGreaterThanOrEqual(
        SLEEP_SECONDS * 1000 - 250,
      );
      // Drained and exited on its own, before the grace period ran out (no SIGKILL).
      expect(m.toExit, `${m.name}: ms from the delete to its exit`).toBeLessThan(
        GRACE_SECONDS * 1000,
      );
      if (m.exitCode !== undefined) expect(m.exitCode, `${m.name}'s exit code`).toBe(0);
    }

    // The new pods: the same hook and grace period, the new variable, and they served the last
    // requests.
    const current = [...pods.latest().values()].filter(
      (p) => p.metadata.deletionTimestamp === undefined,
    );
    expect(current).toHaveLength(3);
    for (const p of current) {
      expect(originals.has(p.metadata.uid)).toBe(false);
      expect(p.spec.containers[0]?.lifecycle).toEqual({
        preStop: { sleep: { seconds: SLEEP_SECONDS } },
      });
      expect(p.spec.terminationGracePeriodSeconds).toBe(GRACE_SECONDS);
      expect(p.spec.containers[0]?.env).toContainEqual({ name: "ROLLOUT_MARK", value: "2" });
    }
    const last = served.filter((s) => s.at > rolledAt).map((s) => s.pod);
    expect(last.length).toBeGreaterThan(0);
    const names = new Set(current.map((p) => p.metadata.name));
    expect(last.filter((p) => !names.has(p))).toEqual([]);
  }, 300_000);
});
