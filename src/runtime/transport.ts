// Raw JSON over HTTP to the apiserver: a small transport interface, its node:https implementation, and helpers.
import * as http from "node:http";
import * as https from "node:https";
import type { RequestMetrics } from "./metrics.ts";
import { isRecord, type Status } from "./object.ts";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface HttpRequest {
  readonly method: Method;
  /** Path from the server root, e.g. `/apis/apps/v1/namespaces/ns/deployments`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly contentType?: string;
  readonly body?: string;
  readonly signal?: AbortSignal;
  /** A long-lived response (watch): no request timeout, the caller watches for inactivity. */
  readonly streaming?: boolean;
  /** What the request does, for metrics: get, list, watch, apply, patch, create, update, delete. */
  readonly verb?: string;
}

export interface HttpResponse {
  readonly status: number;
  text(): Promise<string>;
  /** The body split into non-empty lines, as it arrives (watch streams are one JSON event per line). */
  lines(): AsyncIterable<string>;
}

/** Sends one request. Resolves for every HTTP status; rejects only when no response arrived. */
export type HttpTransport = (request: HttpRequest) => Promise<HttpResponse>;

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
  /** Headers for each request (Authorization…), asked for every time: tokens rotate. */
  readonly headers?: (() => Promise<Record<string, string>> | Record<string, string>) | undefined;
}

export interface TransportOptions {
  /** Timeout of non-streaming requests. @default 30_000 */
  readonly timeoutMs?: number;
  /** Connections kept open to the server at most. @default 64 */
  readonly maxSockets?: number;
}

/**
 * A transport on node:http(s) with one keep-alive connection pool. It parses nothing: bodies stay
 * raw JSON text, so list and watch give objects of one plain shape, and it loads no API client
 * (importing client-node's generated API costs ~90 MiB of memory the operator never uses).
 */
export function connectionTransport(
  connection: Connection,
  options: TransportOptions = {},
): HttpTransport {
  const base = new URL(connection.server);
  const secure = base.protocol === "https:";
  const prefix = base.pathname.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 30_000;
  const tls = {
    ...(connection.ca ? { ca: connection.ca } : {}),
    ...(connection.cert ? { cert: connection.cert } : {}),
    ...(connection.key ? { key: connection.key } : {}),
    ...(connection.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
    ...(connection.servername ? { servername: connection.servername } : {}),
  };
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
  const agent = secure
    ? new https.Agent({ ...agentOptions, ...tls })
    : new http.Agent(agentOptions);
  const hostname = base.hostname.replace(/^\[|\]$/g, "");
  const port = base.port === "" ? (secure ? 443 : 80) : Number(base.port);

  return async (request) => {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(request.query ?? {}))
      if (v !== undefined) query.set(k, String(v));
    const search = query.size > 0 ? `?${query.toString()}` : "";
    const headers: Record<string, string> = {
      Accept: "application/json",
      ...(await connection.headers?.()),
    };
    if (request.contentType !== undefined) headers["Content-Type"] = request.contentType;
    // Explicit: node sends a DELETE's body neither chunked nor with a length unless told.
    if (request.body !== undefined)
      headers["Content-Length"] = String(Buffer.byteLength(request.body));
    return new Promise<HttpResponse>((resolve, reject) => {
      const req = (secure ? https : http).request({
        hostname,
        port,
        method: request.method,
        path: `${prefix}${request.path}${search}`,
        headers,
        agent,
        ...(secure ? tls : {}),
      });
      // A plain timer and listener, dropped when the exchange closes: AbortSignal.timeout and
      // AbortSignal.any would keep a timer and weak references alive for every request's full
      // timeout, thousands of them during a convergence.
      const timer = request.streaming
        ? undefined
        : setTimeout(
            () =>
              req.destroy(
                new Error(`${request.method} ${request.path}: no response in ${timeoutMs} ms`),
              ),
            timeoutMs,
          );
      const abort = () =>
        req.destroy(
          request.signal?.reason instanceof Error ? request.signal.reason : new Error("aborted"),
        );
      if (request.signal?.aborted) abort();
      else request.signal?.addEventListener("abort", abort, { once: true });
      req.once("close", () => {
        if (timer !== undefined) clearTimeout(timer);
        request.signal?.removeEventListener("abort", abort);
      });
      req.once("error", reject);
      req.once("response", (res) => {
        resolve({
          status: res.statusCode ?? 0,
          text: () => readText(res),
          lines: () => readResponseLines(res),
        });
      });
      req.end(request.body);
    });
  };
}

async function readText(res: http.IncomingMessage): Promise<string> {
  res.setEncoding("utf8");
  let text = "";
  for await (const chunk of res) text += chunk as string;
  return text;
}

/** Splits a response into non-empty lines as they arrive; stopping early releases the connection. */
async function* readResponseLines(res: http.IncomingMessage): AsyncGenerator<string> {
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
    if (!res.complete) res.destroy();
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
): Promise<T> {
  const response = await transport(request);
  const text = await response.text();
  if (response.status < 200 || response.status > 299) {
    throw apiError(request, response.status, text);
  }
  return (text === "" ? undefined : JSON.parse(text)) as T;
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
