// Real pods 4: the Redis password is rotated (Redis first, then the binding Secret); the operator
// rolls the app's pods onto the new password, and the app keeps serving every session's count.

import { Redis } from "ioredis";
import { beforeAll, describe, expect, test } from "vitest";
import { kubectlOk } from "../integration/install/kubectl.ts";
import { eventually, printClusterLogsOnFailure } from "../support/cluster.ts";
import {
  applyAsTenant,
  appPods,
  asTenant,
  deployRedis,
  exec,
  installOperator,
  type RedisEndpoint,
  serviceAddress,
  sessionCounterObjects,
  tenantNamespace,
  visit,
  waitReady,
} from "./support/node.ts";

printClusterLogsOnFailure();

const OLD = "rotation-old-password";
const NEW = "rotation-new-password";
let namespace: string;
let redis: RedisEndpoint;

beforeAll(async () => {
  await installOperator();
  namespace = await tenantNamespace("rotation");
  redis = await deployRedis(namespace, OLD);
  await applyAsTenant(namespace, sessionCounterObjects(namespace, redis, OLD));
  await waitReady(namespace, "session-counter");
});

describe("a rotated Redis password", () => {
  test("rolls the pods onto the new password while the app keeps serving", async () => {
    const web = await serviceAddress(namespace, "session-counter-web");
    const sessions = Array.from({ length: 3 }, (_, i) => `rotation-${i}-${Date.now()}`);
    const before = new Set(
      (await appPods(namespace, "session-counter")).map((p) => p.metadata.name),
    );
    let round = 0;
    let refused = 0;
    let stop = false;
    const traffic = (async () => {
      while (!stop) {
        round++;
        for (const session of sessions) {
          const r = await visit(web.host, web.port, session);
          expect(r.visit.count, `${session} in round ${round}`).toBe(round);
          refused += r.refused;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 2000));
      // The rotation as an operator of Redis does it: the server accepts the new password (its
      // open connections stay authenticated), then the binding Secret gets it.
      const admin = new Redis({
        host: redis.host,
        port: redis.port,
        password: OLD,
        lazyConnect: true,
      });
      try {
        await admin.connect();
        await admin.config("SET", "requirepass", NEW);
      } finally {
        admin.disconnect();
      }
      await asTenant([
        "-n",
        namespace,
        "patch",
        "secret",
        "session-counter-redis",
        "--type=merge",
        "-p",
        JSON.stringify({ stringData: { password: NEW } }),
      ]);
      // Every pod replaced, and the app Ready again.
      await eventually(
        async () => {
          const pods = (await appPods(namespace, "session-counter")).filter(
            (p) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp,
          );
          return pods.length === 3 && pods.every((p) => !before.has(p.metadata.name));
        },
        { timeoutMs: 120_000, intervalMs: 1000, what: "every pod replaced after the rotation" },
      );
      await waitReady(namespace, "session-counter");
      const served = round;
      await eventually(async () => round >= served + 5, {
        what: "five more rounds after the roll",
      });
    } finally {
      stop = true;
      await traffic;
    }
    // The new pods read the new password, from their files and their environment.
    const pod = (await appPods(namespace, "session-counter")).find(
      (p) => !before.has(p.metadata.name),
    );
    const files = await exec(namespace, pod?.metadata.name ?? "", [
      "cat",
      "/bindings/sessions/password",
    ]);
    expect(files.stdout).toBe(NEW);
    const env = await exec(namespace, pod?.metadata.name ?? "", ["printenv", "SESSIONS_PASSWORD"]);
    expect(env.stdout.trim()).toBe(NEW);
    // The Deployment rolled (a new pod template), not the pods deleted by hand.
    const rs = await kubectlOk(["-n", namespace, "get", "replicasets", "-o", "name"]);
    expect(rs.split("\n").filter(Boolean).length).toBeGreaterThanOrEqual(2);
    // Every count is in Redis, exactly.
    const client = new Redis({
      host: redis.host,
      port: redis.port,
      password: NEW,
      lazyConnect: true,
    });
    try {
      await client.connect();
      for (const session of sessions) {
        expect(await client.get(`session-counter:${session}`)).toBe(String(round));
      }
    } finally {
      client.disconnect();
    }
    console.error(`[node] rotation: ${round} rounds, ${refused} refused connections retried`);
  }, 240_000);
});
