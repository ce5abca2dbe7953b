// Minimal HTTPS/HTTP calls for readiness probes and the few API requests the launcher makes.

import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/** Client TLS: the cluster CA and a client certificate. */
export type ClientTls = { ca: string; cert: string; key: string };

/** Reads PEM files into a ClientTls. */
export function loadClientTls(caPath: string, certPath: string, keyPath: string): ClientTls {
  return {
    ca: readFileSync(caPath, "utf8"),
    cert: readFileSync(certPath, "utf8"),
    key: readFileSync(keyPath, "utf8"),
  };
}

export type HttpResponse = { status: number; body: string };

/**
 * One request with a short timeout. `tls` undefined on an https URL means "don't verify":
 * only used for the health endpoints of components serving self-signed loopback certificates.
 */
export function httpCall(
  url: string,
  opts: { method?: string; body?: unknown; tls?: ClientTls; timeoutMs?: number } = {},
): Promise<HttpResponse> {
  const u = new URL(url);
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const common = {
      method: opts.method ?? "GET",
      timeout: opts.timeoutMs ?? 5000,
      headers: {
        accept: "application/json",
        ...(body ? { "content-type": "application/json" } : {}),
      },
    };
    const onResponse = (res: import("node:http").IncomingMessage) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        text += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on("error", reject);
    };
    const req =
      u.protocol === "https:"
        ? httpsRequest(
            u,
            opts.tls
              ? { ...common, ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key }
              : { ...common, rejectUnauthorized: false },
            onResponse,
          )
        : httpRequest(u, common, onResponse);
    req.on("timeout", () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", reject);
    req.end(body);
  });
}
