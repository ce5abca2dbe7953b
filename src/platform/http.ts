// The operator's endpoints: /healthz and /readyz in plain HTTP for the kubelet, /metrics over HTTPS for authorized scrapers.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { RequestAuthorizer } from "./auth.ts";
import type { KeyPair } from "./tls.ts";

export interface Readiness {
  /** Names of what is not ready yet; empty when ready. */
  readonly notReady: () => readonly string[];
}

export interface Endpoint {
  readonly server: Server;
  /** The bound address (the port is real even when 0 was asked for). */
  readonly address: AddressInfo;
  close(): Promise<void>;
}

export interface MetricsEndpoint extends Endpoint {
  /** Serves new connections with another key and certificate (a rotated Secret). */
  setKeyPair(pair: KeyPair): void;
}

type Send = (status: number, body: string, type?: string) => void;

function sender(res: ServerResponse): Send {
  return (status, body, type = "text/plain; charset=utf-8") => {
    res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
    res.end(body);
  };
}

const pathOf = (req: IncomingMessage) => (req.url ?? "/").split("?")[0] ?? "/";
const readOnly = (req: IncomingMessage) => req.method === "GET" || req.method === "HEAD";

function sendMetrics(registry: Registry, send: Send): void {
  registry.metrics().then(
    (text) => send(200, text, registry.contentType),
    (error: unknown) => send(500, `metrics: ${String(error)}\n`),
  );
}

/**
 * /healthz (also /livez) and /readyz, in plain HTTP: the kubelet probes them without
 * credentials, and they say only "ok" or which caches are not ready. With `metrics`, /metrics
 * too, to anyone: only for METRICS_SECURE=false (a local run).
 */
export function serveHealth(
  address: { host: string; port: number },
  readiness: Readiness,
  metrics?: Registry,
): Promise<Endpoint> {
  const server = createServer((req, res) => {
    const send = sender(res);
    if (!readOnly(req)) return send(405, "method not allowed\n");
    switch (pathOf(req)) {
      case "/healthz":
      case "/livez":
        return send(200, "ok\n");
      case "/readyz": {
        const pending = readiness.notReady();
        return pending.length === 0
          ? send(200, "ok\n")
          : send(503, `not ready: ${pending.join(", ")}\n`);
      }
      case "/metrics":
        if (metrics !== undefined) return sendMetrics(metrics, send);
        return send(404, "not found: /metrics is served over HTTPS on METRICS_ADDRESS\n");
      default:
        return send(404, "not found\n");
    }
  });
  return listen(server, address);
}

/**
 * /metrics over HTTPS, for callers the API server authenticates and authorizes (`get` on the
 * non-resource URL `/metrics`, as kubebuilder's scaffold does). Nothing else is served there.
 */
export async function serveSecureMetrics(
  address: { host: string; port: number },
  registry: Registry,
  options: { readonly keyPair: KeyPair; readonly authorizer: RequestAuthorizer },
): Promise<MetricsEndpoint> {
  const server = createHttpsServer({ ...options.keyPair, minVersion: "TLSv1.2" }, (req, res) => {
    const send = sender(res);
    if (pathOf(req) !== "/metrics") return send(404, "not found\n");
    if (!readOnly(req)) return send(405, "method not allowed\n");
    options.authorizer
      .decide(req.headers.authorization, (req.method ?? "GET").toLowerCase(), "/metrics")
      .then(
        (decision) =>
          decision.allowed
            ? sendMetrics(registry, send)
            : send(decision.status, `${decision.message}\n`),
        (error: unknown) => send(500, `${String(error)}\n`),
      );
  });
  const endpoint = await listen(server as unknown as Server, address);
  return {
    ...endpoint,
    setKeyPair: (pair) => server.setSecureContext({ ...pair, minVersion: "TLSv1.2" }),
  };
}

async function listen(server: Server, address: { host: string; port: number }): Promise<Endpoint> {
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.host === "" ? undefined : address.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    server,
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
