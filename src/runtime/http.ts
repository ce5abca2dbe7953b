// Raw JSON over HTTP to the apiserver: a small transport interface, its KubeConfig implementation, and helpers.
import {
  ApiException,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  type KubeConfig,
  RequestContext,
} from "@kubernetes/client-node";
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

export interface KubeConfigTransportOptions {
  /** Timeout of non-streaming requests. @default 30_000 */
  readonly timeoutMs?: number;
}

/**
 * A transport that authenticates exactly as client-node's typed clients do (tokens, exec
 * plugins, client certificates, in-cluster service account) and uses its bundled undici, but
 * returns raw JSON: list and watch then give objects of one plain shape, without the typed
 * deserializer's `Date` instances (list) next to plain strings (watch).
 *
 * client-node builds a new connection pool (undici Agent) per request; this keeps the first one,
 * so requests reuse keep-alive connections. Credentials are still applied per request, so
 * rotating tokens are picked up.
 */
export function kubeConfigTransport(
  kubeConfig: KubeConfig,
  options: KubeConfigTransportOptions = {},
): HttpTransport {
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) throw new Error("kubeconfig has no current cluster");
  const server = cluster.server.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 30_000;
  const library = new IsomorphicFetchHttpLibrary();
  let dispatcher: ReturnType<RequestContext["getDispatcher"]>;

  return async (request) => {
    const url = new URL(server + request.path);
    for (const [k, v] of Object.entries(request.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const ctx = new RequestContext(url.toString(), HttpMethod[request.method]);
    await kubeConfig.applySecurityAuthentication(ctx);
    if (dispatcher === undefined) dispatcher = ctx.getDispatcher();
    else ctx.setDispatcher(dispatcher);
    ctx.setHeaderParam("Accept", "application/json");
    if (request.contentType !== undefined) ctx.setHeaderParam("Content-Type", request.contentType);
    if (request.body !== undefined) ctx.setBody(request.body);
    const signals = [
      request.signal,
      request.streaming ? undefined : AbortSignal.timeout(timeoutMs),
    ];
    const active = signals.filter((s): s is AbortSignal => s !== undefined);
    if (active.length > 0) ctx.setSignal(AbortSignal.any(active));
    const response = await library.send(ctx).toPromise();
    return {
      status: response.httpStatusCode,
      text: () => response.body.text(),
      lines: () => {
        const stream = response.body.stream();
        return stream === null ? emptyLines() : readLines(stream);
      },
    };
  };
}

async function* emptyLines(): AsyncGenerator<string> {}

/** Splits a byte stream into lines, decoding UTF-8 across chunk boundaries. */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim() !== "") yield line;
      }
    }
    buffer += decoder.decode();
    if (buffer.trim() !== "") yield buffer;
  } finally {
    // Releases the connection when the consumer stops early (an aborted or abandoned watch).
    reader.cancel().catch(() => {});
  }
}

/** Reports every request to metric hooks: verb, status (0 = no response) and duration. */
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
      metrics.request?.(verb, response.status, now() - started);
      return response;
    } catch (err) {
      metrics.request?.(verb, 0, now() - started);
      throw err;
    }
  };
}

/**
 * Sends a request and parses the JSON response; a non-2xx status becomes client-node's
 * `ApiException` (the same error its typed clients throw), with the `Status` body as a string
 * and a short message that names the request but not the body.
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
 * client-node's `ApiException` (so callers handle typed-client and raw errors alike) with a
 * short message: the base class puts the whole body into `message`, and bodies are not for logs.
 */
export class KubeApiError extends ApiException<string> {
  override readonly name = "KubeApiError";
  readonly status: Status | undefined;

  constructor(code: number, message: string, body: string, status: Status | undefined) {
    super(code, message, body, {});
    this.message = message;
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
