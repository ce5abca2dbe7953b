import { afterEach, describe, expect, test } from "vitest";
import { boundKindProblem, ProvisionedWatches } from "../../src/app/provisioned.ts";
import {
  type Client,
  type DiscoveredResource,
  KubeApiError,
  type ResourceType,
  silentLogger,
} from "../../src/runtime/index.ts";
import { FakeSource, page } from "./runtime/fake-source.ts";

describe("boundKindProblem: only extension kinds are ever watched for a binding", () => {
  test.each<[string, string, RegExp | undefined]>([
    ["redis.example.com/v1", "RedisInstance", undefined],
    ["example.com/v1alpha1", "Memcached", undefined],
    ["v1", "Secret", /^service\.apiVersion "v1" must be <group>\/<version> of an extension API/],
    ["v1", "ConfigMap", /^service\.apiVersion "v1" must be/],
    ["v1", "Binding", /^service\.apiVersion "v1" must be/],
    ["v1?x=", "Secret", /^service\.apiVersion "v1\?x=" must be/],
    ["apps/v1", "Deployment", /^service\.apiVersion "apps\/v1" must be/],
    ["redis.example.com/v1?watch=1", "RedisInstance", /^service\.apiVersion .* must be/],
    ["redis.example.com/../v1", "RedisInstance", /^service\.apiVersion .* must be/],
    ["networking.k8s.io/v1", "Ingress", /is a built-in API group/],
    ["snapshot.storage.k8s.io/v1", "VolumeSnapshot", /is a built-in API group/],
    ["k8s.io/v1", "Thing", /is a built-in API group/],
    ["metrics.kubernetes.io/v1beta1", "PodMetrics", /is a built-in API group/],
    ["redis.example.com/v1", "Secret", /^service\.kind Secret is never bound.*secretRef/],
    ["redis.example.com/v1", "ConfigMap", /^service\.kind ConfigMap is never bound/],
    ["redis.example.com/v1", "redis/instances", /^service\.kind "redis\/instances" must be a kind/],
    ["redis.example.com/v1", "", /^service\.kind "" must be a kind/],
  ])("%s %s", (apiVersion, kind, problem) => {
    const found = boundKindProblem(apiVersion, kind);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });
});

type ListStep = Parameters<FakeSource["onList"]>[0];

/**
 * A client whose discovery answers from `served` (apiVersion → resources) and whose list+watch
 * of `group/plural` answers `lists` first.
 */
function fakeClient(
  served: Record<string, DiscoveredResource[]>,
  lists: Record<string, ListStep[]> = {},
) {
  const discovered: string[] = [];
  const sources = new Map<string, FakeSource>();
  const client = {
    discover: async (apiVersion: string) => {
      discovered.push(apiVersion);
      return served[apiVersion];
    },
    listWatch: (type: ResourceType) => {
      const source = new FakeSource().onList(...(lists[`${type.group}/${type.plural}`] ?? []));
      sources.set(`${type.group}/${type.plural}`, source);
      return source;
    },
  } as unknown as Client;
  return { client, discovered, sources };
}

const redisInstances: DiscoveredResource = {
  name: "redisinstances",
  kind: "RedisInstance",
  namespaced: true,
  verbs: ["get", "list", "watch"],
};
const REDIS = { apiVersion: "redis.example.com/v1", kind: "RedisInstance", name: "cache" };

const started: ProvisionedWatches[] = [];
afterEach(async () => {
  for (const w of started.splice(0)) await w.stop();
});

function watches(
  served: Record<string, DiscoveredResource[]>,
  lists: Record<string, ListStep[]> = {},
) {
  const fake = fakeClient(served, lists);
  const w = new ProvisionedWatches({
    client: fake.client,
    namespaces: ["web"],
    logger: silentLogger,
  });
  started.push(w);
  const changes: string[] = [];
  w.onKindChange((k) => changes.push(`${k.apiVersion} ${k.kind}`));
  return { w, changes, ...fake };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe("ProvisionedWatches", () => {
  test("a refused kind is never discovered nor watched; the lookup says why", async () => {
    const { w, discovered } = watches({});
    for (const [apiVersion, kind] of [
      ["v1", "Secret"],
      ["v1", "ConfigMap"],
      ["v1?x=", "Binding"],
      ["apps/v1", "Deployment"],
    ] as const) {
      w.ensure(apiVersion, kind);
      expect(w.lookup("web", { apiVersion, kind, name: "x" })).toMatchObject({
        state: "unavailable",
        message: expect.stringMatching(/^service\.apiVersion/),
      });
    }
    await settle();
    expect(discovered).toEqual([]);
    expect(w.kinds).toEqual([]);
  });

  test("a served kind is watched in the watched namespaces; its sync is news for the apps binding it", async () => {
    const { w, sources, changes } = watches(
      { "redis.example.com/v1": [redisInstances] },
      { "redis.example.com/redisinstances": [page([], "1")] },
    );
    expect(w.lookup("web", REDIS)).toEqual({
      state: "unavailable",
      message: "discovering redis.example.com/v1 RedisInstance",
    });
    await settle();
    const source = sources.get("redis.example.com/redisinstances");
    expect(source?.listCalls.map((c) => c.namespace)).toEqual(["web"]);
    expect(w.lookup("web", REDIS)).toEqual({ state: "absent" });
    expect(changes).toEqual(["redis.example.com/v1 RedisInstance"]);
  });

  test("a kind the operator may not list: the apps binding it learn the API server's reason at once", async () => {
    const status = {
      kind: "Status" as const,
      reason: "Forbidden",
      message:
        'redisinstances.redis.example.com is forbidden: User "system:serviceaccount:ops:stateless-operator" cannot list resource "redisinstances"',
    };
    const forbidden = new KubeApiError(403, "GET …: HTTP 403", JSON.stringify(status), status);
    const { w, changes } = watches(
      { "redis.example.com/v1": [redisInstances] },
      { "redis.example.com/redisinstances": [forbidden] },
    );
    w.ensure(REDIS.apiVersion, REDIS.kind);
    await settle();
    expect(changes).toEqual(["redis.example.com/v1 RedisInstance"]);
    expect(w.lookup("web", REDIS)).toEqual({
      state: "unavailable",
      message:
        'cannot watch redis.example.com/v1 RedisInstance: 403 Forbidden: redisinstances.redis.example.com is forbidden: User "system:serviceaccount:ops:stateless-operator" cannot list resource "redisinstances"',
    });
  });

  test("a kind that is not served, or cannot be listed and watched, is unserved with a reason", async () => {
    const { w, changes } = watches({
      "redis.example.com/v1": [{ ...redisInstances, verbs: ["create"] }],
    });
    w.ensure(REDIS.apiVersion, REDIS.kind);
    w.ensure("other.example.com/v1", "Thing");
    await settle();
    expect(w.lookup("web", REDIS)).toEqual({
      state: "unavailable",
      message:
        "redis.example.com/v1 RedisInstance cannot be watched: it does not support list or watch",
    });
    expect(
      w.lookup("web", { apiVersion: "other.example.com/v1", kind: "Thing", name: "t" }),
    ).toEqual({
      state: "unavailable",
      message: "other.example.com/v1 is not served by the API server",
    });
    expect(changes.sort()).toEqual([
      "other.example.com/v1 Thing",
      "redis.example.com/v1 RedisInstance",
    ]);
  });

  test("retain stops the watch of a kind no app binds any more, and keeps the others", async () => {
    const { w, sources } = watches(
      {
        "redis.example.com/v1": [redisInstances],
        "memcached.example.com/v1": [{ ...redisInstances, name: "caches", kind: "Cache" }],
      },
      {
        "redis.example.com/redisinstances": [page([], "1")],
        "memcached.example.com/caches": [page([], "1")],
      },
    );
    w.ensure(REDIS.apiVersion, REDIS.kind);
    w.ensure("memcached.example.com/v1", "Cache");
    await settle();
    const redisWatch = sources.get("redis.example.com/redisinstances")?.current;
    await w.retain((k) => k.kind === "Cache");
    expect(w.kinds).toEqual(["memcached.example.com/v1|Cache"]);
    expect(redisWatch?.aborted).toBe(true);
    expect(sources.get("memcached.example.com/caches")?.current.aborted).toBe(false);
  });

  test("a bound kind whose CRD is deleted: its watch stops instead of retrying, the apps binding it are told, discovery looks again later", async () => {
    const notFound = () => {
      const status = {
        kind: "Status" as const,
        reason: "NotFound",
        message: "the server could not find the requested resource",
      };
      return new KubeApiError(404, "GET …: HTTP 404", JSON.stringify(status), status);
    };
    let now = 0;
    const served: Record<string, DiscoveredResource[]> = {
      "redis.example.com/v1": [redisInstances],
    };
    const fake = fakeClient(served, {
      "redis.example.com/redisinstances": [page([], "1"), notFound(), notFound()],
    });
    const w = new ProvisionedWatches({
      client: fake.client,
      namespaces: ["web"],
      logger: silentLogger,
      now: () => now,
    });
    started.push(w);
    const changes: string[] = [];
    w.onKindChange((k) => changes.push(`${k.apiVersion} ${k.kind}`));
    w.ensure(REDIS.apiVersion, REDIS.kind);
    await settle();
    expect(w.lookup("web", REDIS)).toEqual({ state: "absent" });
    const source = fake.sources.get("redis.example.com/redisinstances");
    // The CRD goes: the API server ends the watch, and the resource answers 404 from then on.
    delete served["redis.example.com/v1"];
    source?.failNextWatch(notFound());
    source?.current.fail(notFound());
    await settle();
    expect(w.lookup("web", REDIS)).toEqual({
      state: "unavailable",
      message:
        "redis.example.com/v1 RedisInstance is no longer served by the API server (its CustomResourceDefinition was deleted?): 404 NotFound: the server could not find the requested resource",
    });
    expect(changes).toEqual([
      "redis.example.com/v1 RedisInstance",
      "redis.example.com/v1 RedisInstance",
    ]);
    const requests = () => (source?.listCalls.length ?? 0) + (source?.watches.length ?? 0);
    const before = requests();
    await new Promise((r) => setTimeout(r, 1_500)); // past the reflector's first backoff (1 s)
    expect(requests()).toBe(before);
    expect(fake.discovered).toEqual(["redis.example.com/v1"]);
    now = 31_000;
    w.lookup("web", REDIS);
    await settle();
    expect(fake.discovered).toEqual(["redis.example.com/v1", "redis.example.com/v1"]);
    expect(w.lookup("web", REDIS)).toEqual({
      state: "unavailable",
      message: "redis.example.com/v1 is not served by the API server",
    });
  });
});
