import { ApiException } from "@kubernetes/client-node";
import { describe, expect, test } from "vitest";
import {
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  instrumentTransport,
  readLines,
  requestJson,
} from "../../../src/runtime/http.ts";
import { httpLeaseApi } from "../../../src/runtime/leader.ts";
import { httpListWatch } from "../../../src/runtime/listwatch.ts";
import { builtinResources } from "../../../src/runtime/resource.ts";

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

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
}

describe("readLines", () => {
  test("splits lines across chunk boundaries, including inside a multi-byte character", async () => {
    const bytes = new TextEncoder().encode('{"a":"é"}\n\n{"b":2}\n{"c":3}');
    // Cut between the two bytes of "é" and inside the second line.
    const cut1 = bytes.indexOf(0xa9);
    const chunks = [bytes.slice(0, cut1), bytes.slice(cut1, cut1 + 5), bytes.slice(cut1 + 5)];
    const lines: string[] = [];
    for await (const line of readLines(streamOf(chunks))) lines.push(line);
    expect(lines).toEqual(['{"a":"é"}', '{"b":2}', '{"c":3}']);
  });
});

describe("requestJson", () => {
  test("turns a non-2xx status into an ApiException carrying the Status body and a short message", async () => {
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
    expect(err).toBeInstanceOf(ApiException);
    expect(err).toMatchObject({ code: 409, body: JSON.stringify(status) });
    expect((err as Error).message).toBe("PUT /x: HTTP 409 Conflict: the object has been modified");
  });
});

describe("instrumentTransport", () => {
  test("reports verb, status and duration, and status 0 when no response came", async () => {
    const seen: Array<[string, number]> = [];
    let fail = false;
    const inner: HttpTransport = async () => {
      if (fail) throw new TypeError("fetch failed");
      return response(200, "{}");
    };
    const t = instrumentTransport(inner, { request: (verb, status) => seen.push([verb, status]) });
    await t({ method: "PATCH", path: "/", verb: "apply" });
    await t({ method: "GET", path: "/" });
    fail = true;
    await expect(t({ method: "GET", path: "/", verb: "watch" })).rejects.toThrow();
    expect(seen).toEqual([
      ["apply", 200],
      ["get", 200],
      ["watch", 0],
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
