import { describe, expect, test } from "vitest";
import { applyBody, httpClient } from "../../../src/runtime/client.ts";
import { builtinResources } from "../../../src/runtime/resource.ts";
import type { HttpRequest, HttpTransport } from "../../../src/runtime/transport.ts";

/** A transport answering every request with `status` and `body`, recording what it was sent. */
function answering(status = 200, body: unknown = { metadata: { name: "x" } }) {
  const requests: HttpRequest[] = [];
  const transport: HttpTransport = async (request) => {
    requests.push(request);
    const text = JSON.stringify(body);
    return {
      status,
      text: async () => text,
      lines: async function* () {
        yield text;
      },
    };
  };
  return { client: httpClient(transport), requests };
}

const shape = (r: HttpRequest | undefined) => ({
  method: r?.method,
  verb: r?.verb,
  path: r?.path,
  query: r?.query,
  contentType: r?.contentType,
  body: r?.body === undefined ? undefined : JSON.parse(r.body),
});

const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "shop-web", namespace: "web" },
  spec: { replicas: 2 },
};

describe("httpClient: the only place that knows paths, verbs and content types", () => {
  test("get: the object, or undefined for a 404", async () => {
    const found = answering(200, { metadata: { name: "s" } });
    expect(
      await found.client.get(builtinResources.secret, { namespace: "web", name: "s" }),
    ).toEqual({ metadata: { name: "s" } });
    expect(shape(found.requests[0])).toMatchObject({
      method: "GET",
      verb: "get",
      path: "/api/v1/namespaces/web/secrets/s",
    });
    const absent = answering(404, { kind: "Status", reason: "NotFound" });
    expect(await absent.client.get(builtinResources.secret, { namespace: "web", name: "s" })).toBe(
      undefined,
    );
  });

  test("list: one request with the selectors, the items", async () => {
    const { client, requests } = answering(200, { items: [{ metadata: { name: "p" } }] });
    const pods = await client.list(builtinResources.pod, {
      namespace: "web",
      labelSelector: "a=b",
    });
    expect(pods).toEqual([{ metadata: { name: "p" } }]);
    expect(shape(requests[0])).toMatchObject({
      verb: "list",
      path: "/api/v1/namespaces/web/pods",
      query: { labelSelector: "a=b" },
    });
  });

  test("apply and applyStatus: server-side apply, forced, with the field manager", async () => {
    const { client, requests } = answering();
    await client.apply(builtinResources.deployment, deployment, { fieldManager: "m" });
    await client.applyStatus(builtinResources.deployment, deployment, { fieldManager: "m" });
    expect(requests.map(shape)).toEqual([
      {
        method: "PATCH",
        verb: "apply",
        path: "/apis/apps/v1/namespaces/web/deployments/shop-web",
        query: { fieldManager: "m", force: true },
        contentType: "application/apply-patch+yaml",
        body: deployment,
      },
      {
        method: "PATCH",
        verb: "apply-status",
        path: "/apis/apps/v1/namespaces/web/deployments/shop-web/status",
        query: { fieldManager: "m", force: true },
        contentType: "application/apply-patch+yaml",
        body: deployment,
      },
    ]);
  });

  test("patch: a JSON patch under the field manager", async () => {
    const { client, requests } = answering();
    const ops = [{ op: "remove", path: "/spec/sessionAffinityConfig" }];
    await client.patch(builtinResources.service, { namespace: "web", name: "s" }, ops, {
      fieldManager: "m",
    });
    expect(shape(requests[0])).toEqual({
      method: "PATCH",
      verb: "patch",
      path: "/api/v1/namespaces/web/services/s",
      query: { fieldManager: "m" },
      contentType: "application/json-patch+json",
      body: ops,
    });
  });

  test("delete: background propagation, a uid precondition; false when already gone", async () => {
    const { client, requests } = answering();
    expect(
      await client.delete(builtinResources.service, { namespace: "web", name: "s" }, { uid: "u1" }),
    ).toBe(true);
    expect(shape(requests[0])).toMatchObject({
      method: "DELETE",
      verb: "delete",
      body: {
        apiVersion: "v1",
        kind: "DeleteOptions",
        propagationPolicy: "Background",
        preconditions: { uid: "u1" },
      },
    });
    const gone = answering(404, {});
    expect(
      await gone.client.delete(builtinResources.service, { namespace: "web", name: "s" }),
    ).toBe(false);
  });

  test("evict: the Eviction subresource; false when a disruption budget refuses (429), other errors thrown", async () => {
    const { client, requests } = answering(201, {});
    expect(await client.evict({ namespace: "web", name: "p" })).toBe(true);
    expect(shape(requests[0])).toEqual({
      method: "POST",
      verb: "create",
      path: "/api/v1/namespaces/web/pods/p/eviction",
      query: undefined,
      contentType: "application/json",
      body: {
        apiVersion: "policy/v1",
        kind: "Eviction",
        metadata: { name: "p", namespace: "web" },
      },
    });
    expect(await answering(429, {}).client.evict({ namespace: "web", name: "p" })).toBe(false);
    await expect(
      answering(403, {}).client.evict({ namespace: "web", name: "p" }),
    ).rejects.toMatchObject({ code: 403 });
  });

  test("podLog: the log subresource as text, bounded by the query; undefined for no content; a non-2xx status is a KubeApiError", async () => {
    const requests: HttpRequest[] = [];
    const log = "line 1\nline 2\n";
    const client = httpClient(async (request) => {
      requests.push(request);
      return { status: 200, text: async () => log, lines: async function* () {} };
    });
    expect(
      await client.podLog(
        { namespace: "web", name: "p" },
        { container: "release", tailLines: 2, limitBytes: 4096, timeoutMs: 10_000 },
      ),
    ).toBe(log);
    expect(requests[0]).toMatchObject({
      method: "GET",
      verb: "get",
      path: "/api/v1/namespaces/web/pods/p/log",
      query: { container: "release", tailLines: 2, limitBytes: 4096 },
      timeoutMs: 10_000,
    });
    const noHost = answering(400, {
      kind: "Status",
      reason: "BadRequest",
      message: "pod p does not have a host assigned",
    });
    await expect(
      noHost.client.podLog({ namespace: "web", name: "p" }, { container: "release" }),
    ).rejects.toMatchObject({ code: 400, status: { reason: "BadRequest" } });
    expect(noHost.requests[0]?.query).toEqual({ container: "release" });
    // 204: the API server had no kubelet to ask (the pod was never scheduled).
    const never = httpClient(async () => ({
      status: 204,
      text: async () => "",
      lines: async function* () {},
    }));
    expect(
      await never.podLog({ namespace: "web", name: "p" }, { container: "release" }),
    ).toBeUndefined();
  });

  test("discover: the resources of a group version (core or named); undefined when not served", async () => {
    const { client, requests } = answering(200, {
      resources: [{ name: "redis", kind: "Redis", namespaced: true }],
    });
    expect(await client.discover("redis.example.com/v1")).toEqual([
      { name: "redis", kind: "Redis", namespaced: true },
    ]);
    await client.discover("v1");
    expect(requests.map((r) => r.path)).toEqual(["/apis/redis.example.com/v1", "/api/v1"]);
    expect(await answering(404, {}).client.discover("nope.example.com/v1")).toBeUndefined();
  });

  test("every path segment from outside is escaped: no query, fragment or extra segment slips in", async () => {
    const { client, requests } = answering(200, { resources: [], items: [] });
    await client.discover("v1?x=");
    await client.discover("a.example.com/v1#frag");
    await client.discover("a.example.com/v1/../../api/v1");
    const odd = {
      group: "a.example.com",
      version: "v1?watch=true",
      kind: "Odd",
      plural: "odds/../../secrets",
      namespaced: true,
    };
    await client.list(odd, { namespace: "web" });
    await client.get(odd, { namespace: "web/x", name: "n?x" });
    expect(requests.map((r) => r.path)).toEqual([
      "/api/v1%3Fx%3D",
      "/apis/a.example.com/v1%23frag",
      "/apis/a.example.com/v1%2F..%2F..%2Fapi%2Fv1",
      "/apis/a.example.com/v1%3Fwatch%3Dtrue/namespaces/web/odds%2F..%2F..%2Fsecrets",
      "/apis/a.example.com/v1%3Fwatch%3Dtrue/namespaces/web%2Fx/odds%2F..%2F..%2Fsecrets/n%3Fx",
    ]);
  });
});

describe("applyBody", () => {
  test("writes what the API server's YAML decoder refuses as JSON escapes, and nothing else", () => {
    const object = {
      command: ["a\u0080b", "c\u007fd", "e\u0085f", "g\uffffh", "ü ✓ 😀", "\u0001"],
    };
    const body = applyBody(object);
    expect(body).toBe(
      '{"command":["a\\u0080b","c\\u007fd","e\u0085f","g\\uffffh","ü ✓ 😀","\\u0001"]}',
    );
    expect(JSON.parse(body)).toEqual(object);
  });
});
