// The operator's HTTP endpoints: /healthz (alive), /readyz (caches synced), /metrics (Prometheus).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface Readiness {
  /** Names of what is not ready yet; empty when ready. */
  readonly notReady: () => readonly string[];
}

export interface HttpEndpoints {
  readonly server: Server;
  /** The bound address (the port is real even when 0 was asked for). */
  readonly address: AddressInfo;
  close(): Promise<void>;
}

export async function serveEndpoints(
  address: { host: string; port: number },
  registry: Registry,
  readiness: Readiness,
): Promise<HttpEndpoints> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "method not allowed\n");
    switch (path) {
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
        registry.metrics().then(
          (text) => send(200, text, registry.contentType),
          (error: unknown) => send(500, `metrics: ${String(error)}\n`),
        );
        return;
      default:
        return send(404, "not found\n");
    }
  });
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
