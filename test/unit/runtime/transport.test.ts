import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, test } from "vitest";
import { httpLeaseApi } from "../../../src/runtime/leader.ts";
import { httpListWatch } from "../../../src/runtime/listwatch.ts";
import { builtinResources } from "../../../src/runtime/resource.ts";
import {
  ConnectionWaitTimeout,
  connectionTransport,
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  instrumentTransport,
  KubeApiError,
  requestJson,
} from "../../../src/runtime/transport.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

function response(status: number, body: string | string[]): HttpResponse {
  const lines = Array.isArray(body) ? body : [body];
  return {
    status,
    text: async () => lines.join("\n"),
    lines: async function* () {
      yield* lines;
    },
  };
}

function transportOf(answer: (req: HttpRequest) => HttpResponse) {
  const requests: HttpRequest[] = [];
  const transport: HttpTransport = async (req) => {
    requests.push(req);
    return answer(req);
  };
  return { transport, requests };
}

/** A local HTTP server answering with `handle`; the test gets its URL and the requests it saw. */
async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    handle(req, res);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("connectionTransport", () => {
  test("sends method, path under the server's prefix, query, headers asked for each request, and body", async () => {
    const server = await serve((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => res.end(JSON.stringify({ body })));
    });
    let n = 0;
    const transport = connectionTransport({
      server: `${server.url}/proxy/`,
      headers: () => ({ Authorization: `Bearer t${++n}` }),
    });
    try {
      const first = await transport({
        method: "PATCH",
        path: "/api/v1/x",
        query: { a: "1 2", b: true, c: undefined },
        contentType: "application/apply-patch+yaml",
        body: "{}",
      });
      expect(first.status).toBe(200);
      expect(JSON.parse(await first.text())).toEqual({ body: "{}" });
      await (await transport({ method: "GET", path: "/y" })).text();
      // A DELETE's body (DeleteOptions with preconditions) reaches the server too.
      const del = await transport({
        method: "DELETE",
        path: "/z",
        contentType: "application/json",
        body: '{"kind":"DeleteOptions"}',
      });
      expect(JSON.parse(await del.text())).toEqual({ body: '{"kind":"DeleteOptions"}' });
      const [a, b] = server.seen;
      expect(a?.method).toBe("PATCH");
      expect(a?.url).toBe("/proxy/api/v1/x?a=1+2&b=true");
      expect(a?.headers).toMatchObject({
        authorization: "Bearer t1",
        "content-type": "application/apply-patch+yaml",
        accept: "application/json",
      });
      expect(b?.headers.authorization).toBe("Bearer t2");
    } finally {
      await server.close();
    }
  });

  test("streams lines as they arrive, across chunk boundaries inside a multi-byte character", async () => {
    const bytes = Buffer.from('{"a":"é"}\n\n{"b":2}\n{"c":3}');
    const cut = bytes.indexOf(0xa9);
    const server = await serve((_req, res) => {
      res.write(bytes.subarray(0, cut));
      setTimeout(() => {
        res.write(bytes.subarray(cut, cut + 5));
        res.end(bytes.subarray(cut + 5));
      }, 10);
    });
    try {
      const response = await connectionTransport({ server: server.url })({
        method: "GET",
        path: "/w",
        streaming: true,
      });
      const lines: string[] = [];
      for await (const line of response.lines()) lines.push(line);
      expect(lines).toEqual(['{"a":"é"}', '{"b":2}', '{"c":3}']);
    } finally {
      await server.close();
    }
  });

  test("an aborted stream ends the request; a non-streaming request times out", async () => {
    const server = await serve((req, res) => {
      if (req.url === "/slow") return; // never answers
      res.write('{"type":"ADDED"}\n'); // and never ends
    });
    try {
      const abort = new AbortController();
      const response = await connectionTransport({ server: server.url })({
        method: "GET",
        path: "/w",
        streaming: true,
        signal: abort.signal,
      });
      const read = (async () => {
        const got: string[] = [];
        for await (const line of response.lines()) {
          got.push(line);
          abort.abort();
        }
        return got;
      })();
      await expect(read).rejects.toThrow();
      const slow = connectionTransport(
        { server: server.url },
        { timeoutMs: 50 },
      )({ method: "GET", path: "/slow" });
      await expect(slow).rejects.toThrow();
    } finally {
      await server.close();
    }
  });
});

describe("connection pools", () => {
  /** A server whose /watch streams never end and whose /hold requests wait until released. */
  async function poolServer() {
    const held: ServerResponse[] = [];
    const server = await serve((req, res) => {
      if (req.url?.startsWith("/watch")) {
        res.writeHead(200);
        res.write('{"type":"BOOKMARK"}\n');
        return;
      }
      if (req.url?.startsWith("/hold")) {
        held.push(res);
        return;
      }
      res.end("{}");
    });
    const release = () => {
      for (const r of held.splice(0)) r.end("{}");
    };
    return { ...server, release };
  }

  test("a hundred open watches do not hold up a request: each watch has a connection of its own", async () => {
    const server = await poolServer();
    const transport = connectionTransport(
      { server: server.url },
      { requestConnections: 2, timeoutMs: 2_000 },
    );
    const stop = new AbortController();
    try {
      const watches = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          transport({ method: "GET", path: `/watch/${i}`, streaming: true, signal: stop.signal }),
        ),
      );
      expect(watches.every((w) => w.status === 200)).toBe(true);
      const got = await transport({ method: "GET", path: "/get" });
      expect(got.status).toBe(200);
      await got.text();
      const watch = transport.pools().find((p) => p.pool === "watch");
      expect(watch).toMatchObject({ inUse: 100, waiting: 0, limit: Number.POSITIVE_INFINITY });
      expect(transport.problems()).toEqual([]);
    } finally {
      stop.abort();
      await server.close();
    }
  });

  test("Lease requests never queue behind ordinary requests", async () => {
    const server = await poolServer();
    const transport = connectionTransport(
      { server: server.url },
      { requestConnections: 1, timeoutMs: 2_000 },
    );
    try {
      const busy = transport({ method: "GET", path: "/hold" });
      const queued = transport({ method: "GET", path: "/get" });
      const lease = await transport({ method: "PUT", path: "/lease", pool: "lease" });
      expect(lease.status).toBe(200);
      expect(transport.pools().find((p) => p.pool === "request")).toMatchObject({
        inUse: 1,
        waiting: 1,
      });
      server.release();
      await (await busy).text();
      await (await queued).text();
    } finally {
      await server.close();
    }
  });

  test("a request that gets no connection within its timeout fails naming the pool, is logged and counted, and fails readiness for a while", async () => {
    const server = await poolServer();
    let now = 1_000_000;
    const logged: string[] = [];
    const timedOut: string[] = [];
    const usage: string[] = [];
    const transport = connectionTransport(
      { server: server.url },
      {
        requestConnections: 1,
        timeoutMs: 100,
        starvedForMs: 60_000,
        now: () => now,
        logger: {
          ...silent,
          error: (fields, msg) => logged.push(`${msg} ${JSON.stringify(fields)}`),
        },
        metrics: {
          waitTimedOut: (pool) => timedOut.push(pool),
          usage: (pool, inUse, waiting) => usage.push(`${pool} ${inUse}/${waiting}`),
        },
      },
    );
    try {
      // The busy request outlives the starved one's wait: were its own timeout to end first, its
      // connection would go to the waiting request.
      const busy = transport({ method: "GET", path: "/hold", timeoutMs: 400 }).catch(
        (e: unknown) => e,
      );
      const starved = await transport({ method: "GET", path: "/api/v1/pods" }).catch(
        (e: unknown) => e,
      );
      expect(starved).toBeInstanceOf(ConnectionWaitTimeout);
      expect((starved as Error).message).toBe(
        "GET /api/v1/pods: no connection to the API server within 100 ms: all 1 connections for requests are busy (1 requests waiting)",
      );
      expect(timedOut).toEqual(["request"]);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain("no connection to the API server");
      expect(logged[0]).toContain('"pool":"request"');
      expect(usage).toContain("request 1/1");
      const problems = transport.problems();
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(
        /^API connections: a request could not get a connection within 100 ms \([01] of 1 in use, 0 waiting\)$/,
      );
      // The busy request itself had its connection: it times out as an unanswered request.
      const slow = await busy;
      expect(slow).not.toBeInstanceOf(ConnectionWaitTimeout);
      expect((slow as Error).message).toMatch(/no response in 400 ms/);
      now += 60_000;
      expect(transport.problems()).toEqual([]);
    } finally {
      await server.close();
    }
  });

  test("headers with several values are sent as one line each", async () => {
    const server = await serve((_req, res) => res.end("{}"));
    try {
      const transport = connectionTransport({
        server: server.url,
        headers: () => ({ "Impersonate-User": "jane", "Impersonate-Group": ["dev", "ops"] }),
        credentials: async () => ({ headers: { Authorization: "Bearer exec" } }),
      });
      await (await transport({ method: "GET", path: "/" })).text();
      const raw = server.seen[0]?.rawHeaders ?? [];
      const values = (name: string) =>
        raw.flatMap((v, i) => (i % 2 === 0 && v.toLowerCase() === name ? [raw[i + 1]] : []));
      expect(values("impersonate-group")).toEqual(["dev", "ops"]);
      expect(values("impersonate-user")).toEqual(["jane"]);
      expect(values("authorization")).toEqual(["Bearer exec"]);
    } finally {
      await server.close();
    }
  });
});

describe("requestJson", () => {
  test("turns a non-2xx status into a KubeApiError carrying the Status body and a short message", async () => {
    const status = {
      kind: "Status",
      code: 409,
      reason: "Conflict",
      message: "the object has been modified",
    };
    const { transport } = transportOf(() => response(409, JSON.stringify(status)));
    const err = await requestJson(transport, { method: "PUT", path: "/x" }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ code: 409, body: JSON.stringify(status) });
    expect((err as Error).message).toBe("PUT /x: HTTP 409 Conflict: the object has been modified");
  });
});

describe("instrumentTransport", () => {
  test("reports verb, status, duration and HTTP method, and status 0 when no response came", async () => {
    const seen: Array<[string, number, string]> = [];
    let fail = false;
    const inner: HttpTransport = async () => {
      if (fail) throw new TypeError("fetch failed");
      return response(200, "{}");
    };
    const t = instrumentTransport(inner, {
      request: (verb, status, _ms, method) => seen.push([verb, status, method]),
    });
    await t({ method: "PATCH", path: "/", verb: "apply" });
    await t({ method: "GET", path: "/" });
    fail = true;
    await expect(t({ method: "GET", path: "/", verb: "watch" })).rejects.toThrow();
    expect(seen).toEqual([
      ["apply", 200, "PATCH"],
      ["get", 200, "GET"],
      ["watch", 0, "GET"],
    ]);
  });
});

describe("httpListWatch", () => {
  test("lists a page with selectors and fills in apiVersion and kind the list items lack", async () => {
    const { transport, requests } = transportOf(() =>
      response(
        200,
        JSON.stringify({
          kind: "DeploymentList",
          apiVersion: "apps/v1",
          metadata: { resourceVersion: "42", continue: "tok" },
          items: [{ metadata: { name: "a", namespace: "ns" } }],
        }),
      ),
    );
    const source = httpListWatch(transport, builtinResources.deployment);
    const page = await source.list({ namespace: "ns", labelSelector: "app=x", limit: 10 });
    expect(requests[0]?.path).toBe("/apis/apps/v1/namespaces/ns/deployments");
    expect(requests[0]?.query).toMatchObject({
      labelSelector: "app=x",
      limit: 10,
      continue: undefined,
    });
    expect(page).toEqual({
      items: [
        { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "a", namespace: "ns" } },
      ],
      resourceVersion: "42",
      continue: "tok",
    });
  });

  test("watches with bookmarks, timeout and resourceVersion, yielding one event per line", async () => {
    const lines = [
      JSON.stringify({
        type: "ADDED",
        object: { apiVersion: "v1", kind: "Secret", metadata: { name: "s" } },
      }),
      JSON.stringify({
        type: "BOOKMARK",
        object: { kind: "Secret", apiVersion: "v1", metadata: { resourceVersion: "9" } },
      }),
    ];
    const { transport, requests } = transportOf(() => response(200, lines));
    const source = httpListWatch(transport, builtinResources.secret);
    const events = [];
    const options = { resourceVersion: "5", timeoutSeconds: 300, allowWatchBookmarks: true };
    for await (const e of source.watch(options, new AbortController().signal)) events.push(e.type);
    expect(events).toEqual(["ADDED", "BOOKMARK"]);
    expect(requests[0]?.path).toBe("/api/v1/secrets");
    expect(requests[0]?.streaming).toBe(true);
    expect(requests[0]?.query).toMatchObject({
      watch: true,
      resourceVersion: "5",
      allowWatchBookmarks: true,
      timeoutSeconds: 300,
    });
  });

  test("a failed watch request throws with the HTTP status as code", async () => {
    const { transport } = transportOf(() =>
      response(410, JSON.stringify({ kind: "Status", code: 410, reason: "Gone" })),
    );
    const source = httpListWatch(transport, builtinResources.secret);
    const consume = async () => {
      for await (const _ of source.watch(
        { resourceVersion: "1", timeoutSeconds: 1, allowWatchBookmarks: true },
        new AbortController().signal,
      )) {
        // nothing
      }
    };
    await expect(consume()).rejects.toMatchObject({ code: 410 });
  });
});

describe("httpLeaseApi", () => {
  test("get of a missing lease is undefined; create posts to the collection", async () => {
    const { transport, requests } = transportOf((req) =>
      req.method === "GET"
        ? response(404, JSON.stringify({ kind: "Status", code: 404 }))
        : response(201, req.body ?? ""),
    );
    const api = httpLeaseApi(transport);
    expect(await api.get("ns", "l")).toBeUndefined();
    await api.create({ metadata: { name: "l", namespace: "ns" }, spec: { holderIdentity: "me" } });
    expect(requests[1]?.path).toBe("/apis/coordination.k8s.io/v1/namespaces/ns/leases");
    expect(JSON.parse(requests[1]?.body ?? "")).toMatchObject({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
    });
  });
});
