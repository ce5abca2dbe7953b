// Delegated authentication and authorization of /metrics against a fake API server: decisions, requests and caching.
import { describe, expect, test } from "vitest";
import { delegatingAuthorizer } from "../../../src/platform/auth.ts";
import type { HttpRequest, HttpTransport } from "../../../src/runtime/index.ts";

interface Fake {
  transport: HttpTransport;
  requests: { path: string; body: Record<string, unknown> }[];
}

/** An API server that knows two tokens and lets only `reader` get /metrics. */
function fakeApiServer(fail?: number): Fake {
  const requests: Fake["requests"] = [];
  const users: Record<string, unknown> = {
    "reader-token": {
      username: "system:serviceaccount:monitoring:prometheus",
      uid: "u1",
      groups: ["system:serviceaccounts"],
    },
    "other-token": { username: "jane", groups: ["dev"], extra: { scope: ["x"] } },
  };
  const transport: HttpTransport = async (r: HttpRequest) => {
    const body = JSON.parse(r.body ?? "{}") as { spec: Record<string, unknown> };
    requests.push({ path: r.path, body });
    const reply = (status: number, json: unknown) => ({
      status,
      text: async () => JSON.stringify(json),
      lines: async function* () {},
    });
    if (fail !== undefined)
      return reply(fail, { kind: "Status", message: "boom", reason: "InternalError" });
    if (r.path.endsWith("/tokenreviews")) {
      const user = users[String(body.spec.token)];
      return reply(201, {
        status: user ? { authenticated: true, user } : { authenticated: false, error: "invalid" },
      });
    }
    const allowed = body.spec.user === "system:serviceaccount:monitoring:prometheus";
    return reply(201, { status: { allowed, reason: allowed ? "RBAC: allowed" : "" } });
  };
  return { transport, requests };
}

describe("delegatingAuthorizer", () => {
  test("no token: 401, and the API server is not asked", async () => {
    const api = fakeApiServer();
    const a = delegatingAuthorizer(api.transport);
    for (const header of [undefined, "", "Basic dXNlcjpwYXNz", "Bearer"])
      expect(await a.decide(header, "get", "/metrics")).toMatchObject({
        allowed: false,
        status: 401,
      });
    expect(api.requests).toEqual([]);
  });

  test("a token the API server does not know: 401", async () => {
    const a = delegatingAuthorizer(fakeApiServer().transport);
    expect(await a.decide("Bearer nope", "get", "/metrics")).toEqual({
      allowed: false,
      status: 401,
      message: "Unauthorized",
    });
  });

  test("a known user without the permission: 403 naming the user; with it: allowed", async () => {
    const api = fakeApiServer();
    const a = delegatingAuthorizer(api.transport);
    expect(await a.decide("Bearer other-token", "get", "/metrics")).toEqual({
      allowed: false,
      status: 403,
      message: "Authorization denied for user jane",
    });
    expect(await a.decide("bearer reader-token", "get", "/metrics")).toEqual({
      allowed: true,
      user: "system:serviceaccount:monitoring:prometheus",
    });
  });

  test("reviews the token, then the user's identity (uid, groups, extra) on the non-resource URL", async () => {
    const api = fakeApiServer();
    await delegatingAuthorizer(api.transport).decide("Bearer other-token", "get", "/metrics");
    expect(api.requests).toEqual([
      {
        path: "/apis/authentication.k8s.io/v1/tokenreviews",
        body: {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenReview",
          spec: { token: "other-token" },
        },
      },
      {
        path: "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: {
            user: "jane",
            groups: ["dev"],
            extra: { scope: ["x"] },
            nonResourceAttributes: { path: "/metrics", verb: "get" },
          },
        },
      },
    ]);
  });

  test("answers are cached as controller-runtime's: token 1 min, allow 5 min, deny 30 s", async () => {
    let t = 0;
    const api = fakeApiServer();
    const a = delegatingAuthorizer(api.transport, { now: () => t });
    const count = (path: string) => api.requests.filter((r) => r.path.endsWith(path)).length;
    await a.decide("Bearer reader-token", "get", "/metrics");
    await a.decide("Bearer other-token", "get", "/metrics");
    expect([count("tokenreviews"), count("subjectaccessreviews")]).toEqual([2, 2]);
    t = 29_000;
    await a.decide("Bearer reader-token", "get", "/metrics");
    await a.decide("Bearer other-token", "get", "/metrics");
    expect([count("tokenreviews"), count("subjectaccessreviews")]).toEqual([2, 2]);
    t = 31_000; // the denial expired, the token reviews did not
    await a.decide("Bearer other-token", "get", "/metrics");
    expect([count("tokenreviews"), count("subjectaccessreviews")]).toEqual([2, 3]);
    t = 61_000; // the token reviews expired, the allowance did not
    await a.decide("Bearer reader-token", "get", "/metrics");
    expect([count("tokenreviews"), count("subjectaccessreviews")]).toEqual([3, 3]);
    t = 301_000;
    await a.decide("Bearer reader-token", "get", "/metrics");
    expect([count("tokenreviews"), count("subjectaccessreviews")]).toEqual([4, 4]);
  });

  test("an API server that cannot answer: 500, and nothing is cached", async () => {
    const api = fakeApiServer(503);
    const a = delegatingAuthorizer(api.transport);
    const d = await a.decide("Bearer reader-token", "get", "/metrics");
    expect(d).toMatchObject({ allowed: false, status: 500 });
    expect(d.allowed === false && d.message).toMatch(
      /^Authentication failed: POST \/apis\/authentication\.k8s\.io\/v1\/tokenreviews: HTTP 503/,
    );
    await a.decide("Bearer reader-token", "get", "/metrics");
    expect(api.requests).toHaveLength(2);
  });

  test("the cache is bounded: the oldest answer goes first", async () => {
    const api = fakeApiServer();
    const a = delegatingAuthorizer(api.transport, { maxEntries: 2, now: () => 0 });
    for (const token of ["t1", "t2", "t3", "t1"])
      await a.decide(`Bearer ${token}`, "get", "/metrics");
    expect(api.requests.map((r) => r.body.spec)).toEqual(
      ["t1", "t2", "t3", "t1"].map((token) => ({ token })),
    );
  });
});
