// The processes rule, shown with a real Redis: any process may serve the next request, and killing one loses nothing.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type CounterProcess, startCounter } from "./counter-process.ts";
import { startProxy } from "./proxy.ts";
import { type RedisServer, startRedis } from "./redis-server.ts";

interface Visit {
  readonly session: string;
  readonly count: number;
  readonly servedBy: string;
}

let redis: RedisServer;
const running: CounterProcess[] = [];

const start = async (env: Record<string, string>) => {
  const counter = await startCounter(env);
  running.push(counter);
  return counter;
};

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
});
afterAll(async () => {
  await redis?.stop();
});

/** One visit; the cookie carries the session, as a browser would send it. */
async function visit(base: string, cookie?: string): Promise<{ visit: Visit; cookie: string }> {
  const res = await fetch(`${base}/`, { headers: cookie === undefined ? {} : { cookie } });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  const body = JSON.parse(text) as Visit;
  return {
    visit: body,
    cookie: cookie ?? (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "",
  };
}

/** Polls /readyz: the process listens before its Redis connection is up. */
async function readyWithin(base: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if ((await fetch(`${base}/readyz`)).status === 200) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe("session-counter behind a round-robin proxy", () => {
  test("three processes, one SIGKILLed mid-session and one started late: no session loses a count", async () => {
    const processes = [
      await start({ REDIS_URL: redis.url }),
      await start({ REDIS_URL: redis.url }),
      await start({ REDIS_URL: redis.url }),
    ];
    const [, victim] = processes;
    if (victim === undefined) throw new Error("unreachable");
    const proxy = await startProxy(processes.map((p) => p.port));
    const sessions = 5; // coprime with 3, so round robin moves each session between processes
    const rounds = 12;
    const cookies: (string | undefined)[] = Array.from({ length: sessions }, () => undefined);
    const servedBy: Set<string>[] = Array.from({ length: sessions }, () => new Set());
    const servedAfterKill = new Set<string>();
    let victimId = "";
    try {
      for (let round = 1; round <= rounds; round++) {
        if (round === 5) {
          // Between two requests of every session: the process holds the sessions' last turn.
          victimId = `${(await visit(victim.url, "sid=probe-session-0")).visit.servedBy}`;
          await victim.kill();
        }
        if (round === 9) {
          const late = await start({ REDIS_URL: redis.url });
          proxy.setBackends([...processes.filter((p) => p !== victim), late].map((p) => p.port));
        }
        for (let s = 0; s < sessions; s++) {
          const { visit: v, cookie } = await visit(proxy.url, cookies[s]);
          cookies[s] = cookie;
          expect(v.count, `session ${s} round ${round}`).toBe(round);
          servedBy[s]?.add(v.servedBy);
          if (round >= 5) servedAfterKill.add(v.servedBy);
        }
      }
    } finally {
      await proxy.close();
    }
    // Every session was served by several processes: nothing was sticky.
    for (const set of servedBy) expect(set.size).toBeGreaterThanOrEqual(3);
    expect(servedBy.every((set) => set.has(victimId))).toBe(true);
    expect(servedAfterKill.has(victimId)).toBe(false);
    expect(servedAfterKill.size).toBe(3); // two survivors and the late one

    // The counts live in Redis, with an expiry, and nowhere else.
    const client = new Redis(redis.url);
    try {
      for (const cookie of cookies) {
        const key = `session-counter:${(cookie ?? "").replace(/^sid=/, "")}`;
        expect(await client.get(key)).toBe(String(rounds));
        const ttl = await client.ttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(1800);
      }
    } finally {
      client.disconnect();
    }
  }, 60_000);
});

describe("session-counter reads its binding", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "bindings-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const writeBinding = async (dir: string, files: Record<string, string>) => {
    await mkdir(join(root, dir), { recursive: true });
    for (const [name, content] of Object.entries(files))
      await writeFile(join(root, dir, name), content);
  };

  test("from $SERVICE_BINDING_ROOT/sessions/uri, database included", async () => {
    await writeBinding("sessions", {
      type: "redis",
      uri: `redis://127.0.0.1:${redis.port}/3`,
      host: "must-not-be-used.invalid",
    });
    const counter = await start({ SERVICE_BINDING_ROOT: root, REDIS_URL: "redis://127.0.0.1:1" });
    const first = await visit(counter.url);
    expect(first.visit.count).toBe(1);
    expect((await visit(counter.url, first.cookie)).visit.count).toBe(2);
    expect(counter.output()).toContain(`"redis":"binding ${join(root, "sessions")}"`);

    const key = `session-counter:${first.visit.session}`;
    const db3 = new Redis(`${redis.url}/3`);
    const db0 = new Redis(redis.url);
    try {
      expect(await db3.get(key)).toBe("2");
      expect(await db0.exists(key)).toBe(0);
    } finally {
      db3.disconnect();
      db0.disconnect();
    }
  }, 30_000);

  test("from host, port and a password with special characters, in the only redis binding", async () => {
    const password = "p@ss w/ü:%#";
    const guarded = await startRedis({ password });
    try {
      const other = await mkdtemp(join(tmpdir(), "bindings-"));
      try {
        await mkdir(join(other, "cache-store"));
        for (const [name, content] of Object.entries({
          type: "redis",
          host: "127.0.0.1\n",
          port: String(guarded.port),
          password,
        }))
          await writeFile(join(other, "cache-store", name), content);
        await mkdir(join(other, "..data"));
        const counter = await start({ SERVICE_BINDING_ROOT: other });
        expect((await visit(counter.url)).visit.count).toBe(1);
        expect(await readyWithin(counter.url, 5000)).toBe(true);
        // The password must not reach the logs.
        expect(counter.output()).not.toContain(password);
      } finally {
        await rm(other, { recursive: true, force: true });
      }
    } finally {
      await guarded.stop();
    }
  }, 30_000);

  test("healthz at once, readyz once Redis answers, and SIGTERM exits 0", async () => {
    const counter = await start({ REDIS_URL: redis.url });
    expect((await fetch(`${counter.url}/healthz`)).status).toBe(200);
    expect(await readyWithin(counter.url, 5000)).toBe(true);
    expect(await counter.terminate()).toBe(0);
    expect(counter.output()).toContain('"msg":"stopped"');
  }, 30_000);

  test("without a binding or REDIS_URL it refuses to start, saying why", async () => {
    await expect(start({ SERVICE_BINDING_ROOT: join(root, "empty") })).rejects.toThrow(
      /no Redis: bind one/,
    );
  }, 30_000);
});
