// session-counter: an HTTP process that counts visits per session and keeps the counts ONLY in Redis.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { hostname } from "node:os";
import { Redis } from "ioredis";
import { findRedis } from "./connection.ts";

const COOKIE = "sid";
const SESSION_ID = /^[A-Za-z0-9_-]{8,64}$/;
const ttlSeconds = Number(process.env.SESSION_TTL_SECONDS ?? 1800);
const port = Number(process.env.PORT ?? 8080);
const bindAddress = process.env.BIND_ADDRESS || undefined;
const servedBy = `${hostname()}/${process.pid}`;

const log = (msg: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);

const connection = findRedis(process.env);
const redis = new Redis(connection.url, {
  // Fail a request fast rather than queue it for long: a load balancer retries elsewhere.
  maxRetriesPerRequest: 2,
  connectTimeout: 5000,
});
// ioredis retries forever while Redis is away; say so once per kind of error, not per retry.
let lastRedisError = "";
redis.on("error", (error: Error) => {
  if (error.message !== lastRedisError) log("redis error", { error: error.message });
  lastRedisError = error.message;
});
redis.on("ready", () => {
  lastRedisError = "";
  log("redis ready");
});
let shuttingDown = false;

/** The session id from the `sid` cookie or the `X-Session-Id` header; new when there is none. */
function sessionOf(req: IncomingMessage): { id: string; isNew: boolean } {
  const header = req.headers["x-session-id"];
  const fromHeader = typeof header === "string" ? header : undefined;
  const fromCookie = (req.headers.cookie ?? "")
    .split(";")
    .map((part) => part.trim().split("="))
    .find(([name]) => name === COOKIE)?.[1];
  const id = fromHeader ?? fromCookie;
  return id !== undefined && SESSION_ID.test(id)
    ? { id, isNew: false }
    : { id: randomUUID(), isNew: true };
}

/** INCR and EXPIRE in one transaction: the count lives in Redis and expires with the session. */
async function countVisit(sessionId: string): Promise<number> {
  const key = `session-counter:${sessionId}`;
  const replies = await redis.multi().incr(key).expire(key, ttlSeconds).exec();
  const [incr] = replies ?? [];
  if (incr === undefined || incr[0] !== null || typeof incr[1] !== "number")
    throw new Error("INCR failed");
  return incr[1];
}

function send(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(`${JSON.stringify(body)}\n`);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  if (path === "/healthz") return send(res, 200, { status: "ok" });
  if (path === "/readyz") {
    const ready = !shuttingDown && redis.status === "ready";
    return send(res, ready ? 200 : 503, { status: ready ? "ready" : "not ready" });
  }
  if (path !== "/" || (req.method !== "GET" && req.method !== "POST"))
    return send(res, 404, { error: "not found" });
  const session = sessionOf(req);
  try {
    const count = await countVisit(session.id);
    const cookie = session.isNew
      ? { "set-cookie": `${COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Lax` }
      : {};
    send(res, 200, { session: session.id, count, servedBy }, cookie);
  } catch (error) {
    log("count failed", { error: error instanceof Error ? error.message : String(error) });
    send(res, 503, { error: "session store unavailable" });
  }
}

const server = createServer((req, res) => {
  handle(req, res).catch(() => send(res, 500, { error: "internal error" }));
});
// Idle keep-alive connections must not hold shutdown open.
server.keepAliveTimeout = 5000;

server.listen(port, bindAddress, () => {
  const address = server.address();
  log("listening", {
    port: typeof address === "object" && address !== null ? address.port : port,
    redis: connection.source,
    servedBy,
  });
});

/** SIGTERM: fail readiness, finish in-flight requests, close Redis, exit 0. */
function shutdown(signal: string): void {
  if (shuttingDown) return;
  shuttingDown = true;
  log("shutting down", { signal });
  const deadline = setTimeout(
    () => {
      log("shutdown timed out");
      process.exit(1);
    },
    Number(process.env.SHUTDOWN_TIMEOUT_MS ?? 10_000),
  );
  deadline.unref();
  server.close(() => {
    redis
      .quit()
      .catch(() => redis.disconnect())
      .finally(() => {
        log("stopped");
        process.exit(0);
      });
  });
  server.closeIdleConnections();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
