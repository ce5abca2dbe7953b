// Backing-service bindings on a real kube-apiserver: late Secrets, rotation, broken sources, Provisioned Services.
import type { V1Deployment, V1Secret } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BINDINGS_HASH_ANNOTATION } from "../../../src/app/render/index.ts";
import { requestJson } from "../../../src/runtime/index.ts";
import {
  createTestNamespace,
  eventually,
  printClusterLogsOnFailure,
} from "../../support/cluster.ts";
import {
  adminTransport,
  applyAsUser,
  conditionOf,
  deleteObject,
  getObject,
  installCrd,
  settledApp,
  startTestOperator,
  type TestOperator,
} from "../../support/operator.ts";

printClusterLogsOnFailure();

const PASSWORD = "s3cr3t-Hunter2-do-not-log";
let ns: string;
let op: TestOperator;
const logs: string[] = [];

beforeAll(async () => {
  await installCrd();
  ns = await createTestNamespace("bindings");
  const lines = (fields: unknown, msg: string) => logs.push(`${msg} ${JSON.stringify(fields)}`);
  const logger = { debug: lines, info: lines, warn: lines, error: lines, child: () => logger };
  op = await startTestOperator({ namespaces: [ns], logger });
});
afterAll(async () => {
  await op?.stop();
});

const secret = (name: string, stringData: Record<string, string>, type = "Opaque") => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace: ns },
  type,
  stringData,
});

const app = (name: string, backingServices: unknown[]) => ({
  apiVersion: "twelvefactor.dev/v1alpha1",
  kind: "StatelessApp",
  metadata: { name, namespace: ns },
  spec: {
    image: "registry.example.com/shop:1.0.0",
    processes: [{ name: "web" }, { name: "worker" }],
    backingServices,
  },
});

const decoded = (s: V1Secret | undefined) =>
  Object.fromEntries(
    Object.entries(s?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]),
  );

const hashOf = async (name: string) =>
  (await getObject<V1Deployment>("Deployment", ns, name))?.spec?.template.metadata?.annotations?.[
    BINDINGS_HASH_ANNOTATION
  ];

describe("bindings", () => {
  test("an app created before its Secret is Stalled, then binds when the Secret appears", async () => {
    await applyAsUser([
      app("shop", [{ name: "sessions", type: "redis", secretRef: { name: "shop-redis" } }]),
      app("bystander", []),
    ]);
    const stalled = await settledApp(
      ns,
      "shop",
      (a) => conditionOf(a, "Stalled")?.status === "True",
    );
    expect(conditionOf(stalled, "Stalled")).toMatchObject({
      reason: "BindingsNotReady",
      message: 'Secret "shop-redis" not found',
    });
    expect(conditionOf(stalled, "BindingsReady")).toMatchObject({
      status: "False",
      message: 'Secret "shop-redis" not found',
    });
    expect(await getObject("Deployment", ns, "shop-web")).toBeUndefined();
    // A valid app beside it reconciles as usual.
    await eventually(
      async () => (await getObject("Deployment", ns, "bystander-web")) !== undefined,
      { what: "bystander-web" },
    );

    await applyAsUser([
      secret("shop-redis", { host: "redis.example.svc", port: "6379", password: PASSWORD }),
    ]);
    const bound = await settledApp(
      ns,
      "shop",
      (a) => conditionOf(a, "BindingsReady")?.status === "True",
    );
    expect(conditionOf(bound, "Stalled")).toBeUndefined();
    expect(bound.status?.bindings).toEqual([
      { name: "sessions", type: "redis", secretName: "shop-binding-sessions", ready: true },
    ]);
    const normalized = await getObject<V1Secret>("Secret", ns, "shop-binding-sessions");
    expect(normalized?.type).toBe("servicebinding.io/redis");
    expect(decoded(normalized)).toMatchObject({
      type: "redis",
      host: "redis.example.svc",
      port: "6379",
      password: PASSWORD,
      uri: `redis://:${PASSWORD}@redis.example.svc:6379`,
    });
    const web = await getObject<V1Deployment>("Deployment", ns, "shop-web");
    const pod = web?.spec?.template.spec;
    expect(pod?.volumes).toContainEqual({
      name: "binding-sessions",
      secret: { secretName: "shop-binding-sessions", defaultMode: 420 },
    });
    expect(pod?.containers[0]?.volumeMounts).toContainEqual({
      name: "binding-sessions",
      mountPath: "/bindings/sessions",
      readOnly: true,
    });
    expect(pod?.containers[0]?.env).toContainEqual({
      name: "REDIS_URL",
      valueFrom: { secretKeyRef: { name: "shop-binding-sessions", key: "uri" } },
    });
    expect(JSON.stringify(web)).not.toContain(PASSWORD);
    expect(web?.spec?.template.metadata?.annotations?.[BINDINGS_HASH_ANNOTATION]).toMatch(
      /^[0-9a-f]{16}$/,
    );
  });

  test("a rotated password changes the hash, so the pods roll", async () => {
    const before = await hashOf("shop-web");
    await applyAsUser([
      secret("shop-redis", { host: "redis.example.svc", port: "6379", password: `${PASSWORD}-2` }),
    ]);
    const after = await eventually(
      async () => {
        const h = await hashOf("shop-web");
        return h !== before ? h : undefined;
      },
      { what: "a new bindings hash" },
    );
    expect(after).not.toBe(before);
    expect(await hashOf("shop-worker")).toBe(after);
    expect(decoded(await getObject<V1Secret>("Secret", ns, "shop-binding-sessions")).password).toBe(
      `${PASSWORD}-2`,
    );
  });

  test("a source Secret with wrong keys stalls the app and leaves the last good Deployment untouched", async () => {
    const goodHash = await hashOf("shop-web");
    const goodGeneration = (await getObject<V1Deployment>("Deployment", ns, "shop-web"))?.metadata
      ?.generation;
    await requestJson(adminTransport(), {
      method: "PUT",
      path: `/api/v1/namespaces/${ns}/secrets/shop-redis`,
      contentType: "application/json",
      body: JSON.stringify(secret("shop-redis", { hostname_typo: "x", port: "sixty" })),
    });
    const stalled = await settledApp(
      ns,
      "shop",
      (a) => conditionOf(a, "Stalled")?.status === "True",
    );
    expect(conditionOf(stalled, "BindingsReady")?.message).toMatch(/^Secret "shop-redis"/);
    const web = await getObject<V1Deployment>("Deployment", ns, "shop-web");
    expect(web?.metadata?.generation).toBe(goodGeneration);
    expect(web?.spec?.template.metadata?.annotations?.[BINDINGS_HASH_ANNOTATION]).toBe(goodHash);
    expect(await getObject("Secret", ns, "shop-binding-sessions")).toBeDefined();
  });

  test("a Provisioned Service binds once it publishes status.binding.name", async () => {
    await applyAsUser([
      {
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: "redises.cache.example.com" },
        spec: {
          group: "cache.example.com",
          names: { kind: "Redis", plural: "redises", singular: "redis" },
          scope: "Namespaced",
          versions: [
            {
              name: "v1",
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
              },
            },
          ],
        },
      },
    ]);
    const redisPath = `/apis/cache.example.com/v1/namespaces/${ns}/redises`;
    await eventually(
      () => requestJson(adminTransport(), { method: "GET", path: redisPath }).then(() => true),
      { what: "the Redis CRD to be served" },
    );
    await requestJson(adminTransport(), {
      method: "POST",
      path: redisPath,
      contentType: "application/json",
      body: JSON.stringify({
        apiVersion: "cache.example.com/v1",
        kind: "Redis",
        metadata: { name: "cache" },
      }),
    });
    await applyAsUser([
      app("catalog", [
        {
          name: "cache",
          type: "redis",
          service: { apiVersion: "cache.example.com/v1", kind: "Redis", name: "cache" },
        },
      ]),
    ]);
    const waiting = await settledApp(
      ns,
      "catalog",
      (a) => conditionOf(a, "BindingsReady")?.message?.includes("status.binding.name") === true,
    );
    expect(conditionOf(waiting, "BindingsReady")?.message).toBe(
      'Provisioned Service cache.example.com/v1 Redis "cache" has no status.binding.name yet',
    );

    await applyAsUser([
      secret("cache-credentials", { uri: "rediss://default:pw@cache.example.svc:6380/2" }),
    ]);
    await requestJson(adminTransport(), {
      method: "PATCH",
      path: `${redisPath}/cache/status`,
      contentType: "application/merge-patch+json",
      body: JSON.stringify({ status: { binding: { name: "cache-credentials" } } }),
    });
    await settledApp(ns, "catalog", (a) => conditionOf(a, "BindingsReady")?.status === "True");
    expect(decoded(await getObject<V1Secret>("Secret", ns, "catalog-binding-cache"))).toMatchObject(
      {
        host: "cache.example.svc",
        port: "6380",
        database: "2",
        tls: "true",
        uri: "rediss://default:pw@cache.example.svc:6380/2",
      },
    );
    expect(await getObject("Deployment", ns, "catalog-web")).toBeDefined();
  });

  test("a bound kind whose CRD is deleted: the app says it is no longer served, and its watch stops instead of retrying", async () => {
    const crd = "memcacheds.gone.example.com";
    await applyAsUser([
      {
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: crd },
        spec: {
          group: "gone.example.com",
          names: { kind: "Memcached", plural: "memcacheds", singular: "memcached" },
          scope: "Namespaced",
          versions: [
            {
              name: "v1",
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
              },
            },
          ],
        },
      },
    ]);
    const path = `/apis/gone.example.com/v1/namespaces/${ns}/memcacheds`;
    await eventually(
      () => requestJson(adminTransport(), { method: "GET", path }).then(() => true),
      { what: "the Memcached CRD to be served" },
    );
    const binding = {
      name: "sessions",
      type: "memcached",
      service: { apiVersion: "gone.example.com/v1", kind: "Memcached", name: "sessions" },
    };
    await applyAsUser([app("forgetful", [binding])]);
    await settledApp(ns, "forgetful", (a) =>
      /Memcached "sessions"/.test(conditionOf(a, "BindingsReady")?.message ?? ""),
    );
    await requestJson(adminTransport(), {
      method: "DELETE",
      path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`,
    });
    const gone = await settledApp(ns, "forgetful", (a) =>
      (conditionOf(a, "BindingsReady")?.message ?? "").includes("no longer served"),
    );
    expect(conditionOf(gone, "BindingsReady")).toMatchObject({
      status: "False",
      message: expect.stringContaining(
        "gone.example.com/v1 Memcached is no longer served by the API server",
      ),
    });
    // Stopped: no list or watch of the kind in the next 3 s (the reflector's backoff starts at 1 s).
    op.requests.reset();
    await new Promise((r) => setTimeout(r, 3_000));
    expect(op.requests.requested.filter((r) => r.includes("/apis/gone.example.com/"))).toEqual([]);
    await deleteObject("StatelessApp", ns, "forgetful");
  });

  test("removing a binding deletes its normalized Secret", async () => {
    await deleteObject("StatelessApp", ns, "bystander");
    await applyAsUser([app("catalog", [])]);
    await eventually(
      async () => (await getObject("Secret", ns, "catalog-binding-cache")) === undefined,
      {
        what: "catalog-binding-cache deleted",
      },
    );
  });

  test("the password never reaches the operator's logs, Events or any status", async () => {
    const everything = JSON.stringify({
      logs,
      events: await requestJson(adminTransport(), {
        method: "GET",
        path: `/apis/events.k8s.io/v1/namespaces/${ns}/events`,
      }),
      apps: await requestJson(adminTransport(), {
        method: "GET",
        path: `/apis/twelvefactor.dev/v1alpha1/namespaces/${ns}/statelessapps`,
      }),
    });
    expect(logs.length).toBeGreaterThan(0);
    expect(everything).not.toContain(PASSWORD);
  });
});
