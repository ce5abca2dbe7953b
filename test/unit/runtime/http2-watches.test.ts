// Watches on shared HTTP/2 connections: against local TLS servers that speak h2 (and HTTP/1.1,
// like kube-apiserver), HTTP/1.1 only, or stop answering behind a proxy.
import { once } from "node:events";
import * as http2 from "node:http2";
import * as https from "node:https";
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import { describe, expect, test } from "vitest";
import { selfSignedCertificate } from "../../../src/platform/tls.ts";
import { http2Watches } from "../../../src/runtime/http2-watches.ts";
import {
  connectionTransport,
  type HttpResponse,
  type HttpTransport,
} from "../../../src/runtime/transport.ts";

const pair = selfSignedCertificate("test-apiserver", ["127.0.0.1"]);
const ca = Buffer.from(pair.cert);

interface Logged {
  level: string;
  message: string;
  fields: unknown;
}
function logger(logged: Logged[] = []) {
  const at =
    (level: string) =>
    (fields: unknown, message = "") =>
      logged.push({ level, message, fields });
  const log = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: () => log,
  };
  return log;
}

/**
 * A TLS server speaking h2 and HTTP/1.1: a watch path answers with one line per second until
 * closed; the test sees every session, every h2 stream's headers and every HTTP/1.1 request.
 */
async function serveH2(settings: http2.Settings = {}) {
  const sessions: http2.ServerHttp2Session[] = [];
  const streams: http2.IncomingHttpHeaders[] = [];
  const http1: string[] = [];
  /** The client certificate's CN of each session ("" without one). */
  const clients: string[] = [];
  const server = http2.createSecureServer({
    ...pair,
    allowHTTP1: true,
    settings,
    requestCert: true,
    rejectUnauthorized: false,
  });
  server.on("session", (s) => {
    sessions.push(s);
    const peer = (s.socket as TLSSocket).getPeerCertificate();
    clients.push(String(peer.subject?.CN ?? ""));
  });
  server.on("request", (req, res) => {
    if (req.httpVersion === "2.0") streams.push(req.headers);
    else http1.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "content-type": "application/json" });
    res.write(`{"type":"ADDED","path":${JSON.stringify(req.url)}}\n`);
    if (!req.url.includes("watch")) {
      res.end();
      return;
    }
    const tick = setInterval(() => res.write('{"type":"BOOKMARK"}\n'), 1000);
    res.on("close", () => clearInterval(tick));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    sessions,
    streams,
    http1,
    clients,
    close: async () => {
      for (const s of sessions) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A watch of `/watch` through `transport`, open until `signal` aborts. */
function openWatch(transport: HttpTransport, signal: AbortSignal, path = "/watch") {
  return transport({ method: "GET", path, streaming: true, signal });
}

/** Reads a response's first line and leaves the stream open. */
async function firstLine(response: HttpResponse): Promise<string> {
  for await (const line of response.lines()) return line;
  throw new Error("no line");
}

describe("watches over HTTP/2", () => {
  test("many watches share one connection, with their headers; other requests stay on HTTP/1.1", async () => {
    const server = await serveH2();
    const open: number[] = [];
    const transport = connectionTransport(
      {
        server: server.url,
        ca,
        headers: () => ({ Authorization: "Bearer t", "Impersonate-Group": ["a", "b"] }),
      },
      { metrics: { http2Connections: (n) => open.push(n) } },
    );
    const stops: AbortController[] = [];
    try {
      const watches = await Promise.all(
        Array.from({ length: 30 }, (_, i) => {
          const stop = new AbortController();
          stops.push(stop);
          return transport({
            method: "GET",
            path: `/api/v1/namespaces/ns${i}/pods`,
            query: { watch: 1 },
            streaming: true,
            signal: stop.signal,
          });
        }),
      );
      expect(watches.map((w) => w.status)).toEqual(Array(30).fill(200));
      expect(await firstLine(watches[7] as HttpResponse)).toBe(
        '{"type":"ADDED","path":"/api/v1/namespaces/ns7/pods?watch=1"}',
      );
      expect(server.sessions).toHaveLength(1);
      expect(open).toEqual([1]); // stateless_operator_api_http2_connections
      expect(server.streams).toHaveLength(30);
      expect(server.streams[0]).toMatchObject({
        authorization: "Bearer t",
        accept: "application/json",
        ":method": "GET",
      });
      // Two values, as two header fields (the server joins them).
      expect(server.streams[0]?.["impersonate-group"]).toBe("a, b");
      expect(transport.pools().find((p) => p.pool === "watch")).toMatchObject({
        inUse: 30,
        waiting: 0,
      });

      const list = await transport({ method: "GET", path: "/api/v1/pods" });
      expect(list.status).toBe(200);
      expect(server.http1).toEqual(["GET /api/v1/pods"]);

      for (const stop of stops) stop.abort();
      await expect(firstLine(watches[0] as HttpResponse)).rejects.toThrow();
      await waitFor(() => transport.pools().find((p) => p.pool === "watch")?.inUse === 0);
    } finally {
      for (const stop of stops) stop.abort();
      await server.close();
    }
  });

  test("a connection carries up to the server's stream limit less one; more watches open more connections", async () => {
    const server = await serveH2({ maxConcurrentStreams: 5 });
    const transport = connectionTransport({ server: server.url, ca });
    const stop = new AbortController();
    try {
      await Promise.all(Array.from({ length: 12 }, () => openWatch(transport, stop.signal)));
      expect(server.streams).toHaveLength(12);
      expect(server.sessions).toHaveLength(3);
    } finally {
      stop.abort();
      await server.close();
    }
  });

  test("a per-request client certificate (an exec plugin's) gets connections of its own; the same certificate shares them", async () => {
    const server = await serveH2();
    const alice = selfSignedCertificate("alice", ["127.0.0.1"]);
    const bob = selfSignedCertificate("bob", ["127.0.0.1"]);
    let current = alice;
    const transport = connectionTransport({
      server: server.url,
      ca,
      credentials: async () => ({ cert: current.cert, key: current.key }),
    });
    const stop = new AbortController();
    const watch = () => openWatch(transport, stop.signal);
    try {
      await watch();
      await watch();
      current = bob; // rotated
      await watch();
      expect(server.streams).toHaveLength(3);
      expect(server.clients).toEqual(["alice", "bob"]);
    } finally {
      stop.abort();
      await server.close();
    }
  });

  test("a server that does not offer h2 gets HTTP/1.1 watches, said once in the log", async () => {
    const http1: string[] = [];
    const server = https.createServer(pair, (req, res) => {
      http1.push(`${req.httpVersion} ${req.url}`);
      res.writeHead(200);
      res.write('{"type":"ADDED"}\n');
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const logged: Logged[] = [];
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const transport = connectionTransport({ server: url, ca }, { logger: logger(logged) });
    const stop = new AbortController();
    try {
      for (const path of ["/watch/a", "/watch/b"]) {
        const watch = await openWatch(transport, stop.signal, path);
        expect(await firstLine(watch)).toBe('{"type":"ADDED"}');
      }
      expect(http1).toEqual(["1.1 /watch/a", "1.1 /watch/b"]);
      expect(logged.filter((l) => l.message.includes("does not speak HTTP/2"))).toHaveLength(1);
    } finally {
      stop.abort();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("a connection whose PING goes unanswered ends its watches with an error, and the next watch gets a new connection", async () => {
    const server = await serveH2();
    // A TCP proxy that can stop forwarding, like a peer gone without a FIN.
    let frozen = false;
    const sockets: Socket[] = [];
    const proxy = createTcpServer((client) => {
      const upstream = connect(server.port, "127.0.0.1");
      sockets.push(client, upstream);
      client.on("data", (d) => frozen || upstream.write(d));
      upstream.on("data", (d) => frozen || client.write(d));
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    proxy.listen(0, "127.0.0.1");
    await once(proxy, "listening");
    const url = `https://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const transport = connectionTransport(
      { server: url, ca },
      { http2PingMs: { intervalMs: 100, timeoutMs: 300 } },
    );
    const stop = new AbortController();
    try {
      const watch = await openWatch(transport, stop.signal);
      const lines = (async () => {
        for await (const _ of watch.lines()) frozen = true;
      })();
      await expect(lines).rejects.toThrow(/did not answer an HTTP\/2 PING within 300 ms/);
      frozen = false;
      const again = await openWatch(transport, stop.signal);
      expect(await firstLine(again)).toContain("ADDED");
      expect(server.sessions).toHaveLength(2);
    } finally {
      stop.abort();
      for (const s of sockets) s.destroy();
      proxy.close();
      await server.close();
    }
  });

  test("after a GOAWAY the open watch goes on and the next one gets a new connection", async () => {
    const server = await serveH2();
    const transport = connectionTransport({ server: server.url, ca });
    const stop = new AbortController();
    try {
      const first = await openWatch(transport, stop.signal);
      server.sessions[0]?.goaway(http2.constants.NGHTTP2_NO_ERROR, 1);
      const lines: string[] = [];
      for await (const line of first.lines()) {
        lines.push(line);
        if (lines.length === 2) break; // the ADDED line, then a bookmark sent after the GOAWAY
      }
      expect(lines[1]).toBe('{"type":"BOOKMARK"}');
      const second = await openWatch(transport, stop.signal);
      expect(second.status).toBe(200);
      expect(server.sessions).toHaveLength(2);
    } finally {
      stop.abort();
      await server.close();
    }
  });

  test("a server that hangs up after the TLS handshake, before its SETTINGS, fails the watch at once", async () => {
    const server = createTlsServer({ ...pair, ALPNProtocols: ["h2"] }, (socket) =>
      socket.destroy(),
    );
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const transport = connectionTransport({ server: url, ca }, { timeoutMs: 60_000 });
    const stop = new AbortController();
    try {
      const started = Date.now();
      await expect(openWatch(transport, stop.signal)).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(5_000); // not the 60 s timeout
      expect(transport.pools().find((p) => p.pool === "watch")).toMatchObject({
        inUse: 0,
        waiting: 0,
        http2Connections: 0,
      });
    } finally {
      stop.abort();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("a session without streams is closed once idle", async () => {
    const server = await serveH2();
    const open: number[] = [];
    const watches = http2Watches({
      hostname: "127.0.0.1",
      port: server.port,
      ca,
      idleMs: 50,
      onSessions: (n) => open.push(n),
    });
    try {
      const slot = await watches.reserve();
      expect(slot).toBeDefined();
      const stream = slot?.request({ ":path": "/watch" }) as http2.ClientHttp2Stream;
      await once(stream, "response");
      expect(watches.usage()).toEqual({ sessions: 1, streams: 1 });
      stream.destroy();
      await waitFor(() => watches.usage().sessions === 0);
      expect(watches.usage()).toEqual({ sessions: 0, streams: 0 });
      expect(open).toEqual([1, 0]);
    } finally {
      watches.close();
      await server.close();
    }
  });
});

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
