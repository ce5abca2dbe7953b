import { describe, expect, test } from "vitest";
import {
  APPS_BY_CHILD_NAME,
  APPS_BY_SECRET,
  APPS_BY_SERVICE,
  appsForChild,
  appsForSecret,
  appsForService,
  childNamesOf,
  controllerUids,
  SERVICES_BY_SECRET,
  secretNamedBy,
  secretsBoundBy,
  serviceKindKeysBoundBy,
  serviceKindsBoundBy,
  servicesBoundBy,
  type WatchedService,
  wholeCacheForm,
} from "../../src/app/watches.ts";
import { type KubeObject, Store } from "../../src/runtime/index.ts";

const redisKind = { apiVersion: "redis.example.com/v1", kind: "Redis" };

const appBinding = (name: string, namespace: string, backingServices: unknown): KubeObject => ({
  apiVersion: "twelvefactor.dev/v1alpha1",
  kind: "StatelessApp",
  metadata: { name, namespace, uid: `uid-${name}` },
  spec: { image: "x", processes: [{ name: "web" }], backingServices },
});

const shop = appBinding("shop", "web", [
  { name: "sessions", type: "redis", secretRef: { name: "shop-redis" } },
  { name: "cache", type: "redis", service: { ...redisKind, name: "cache" } },
]);
const blog = appBinding("blog", "web", [
  { name: "sessions", type: "redis", secretRef: { name: "shop-redis" } },
]);
const elsewhere = appBinding("shop", "other", [
  { name: "sessions", type: "redis", secretRef: { name: "shop-redis" } },
]);

function appsStore(...apps: KubeObject[]) {
  const store = new Store()
    .addIndex(APPS_BY_SECRET, secretsBoundBy)
    .addIndex(APPS_BY_SERVICE, servicesBoundBy)
    .addIndex(APPS_BY_CHILD_NAME, childNamesOf);
  for (const a of apps) store.set(a);
  return store;
}

const service = (name: string, namespace: string, secret?: string): KubeObject => ({
  ...redisKind,
  metadata: { name, namespace },
  ...(secret === undefined ? {} : { status: { binding: { name: secret } } }),
});

describe("the cache indexes", () => {
  test("an app is indexed by the Secrets and the Provisioned Services it binds, in its namespace", () => {
    expect(secretsBoundBy(shop)).toEqual(["web/shop-redis"]);
    expect(servicesBoundBy(shop)).toEqual(["redis.example.com/v1|Redis|web/cache"]);
    expect(serviceKindsBoundBy(shop)).toEqual([redisKind]);
    expect(serviceKindKeysBoundBy(shop)).toEqual(["redis.example.com/v1|Redis"]);
  });

  test("an app is indexed by every name its children have: <app>-<process>, <app>-binding-<binding>", () => {
    expect(childNamesOf(shop)).toEqual([
      "web/shop-web",
      "web/shop-binding-sessions",
      "web/shop-binding-cache",
    ]);
    expect(
      childNamesOf({ ...shop, spec: { processes: [null, { name: 3 }] } } as KubeObject),
    ).toEqual([]);
  });

  test("an app whose spec is malformed is indexed under nothing, without throwing", () => {
    for (const spec of [undefined, "text", { backingServices: "x" }, { backingServices: [null] }]) {
      const broken = { ...shop, spec } as KubeObject;
      expect(() => [secretsBoundBy(broken), servicesBoundBy(broken)]).not.toThrow();
    }
    expect(secretsBoundBy({ ...shop, spec: { backingServices: "x" } })).toEqual([]);
  });

  test("a Provisioned Service is indexed by the Secret its status names; none before it publishes one", () => {
    expect(secretNamedBy(service("cache", "web", "cache-binding"))).toEqual(["web/cache-binding"]);
    expect(secretNamedBy(service("cache", "web"))).toEqual([]);
    expect(secretNamedBy({ ...service("cache", "web"), status: { binding: { name: 7 } } })).toEqual(
      [],
    );
  });

  test("children are indexed by their controller's uid only", () => {
    const child: KubeObject = {
      metadata: {
        name: "x",
        ownerReferences: [
          { apiVersion: "v1", kind: "A", name: "a", uid: "u1", controller: true },
          { apiVersion: "v1", kind: "B", name: "b", uid: "u2" },
        ],
      },
    };
    expect(controllerUids(child)).toEqual(["u1"]);
    expect(controllerUids({ metadata: { name: "y" } })).toEqual([]);
  });
});

describe("event → app keys", () => {
  const apps = appsStore(shop, blog, elsewhere);
  const services = new Store().addIndex(SERVICES_BY_SECRET, secretNamedBy);
  services.set(service("cache", "web", "cache-binding"));
  services.set(service("cache", "other", "cache-binding"));
  const naming = (key: string): WatchedService[] =>
    services.byIndex(SERVICES_BY_SECRET, key).map((object) => ({ ...redisKind, object }));

  test("a child concerns its controller and the apps whose generated name collides with it", () => {
    // `a-b` with process `c` and `a` with process `b-c` both render `a-b-c`.
    const ab = { ...appBinding("a-b", "web", []), spec: { processes: [{ name: "c" }] } };
    const a = { ...appBinding("a", "web", []), spec: { processes: [{ name: "b-c" }] } };
    const apps = appsStore(ab, a, appBinding("a", "other", []));
    const theirs: KubeObject = {
      kind: "Service",
      metadata: {
        name: "a-b-c",
        namespace: "web",
        ownerReferences: [
          {
            apiVersion: "twelvefactor.dev/v1alpha1",
            kind: "StatelessApp",
            name: "a-b",
            uid: "uid-a-b",
            controller: true,
          },
        ],
      },
    };
    expect(appsForChild(theirs, apps).sort()).toEqual(["web/a", "web/a-b"]);
    // A Secret another team made under a binding Secret's name concerns the app that waits for it.
    const waiting = appBinding("p", "web", [
      { name: "q", type: "redis", secretRef: { name: "s" } },
    ]);
    const foreign: KubeObject = {
      kind: "Secret",
      metadata: { name: "p-binding-q", namespace: "web" },
    };
    expect(appsForSecret(foreign, appsStore(waiting), () => [])).toEqual(["web/p"]);
  });

  test("a source Secret concerns the apps of its namespace that bind it", () => {
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "shop-redis", namespace: "web" },
    };
    expect(appsForSecret(secret, apps, naming).sort()).toEqual(["web/blog", "web/shop"]);
  });

  test("a binding Secret we wrote concerns its owner", () => {
    const secret: KubeObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "shop-binding-sessions",
        namespace: "web",
        ownerReferences: [
          {
            apiVersion: "twelvefactor.dev/v1alpha1",
            kind: "StatelessApp",
            name: "shop",
            uid: "u",
            controller: true,
          },
        ],
      },
    };
    expect(appsForSecret(secret, apps, naming)).toEqual(["web/shop"]);
  });

  test("the Secret a Provisioned Service names concerns the apps binding that service, found by index", () => {
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "cache-binding", namespace: "web" },
    };
    expect(appsForSecret(secret, apps, naming)).toEqual(["web/shop"]);
    const unrelated = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "tls", namespace: "web" },
    };
    expect(appsForSecret(unrelated, apps, naming)).toEqual([]);
  });

  test("a changed Provisioned Service concerns the apps binding it, by kind, namespace and name", () => {
    expect(appsForService({ ...redisKind, object: service("cache", "web") }, apps)).toEqual([
      "web/shop",
    ]);
    expect(appsForService({ ...redisKind, object: service("cache", "other") }, apps)).toEqual([]);
    expect(
      appsForService(
        { apiVersion: "redis.example.com/v2", kind: "Redis", object: service("cache", "web") },
        apps,
      ),
    ).toEqual([]);
  });
});

describe("wholeCacheForm: how the caches of whole kinds keep an object", () => {
  const identity = { name: "shop-web", namespace: "web", uid: "u1", resourceVersion: "42" };
  const deployment = (metadata: Record<string, unknown>): KubeObject =>
    ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        ...identity,
        annotations: { note: "x".repeat(1000) },
        managedFields: [{ manager: "helm", operation: "Update" }],
        ...metadata,
      },
      spec: { replicas: 3, template: { spec: { containers: [{ name: "c", image: "i" }] } } },
      status: { replicas: 3 },
    }) as KubeObject;
  const appController = {
    apiVersion: "twelvefactor.dev/v1alpha1",
    kind: "StatelessApp",
    name: "shop",
    uid: "app-uid",
    controller: true,
  };

  test("ours (the operator's label) and any a StatelessApp controls are kept whole", () => {
    const ours = deployment({ labels: { "app.kubernetes.io/managed-by": "stateless-operator" } });
    expect(wholeCacheForm(ours)).toBe(ours);
    // Its label removed by someone: still what reconcile must read in full (forbidden additions).
    const controlled = deployment({ ownerReferences: [appController] });
    expect(wholeCacheForm(controlled)).toBe(controlled);
  });

  test("another's is a stub of its identity and owners: no spec, status, labels or annotations", () => {
    const helmOwner = { ...appController, apiVersion: "example.com/v1", kind: "StatelessApp" };
    expect(
      wholeCacheForm(deployment({ labels: { team: "ledger" }, ownerReferences: [helmOwner] })),
    ).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { ...identity, ownerReferences: [helmOwner] },
    });
    // A StatelessApp reference that is not the controller does not make it ours either.
    const notController = { ...appController, controller: false };
    expect(wholeCacheForm(deployment({ ownerReferences: [notController] })).spec).toBeUndefined();
    expect(wholeCacheForm(deployment({})).metadata).toEqual(identity);
  });
});
