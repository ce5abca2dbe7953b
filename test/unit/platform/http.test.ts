// The endpoints on loopback: plain health, HTTPS /metrics behind an authorizer, a key pair swapped while serving.
import { X509Certificate } from "node:crypto";
import { request } from "node:https";
import { Counter, Registry } from "prom-client";
import { afterEach, describe, expect, test } from "vitest";
import type { RequestAuthorizer } from "../../../src/platform/auth.ts";
import { type Endpoint, serveHealth, serveSecureMetrics } from "../../../src/platform/http.ts";
import { selfSignedCertificate } from "../../../src/platform/tls.ts";

const loopback = { host: "127.0.0.1", port: 0 };
const open: Endpoint[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

function registry(): Registry {
  const r = new Registry();
  new Counter({ name: "probe_total", help: "h", registers: [r] }).inc(7);
  return r;
}

/** GET over TLS without verification (the certificate is self-signed); resolves with status, body and the peer's subject. */
function get(port: number, path: string, token?: string) {
  return new Promise<{ status: number; body: string; subject: string }>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        rejectUnauthorized: false,
        agent: false,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        let body = "";
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => {
          const raw = (
            res.socket as unknown as { getPeerCertificate(d: boolean): { raw: Buffer } }
          ).getPeerCertificate(true).raw;
          resolve({ status: res.statusCode ?? 0, body, subject: new X509Certificate(raw).subject });
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

const authorizer: RequestAuthorizer = {
  decide: async (header, verb, path) => {
    if (header === undefined) return { allowed: false, status: 401, message: "Unauthorized" };
    if (header === "Bearer ok" && verb === "get" && path === "/metrics")
      return { allowed: true, user: "prometheus" };
    return { allowed: false, status: 403, message: "Authorization denied for user x" };
  },
};

describe("serveSecureMetrics", () => {
  test("serves /metrics over TLS to whom the authorizer allows, 401/403 to the others", async () => {
    const m = await serveSecureMetrics(loopback, registry(), {
      keyPair: selfSignedCertificate("a", ["127.0.0.1"]),
      authorizer,
    });
    open.push(m);
    const port = m.address.port;
    expect(await get(port, "/metrics", "ok")).toMatchObject({ status: 200, subject: "CN=a" });
    expect((await get(port, "/metrics", "ok")).body).toContain("probe_total 7");
    expect(await get(port, "/metrics")).toMatchObject({ status: 401, body: "Unauthorized\n" });
    expect(await get(port, "/metrics", "no")).toMatchObject({ status: 403 });
    expect((await get(port, "/metrics", "no")).body).not.toContain("probe_total");
    // Only /metrics is there: health stays on the plain port.
    expect(await get(port, "/healthz", "ok")).toMatchObject({ status: 404 });
  });

  test("a new key pair serves new connections at once", async () => {
    const m = await serveSecureMetrics(loopback, registry(), {
      keyPair: selfSignedCertificate("a", ["127.0.0.1"]),
      authorizer,
    });
    open.push(m);
    m.setKeyPair(selfSignedCertificate("b", ["127.0.0.1"]));
    expect(await get(m.address.port, "/metrics", "ok")).toMatchObject({
      status: 200,
      subject: "CN=b",
    });
  });
});

describe("serveHealth", () => {
  test("answers the probes; /metrics only when given the registry (METRICS_SECURE=false)", async () => {
    let pending = ["secrets"];
    const secure = await serveHealth(loopback, { notReady: () => pending });
    const local = await serveHealth(loopback, { notReady: () => [] }, registry());
    open.push(secure, local);
    const at = (e: Endpoint, path: string) => fetch(`http://127.0.0.1:${e.address.port}${path}`);
    expect((await at(secure, "/healthz")).status).toBe(200);
    const notReady = await at(secure, "/readyz");
    expect([notReady.status, await notReady.text()]).toEqual([503, "not ready: secrets\n"]);
    pending = [];
    expect((await at(secure, "/readyz")).status).toBe(200);
    const hidden = await at(secure, "/metrics");
    expect([hidden.status, await hidden.text()]).toEqual([
      404,
      "not found: /metrics is served over HTTPS on METRICS_ADDRESS\n",
    ]);
    const plain = await at(local, "/metrics");
    expect(plain.status).toBe(200);
    expect(await plain.text()).toContain("probe_total 7");
  });
});
