// Raw JSON over HTTP to the apiserver: a small transport interface, its node:https implementation, and helpers.

import type { Agent, IncomingMessage, OutgoingHttpHeaders } from "node:http";
import type { OutgoingHttpHeaders as Http2Headers } from "node:http2";
import * as https from "node:https";
import type { Readable } from "node:stream";
import { safeTimeout } from "./clock.ts";
import { http2Watches } from "./http2-watches.ts";
import { type Logger, silentLogger } from "./logger.ts";
import type { ConnectionMetrics, RequestMetrics } from "./metrics.ts";
import { http } from "./node-http.ts";
import { isRecord, type Status } from "./object.ts";
import type { OnePerTurn } from "./turns.ts";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * Which connections a request uses. Watches hold theirs for minutes; ordinary requests come and go;
 * the Lease must be renewed on time whatever else is going on. Each has its own, so none waits
 * behind another (one shared pool of 64 let 64 watches starve every other request).
 */
export type ConnectionPool = "watch" | "request" | "lease";

export interface HttpRequest {
  readonly method: Method;
  /** Path from the server root, e.g. `/apis/apps/v1/namespaces/ns/deployments`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly contentType?: string;
  readonly body?: string;
  readonly signal?: AbortSignal;
  /**
   * A long-lived response (watch): a stream on a shared HTTP/2 connection, or an HTTP/1.1
   * connection of its own; its timeout ends once the response starts (the caller watches for
   * inactivity).
   */
  readonly streaming?: boolean;
  /** Lease traffic, on connections of its own. @default "request" (or "watch" when streaming) */
  readonly pool?: "request" | "lease";
  /** What the request does, for metrics: get, list, watch, apply, patch, create, update, delete. */
  readonly verb?: string;
  /** This request's timeout, over the transport's `timeoutMs`. */
  readonly timeoutMs?: number;
}

export interface HttpResponse {
  readonly status: number;
  text(): Promise<string>;
  /** The body split into non-empty lines, as it arrives (watch streams are one JSON event per line). */
  lines(): AsyncIterable<string>;
}

/** Sends one request. Resolves for every HTTP status; rejects only when no response arrived. */
export type HttpTransport = (request: HttpRequest) => Promise<HttpResponse>;

/** Request headers; a list is sent as one header line per value (Impersonate-Group). */
export type Headers = Record<string, string | readonly string[]>;

/** What proves who we are on one request, when it can change (an exec plugin's credential). */
export interface RequestCredentials {
  readonly headers?: Headers | undefined;
  /** A client certificate and key (PEM): they win over the connection's own. */
  readonly cert?: Buffer | string | undefined;
  readonly key?: Buffer | string | undefined;
}

/** Where the API server is and how to prove who we are. */
export interface Connection {
  /** e.g. `https://10.0.0.1:443` (a path prefix, as behind some proxies, is kept). */
  readonly server: string;
  readonly ca?: Buffer | undefined;
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
  /** false only for `insecure-skip-tls-verify`. */
  readonly rejectUnauthorized?: boolean | undefined;
  /** `tls-server-name`: the name to verify the serving certificate against. */
  readonly servername?: string | undefined;
  /** Headers for each request (Authorization, Impersonate-…), asked for every time: tokens rotate. */
  readonly headers?: (() => Promise<Headers> | Headers) | undefined;
  /** Credentials asked for on every request after `headers`, e.g. an exec plugin's token or certificate. */
  readonly credentials?: (() => Promise<RequestCredentials>) | undefined;
  /** An HTTP(S) proxy to tunnel through (`proxy-url`, or HTTPS_PROXY unless NO_PROXY exempts the server). */
  readonly proxy?: string | undefined;
}

/** How full one connection pool is. */
export interface PoolUsage {
  readonly pool: ConnectionPool;
  /** Connections (watches: streams) it may open at most (Infinity for watches). */
  readonly limit: number;
  /** Requests holding a connection. */
  readonly inUse: number;
  /** Requests waiting for one. */
  readonly waiting: number;
  /** When a request last gave up waiting for a connection (epoch ms). */
  readonly starvedAt?: number | undefined;
  /** The watch pool: the shared HTTP/2 connections its streams are on (0 on HTTP/1.1). */
  readonly http2Connections?: number;
}

export interface TransportOptions {
  /**
   * How long a request may take, the wait for a connection included; for a watch, until its
   * response starts. @default 30_000
   */
  readonly timeoutMs?: number;
  /** Connections for ordinary requests (gets, lists, writes, Events) at most. @default 32 */
  readonly requestConnections?: number;
  /** Connections for Lease requests at most. @default 2 */
  readonly leaseConnections?: number;
  /**
   * Watches share HTTP/2 connections (one per 100 streams on kube-apiserver) instead of one
   * HTTP/1.1 connection each; only over TLS without a proxy, and only if the server offers h2.
   * @default true
   */
  readonly watchHttp2?: boolean;
  /** HTTP/2 PING interval and answer timeout for the watch connections. @default 30_000, 15_000 */
  readonly http2PingMs?: { readonly intervalMs: number; readonly timeoutMs: number };
  /** A request that gave up waiting for a connection keeps /readyz failing this long. @default 60_000 */
  readonly starvedForMs?: number;
  readonly logger?: Logger;
  readonly metrics?: Partial<ConnectionMetrics>;
  readonly now?: () => number;
}

/** A transport and the state of its connection pools. */
export interface PooledTransport extends HttpTransport {
  /** Every pool's usage. */
  pools(): PoolUsage[];
  /**
   * Why the transport is not healthy: a pool whose request could not get a connection within
   * its timeout in the last `starvedForMs`. Empty when healthy (for /readyz).
   */
  problems(): string[];
}

/** A request gave up waiting for a connection from its pool: all of them were busy. */
export class ConnectionWaitTimeout extends Error {
  override readonly name = "ConnectionWaitTimeout";
  readonly pool: ConnectionPool;

  constructor(message: string, pool: ConnectionPool) {
    super(message);
    this.pool = pool;
  }
}

interface Pool {
  readonly agent: Agent;
  readonly limit: number;
  inUse: number;
  waiting: number;
  starvedAt: number | undefined;
  /** The timeout of the request that last gave up waiting. */
  starvedAfterMs: number;
}

/**
 * A transport on node:http(s) with three keep-alive connection pools: watches as streams on
 * shared HTTP/2 connections (`http2Watches`; one HTTP/1.1 connection each where h2 is not
 * offered; their number is what the operator watches: kinds × namespaces), a bounded pool for ordinary
 * requests, and a small one for the Lease. A request that cannot get a connection within its
 * timeout fails with a ConnectionWaitTimeout, is logged as an error, counted, and reported by
 * `problems()`. It parses nothing: bodies stay raw JSON text, so list and watch give objects of
 * one plain shape, and it loads no API client (importing client-node's generated API costs
 * ~90 MiB of memory the operator never uses).
 */
export function connectionTransport(
  connection: Connection,
  options: TransportOptions = {},
): PooledTransport {
  const base = new URL(connection.server);
  const secure = base.protocol === "https:";
  const prefix = base.pathname.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 30_000;
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const tls = {
    ...(connection.ca ? { ca: connection.ca } : {}),
    ...(connection.cert ? { cert: connection.cert } : {}),
    ...(connection.key ? { key: connection.key } : {}),
    ...(connection.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
    ...(connection.servername ? { servername: connection.servername } : {}),
  };
  // Node tunnels through the proxy itself (CONNECT for https); whether the server is exempt
  // (NO_PROXY) was decided by the connection loader, so only the proxy is passed.
  const proxyEnv =
    connection.proxy === undefined
      ? {}
      : { proxyEnv: { [secure ? "HTTPS_PROXY" : "HTTP_PROXY"]: connection.proxy } };
  const pool = (limit: number): Pool => {
    const agentOptions = {
      keepAlive: true,
      maxSockets: limit,
      // Per-request client certificates (an exec plugin's) make a pool per certificate.
      maxTotalSockets: limit,
      ...proxyEnv,
    };
    return {
      agent: secure ? new https.Agent({ ...agentOptions, ...tls }) : new http.Agent(agentOptions),
      limit,
      inUse: 0,
      waiting: 0,
      starvedAt: undefined,
      starvedAfterMs: timeoutMs,
    };
  };
  const pools: Record<ConnectionPool, Pool> = {
    watch: pool(Number.POSITIVE_INFINITY),
    request: pool(options.requestConnections ?? 32),
    lease: pool(options.leaseConnections ?? 2),
  };
  const starvedForMs = options.starvedForMs ?? 60_000;
  const report = (name: ConnectionPool) =>
    options.metrics?.usage?.(name, pools[name].inUse, pools[name].waiting);
  const hostname = base.hostname.replace(/^\[|\]$/g, "");
  const port = base.port === "" ? (secure ? 443 : 80) : Number(base.port);
  const shared =
    secure && connection.proxy === undefined && options.watchHttp2 !== false
      ? http2Watches({
          hostname,
          port,
          ...tls,
          connectTimeoutMs: timeoutMs,
          ...(options.http2PingMs
            ? {
                pingIntervalMs: options.http2PingMs.intervalMs,
                pingTimeoutMs: options.http2PingMs.timeoutMs,
              }
            : {}),
          logger,
          onSessions: (open) => options.metrics?.http2Connections?.(open),
        })
      : undefined;

  /** A watch on a shared HTTP/2 connection; undefined when the server does not speak HTTP/2. */
  const watchOverHttp2 = async (
    request: HttpRequest,
    path: string,
    headers: Headers,
    credentials: RequestCredentials | undefined,
  ): Promise<HttpResponse | undefined> => {
    if (shared === undefined || shared.unavailable) return undefined;
    const used = pools.watch;
    const what = `${request.method} ${request.path}`;
    const limitMs = request.timeoutMs ?? timeoutMs;
    used.waiting++;
    report("watch");
    let slot: Awaited<ReturnType<typeof shared.reserve>>;
    try {
      slot = await shared.reserve(
        credentials?.cert !== undefined && credentials.key !== undefined
          ? { cert: credentials.cert, key: credentials.key }
          : undefined,
      );
    } finally {
      used.waiting--;
      report("watch");
    }
    if (slot === undefined) return undefined;
    const sent: Http2Headers = { ":method": request.method, ":path": path };
    for (const [name, value] of Object.entries(headers))
      sent[name.toLowerCase()] = typeof value === "string" ? value : [...value];
    delete sent["content-length"];
    used.inUse++;
    report("watch");
    return new Promise<HttpResponse>((resolve, reject) => {
      let stream: ReturnType<typeof slot.request>;
      try {
        stream = slot.request(sent);
      } catch (error) {
        used.inUse--;
        report("watch");
        reject(error);
        return;
      }
      const timer = safeTimeout(
        () => stream.destroy(new Error(`${what}: no response in ${limitMs} ms`)),
        limitMs,
      );
      const abort = () =>
        stream.destroy(
          request.signal?.reason instanceof Error ? request.signal.reason : new Error("aborted"),
        );
      if (request.signal?.aborted) abort();
      else request.signal?.addEventListener("abort", abort, { once: true });
      stream.once("error", reject);
      stream.once("close", () => {
        timer.cancel();
        used.inUse--;
        report("watch");
        request.signal?.removeEventListener("abort", abort);
        // A stream reset without an error (REFUSED_STREAM, a GOAWAY) before its response.
        reject(
          new Error(`${what}: the HTTP/2 stream closed before a response (code ${stream.rstCode})`),
        );
      });
      stream.once("response", (answer) => {
        timer.cancel();
        resolve({
          status: Number(answer[":status"] ?? 0),
          text: () => readText(stream),
          lines: () => readResponseLines(stream),
        });
      });
    });
  };

  const send: HttpTransport = async (request) => {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(request.query ?? {}))
      if (v !== undefined) query.set(k, String(v));
    const search = query.size > 0 ? `?${query.toString()}` : "";
    const credentials = await connection.credentials?.();
    const headers: Headers = {
      Accept: "application/json",
      ...(await connection.headers?.()),
      ...credentials?.headers,
    };
    if (request.contentType !== undefined) headers["Content-Type"] = request.contentType;
    // Explicit: node sends a DELETE's body neither chunked nor with a length unless told.
    if (request.body !== undefined)
      headers["Content-Length"] = String(Buffer.byteLength(request.body));
    if (request.streaming) {
      const watch = await watchOverHttp2(
        request,
        `${prefix}${request.path}${search}`,
        headers,
        credentials,
      );
      if (watch !== undefined) return watch;
    }
    const poolName: ConnectionPool = request.streaming ? "watch" : (request.pool ?? "request");
    const used = pools[poolName];
    const what = `${request.method} ${request.path}`;
    const limitMs = request.timeoutMs ?? timeoutMs;
    return new Promise<HttpResponse>((resolve, reject) => {
      const req = (secure ? https : http).request({
        hostname,
        port,
        method: request.method,
        path: `${prefix}${request.path}${search}`,
        headers: headers as OutgoingHttpHeaders,
        agent: used.agent,
        ...(secure ? tls : {}),
        ...(credentials?.cert !== undefined ? { cert: credentials.cert } : {}),
        ...(credentials?.key !== undefined ? { key: credentials.key } : {}),
      });
      let connected = false;
      used.waiting++;
      report(poolName);
      req.once("socket", () => {
        connected = true;
        used.waiting--;
        used.inUse++;
        report(poolName);
      });
      // A plain timer and listener, dropped when the exchange closes: AbortSignal.timeout and
      // AbortSignal.any would keep a timer and weak references alive for every request's full
      // timeout, thousands of them during a convergence.
      const timer = safeTimeout(() => {
        if (connected) {
          req.destroy(new Error(`${what}: no response in ${limitMs} ms`));
          return;
        }
        used.starvedAt = now();
        used.starvedAfterMs = limitMs;
        options.metrics?.waitTimedOut?.(poolName);
        const error = new ConnectionWaitTimeout(
          `${what}: no connection to the API server within ${limitMs} ms: all ${used.limit} connections for ${poolName === "lease" ? "the Lease" : "requests"} are busy (${used.waiting} requests waiting)`,
          poolName,
        );
        logger.error(
          { pool: poolName, inUse: used.inUse, waiting: used.waiting, request: what },
          "no connection to the API server within the request timeout",
        );
        req.destroy(error);
      }, limitMs);
      const abort = () =>
        req.destroy(
          request.signal?.reason instanceof Error ? request.signal.reason : new Error("aborted"),
        );
      if (request.signal?.aborted) abort();
      else request.signal?.addEventListener("abort", abort, { once: true });
      req.once("close", () => {
        timer.cancel();
        if (connected) used.inUse--;
        else used.waiting--;
        report(poolName);
        request.signal?.removeEventListener("abort", abort);
      });
      req.once("error", reject);
      req.once("response", (res) => {
        if (request.streaming) timer.cancel();
        resolve({
          status: res.statusCode ?? 0,
          text: () => readText(res),
          lines: () => readResponseLines(res),
        });
      });
      req.end(request.body);
    });
  };
  const usage = (): PoolUsage[] =>
    (Object.keys(pools) as ConnectionPool[]).map((name) => ({
      pool: name,
      limit: pools[name].limit,
      inUse: pools[name].inUse,
      waiting: pools[name].waiting,
      starvedAt: pools[name].starvedAt,
      ...(name === "watch" ? { http2Connections: shared?.usage().sessions ?? 0 } : {}),
    }));
  return Object.assign(send, {
    pools: usage,
    problems: () =>
      usage().flatMap((p) =>
        p.starvedAt !== undefined && now() - p.starvedAt < starvedForMs
          ? [
              `API connections: a ${p.pool === "lease" ? "Lease" : "request"} could not get a connection within ${pools[p.pool].starvedAfterMs} ms (${p.inUse} of ${p.limit} in use, ${p.waiting} waiting)`,
            ]
          : [],
      ),
  });
}

async function readText(res: Readable): Promise<string> {
  res.setEncoding("utf8");
  let text = "";
  for await (const chunk of res) text += chunk as string;
  return text;
}

/** Splits a response into non-empty lines as they arrive; stopping early releases the connection. */
async function* readResponseLines(res: Readable): AsyncGenerator<string> {
  res.setEncoding("utf8");
  let buffer = "";
  try {
    for await (const chunk of res) {
      buffer += chunk as string;
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim() !== "") yield line;
      }
    }
    if (buffer.trim() !== "") yield buffer;
  } finally {
    if (!((res as Partial<IncomingMessage>).complete ?? res.readableEnded)) res.destroy();
  }
}

/** Reports every request to metric hooks: verb, status (0 = no response), duration and method. */
export function instrumentTransport(
  inner: HttpTransport,
  metrics: Partial<RequestMetrics>,
  now: () => number = Date.now,
): HttpTransport {
  return async (request) => {
    const started = now();
    const verb = request.verb ?? request.method.toLowerCase();
    try {
      const response = await inner(request);
      metrics.request?.(verb, response.status, now() - started, request.method);
      return response;
    } catch (err) {
      metrics.request?.(verb, 0, now() - started, request.method);
      throw err;
    }
  };
}

/**
 * Sends a request and parses the JSON response; a non-2xx status becomes a `KubeApiError`
 * with the `Status` body as a string and a short message that names the request but not the body.
 */
export async function requestJson<T = unknown>(
  transport: HttpTransport,
  request: HttpRequest,
  /** Parses the body in this gate's turn (a list page is megabytes: one per event-loop turn). */
  parseIn?: OnePerTurn,
): Promise<T> {
  const response = await transport(request);
  const text = await response.text();
  if (response.status < 200 || response.status > 299) {
    throw apiError(request, response.status, text);
  }
  if (text === "") return undefined as T;
  return (
    parseIn === undefined ? JSON.parse(text) : await parseIn.run(() => JSON.parse(text))
  ) as T;
}

export function apiError(
  request: Pick<HttpRequest, "method" | "path">,
  code: number,
  body: string,
): KubeApiError {
  const status = parseStatus(body);
  const detail = status?.message ?? "";
  const reason = status?.reason ? ` ${status.reason}` : "";
  return new KubeApiError(
    code,
    `${request.method} ${request.path}: HTTP ${code}${reason}${detail ? `: ${truncate(detail, 300)}` : ""}`,
    body,
    status,
  );
}

/**
 * An error status from the API server. It has the shape of client-node's `ApiException` (`code`,
 * `body`), so callers handle typed-client and raw errors alike, with a short message: the body
 * is not for logs.
 */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  readonly code: number;
  /** The response body (a `Status` as JSON text, usually). */
  readonly body: string;
  readonly status: Status | undefined;

  constructor(code: number, message: string, body: string, status: Status | undefined) {
    super(message);
    this.code = code;
    this.body = body;
    this.status = status;
  }
}

/** The apiserver `Status` in an error body, if it is one. */
export function parseStatus(body: string): Status | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return isRecord(parsed) && parsed.kind === "Status" ? (parsed as Status) : undefined;
  } catch {
    return undefined;
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
