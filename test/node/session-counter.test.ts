// Real pods 2: the session-counter example with a Redis pod bound through a Secret. Requests go
// through the Service's ClusterIP (kube-proxy); per-session counts are kept while one pod is
// deleted mid-session and while maxPodLifetime recycles every pod. No count is lost or doubled,
// and no request fails beyond the documented retry of a refused connection (support/node.ts).

import { Redis } from "ioredis";
import { beforeAll, describe, expect, test } from "vitest";
import { kubectlOk } from "../integration/install/kubectl.ts";
import { printClusterLogsOnFailure } from "../support/cluster.ts";
import {
  applyAsTenant,
  appPods,
  deployRedis,
  installOperator,
  type RedisEndpoint,
  serviceAddress,
  sessionCounterObjects,
  tenantNamespace,
  visit,
  waitReady,
} from "./support/node.ts";

printClusterLogsOnFailure();

const PASSWORD = "session-counter-node-password";
let namespace: string;
let redis: RedisEndpoint;

beforeAll(async () => {
  await installOperator();
  namespace = await tenantNamespace("counter");
  redis = await deployRedis(namespace, PASSWORD);
  // maxPodLifetime's minimum: every pod is recycled about a minute after it started.
  await applyAsTenant(
    namespace,
    sessionCounterObjects(namespace, redis, PASSWORD, { maxPodLifetime: "1m" }),
  );
  await waitReady(namespace, "session-counter");
});

describe("session-counter on real pods", () => {
  test("counts survive a pod deleted mid-session and maxPodLifetime recycling every pod", async () => {
    const web = await serviceAddress(namespace, "session-counter-web");
    const sessions = Array.from({ length: 5 }, (_, i) => `node-session-${i}-${Date.now()}`);
    const original = new Set(
      (await appPods(namespace, "session-counter")).map((p) => p.metadata.name),
    );
    expect(original.size).toBe(3);
    const servedBy = new Set<string>();
    let refused = 0;
    let round = 0;
    let deleted = "";
    let last = "";
    const deadline = Date.now() + 240_000;
    // Rounds until every original pod is gone (one deleted by us, the others recycled), then at
    // least five more, until each of the pods that replaced them has served.
    let replacementsServed = false;
    for (let after = 0; (after < 5 || !replacementsServed) && Date.now() < deadline; ) {
      round++;
      for (const session of sessions) {
        const r = await visit(web.host, web.port, session);
        expect(r.visit.count, `${session} in round ${round} (served by ${r.visit.servedBy})`).toBe(
          round,
        );
        refused += r.refused;
        last = r.visit.servedBy.split("/")[0] ?? "";
        servedBy.add(last);
      }
      if (round === 3) {
        // Mid-session: the pod that served the last visit goes (the default graceful delete).
        deleted = last;
        await kubectlOk(["-n", namespace, "delete", "pod", deleted, "--wait=false"]);
      }
      const pods = await appPods(namespace, "session-counter");
      if (round > 3 && !pods.some((p) => original.has(p.metadata.name))) {
        after++;
        const running = pods.filter(
          (p) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp,
        );
        replacementsServed =
          running.length === 3 && running.every((p) => servedBy.has(p.metadata.name));
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(replacementsServed, "each pod that replaced an original served visits").toBe(true);
    const live = (await appPods(namespace, "session-counter")).map((p) => p.metadata.name);
    expect(
      live.filter((p) => original.has(p)),
      "original pods still running",
    ).toEqual([]);
    expect(deleted).not.toBe("");
    // Served by the originals and by their replacements.
    expect([...servedBy].filter((p) => original.has(p)).length).toBe(3);
    expect([...servedBy].filter((p) => !original.has(p)).length).toBeGreaterThanOrEqual(3);
    // The other originals were recycled through the Eviction API, as the operator's Events say.
    const events = (
      JSON.parse(await kubectlOk(["-n", namespace, "get", "events", "-o", "json"])) as {
        items: { reason: string; message: string }[];
      }
    ).items.filter((e) => e.reason === "Recycled");
    for (const pod of [...original].filter((p) => p !== deleted)) {
      expect(events.map((e) => e.message).join("\n")).toContain(`evicted pod ${pod} of web`);
    }
    // The counts are in Redis, exactly, and nowhere else.
    const client = new Redis({
      host: redis.host,
      port: redis.port,
      password: PASSWORD,
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
    console.error(
      `[node] session-counter: ${round} rounds × ${sessions.length} sessions, ${servedBy.size} pods served, ${refused} refused connections retried`,
    );
  }, 300_000);
});
