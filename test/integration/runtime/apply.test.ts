// Server-side apply and its no-op detection against a real kube-apiserver, counting write requests.
import { ApiextensionsV1Api, AppsV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  Applier,
  builtinResources,
  httpClient,
  httpListWatch,
  type KubeObject,
  Reflector,
  ResourceRegistry,
  type ResourceType,
  requestJson,
  resourcePath,
} from "../../../src/runtime/index.ts";
import {
  adminKubeConfig,
  createTestNamespace,
  eventually,
  printClusterLogsOnFailure,
  uniqueName,
} from "../../support/cluster.ts";
import { countingTransport } from "./helpers.ts";

printClusterLogsOnFailure();

const kc = adminKubeConfig();
const http = countingTransport();
const group = `${uniqueName("applytest")}.example.com`;
const widgetType: ResourceType = {
  group,
  version: "v1",
  kind: "Widget",
  plural: "widgets",
  namespaced: true,
};
const registry = new ResourceRegistry().register(widgetType);
const applier = new Applier({ client: httpClient(http.transport), registry });
let namespace: string;
const reflectors: Reflector[] = [];

/** A reflector that keeps our managedFields entry, as the operator's child watches do. */
function watch(type: ResourceType): Reflector {
  const r = new Reflector({
    resource: type,
    source: httpListWatch(http.transport, type),
    namespaces: [namespace],
    keepManagedFieldsOf: [applier.fieldManager],
  });
  reflectors.push(r);
  r.start();
  return r;
}

const labels = { "app.kubernetes.io/name": "shop", "app.kubernetes.io/component": "web" };

/** A Deployment with the shapes that trip naive comparisons: quantities, empty lists, defaulted keys. */
function deployment(extra: { labels?: Record<string, string>; image?: string } = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "shop-web", namespace, labels: { ...labels, ...extra.labels } },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels },
        spec: {
          securityContext: { runAsNonRoot: true },
          containers: [
            {
              name: "web",
              image: extra.image ?? "registry.example.com/shop:1",
              args: [],
              env: [{ name: "A", value: "1" }],
              ports: [{ name: "http", containerPort: 8080 }],
              resources: {
                requests: { cpu: "100m", memory: "64Mi" },
                limits: { cpu: "1000m", memory: "0.5Gi", "ephemeral-storage": "128Mi" },
              },
              securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: "128Mi" } }],
        },
      },
    },
  };
}

function service(): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "shop-web", namespace, labels },
    spec: {
      type: "ClusterIP",
      sessionAffinity: "None",
      selector: labels,
      ports: [{ name: "http", port: 80, targetPort: "http" }],
    },
  };
}

/** Waits until the store shows a version at least as new as `written` (the watch caught up). */
async function caughtUp(r: Reflector, written: KubeObject | undefined): Promise<KubeObject> {
  const key = `${namespace}/${written?.metadata?.name}`;
  const rv = written?.metadata?.resourceVersion;
  return eventually(
    async () => {
      const live = r.store.get(key);
      return live !== undefined && live.metadata?.resourceVersion === rv ? live : undefined;
    },
    { what: `the cache to show ${key}@${rv}` },
  );
}

beforeAll(async () => {
  namespace = await createTestNamespace("apply");
  const extensions = kc.makeApiClient(ApiextensionsV1Api);
  await extensions.createCustomResourceDefinition({
    body: {
      metadata: { name: `widgets.${group}` },
      spec: {
        group,
        scope: "Namespaced",
        names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: {
                  spec: { type: "object", x_kubernetes_preserve_unknown_fields: true },
                  status: { type: "object", x_kubernetes_preserve_unknown_fields: true },
                },
              },
            },
          },
        ],
      },
    },
  });
  afterAll(() =>
    extensions.deleteCustomResourceDefinition({ name: `widgets.${group}` }).catch(() => {}),
  );
  await eventually(
    () =>
      requestJson(http.transport, { method: "GET", path: resourcePath(widgetType, { namespace }) }),
    { what: "the Widget CRD to be served" },
  );
});

afterAll(async () => {
  await Promise.all(reflectors.map((r) => r.stop()));
});

describe("server-side apply on a real apiserver", () => {
  test("the first apply writes; the same apply against the cache writes nothing", async () => {
    const deployments = watch(builtinResources.deployment);
    const services = watch(builtinResources.service);
    await Promise.all([deployments.whenSynced(), services.whenSynced()]);
    http.reset();
    const d = await applier.apply(deployment(), {
      live: deployments.store.get(`${namespace}/shop-web`),
    });
    const s = await applier.apply(service(), { live: services.store.get(`${namespace}/shop-web`) });
    expect([d.written, s.written]).toEqual([true, true]);
    expect(http.counts.get("apply")).toBe(2);

    const liveD = await caughtUp(deployments, d.object);
    const liveS = await caughtUp(services, s.object);
    // The cache kept only our managedFields entry.
    expect(liveD.metadata?.managedFields?.map((m) => m.manager)).toEqual(["stateless-operator"]);
    http.reset();
    for (let i = 0; i < 3; i++) {
      expect((await applier.apply(deployment(), { live: liveD })).written).toBe(false);
      expect((await applier.apply(service(), { live: liveS })).written).toBe(false);
    }
    expect(http.writes()).toBe(0);
  });

  test("drift by another field manager is detected and corrected by one apply", async () => {
    const deployments = watch(builtinResources.deployment);
    await deployments.whenSynced();
    const before = deployments.store.get(`${namespace}/shop-web`);
    await kc.makeApiClient(AppsV1Api).patchNamespacedDeployment({
      name: "shop-web",
      namespace,
      body: [{ op: "replace", path: "/spec/template/spec/containers/0/image", value: "evil:1" }],
    });
    const drifted = await eventually(
      async () => {
        const live = deployments.store.get(`${namespace}/shop-web`);
        return live?.metadata?.resourceVersion !== before?.metadata?.resourceVersion
          ? live
          : undefined;
      },
      { what: "the drift to reach the cache" },
    );
    http.reset();
    const fixed = await applier.apply(deployment(), { live: drifted });
    expect(fixed.written).toBe(true);
    expect(fixed.reason).toMatch(/image/);
    expect(http.writes()).toBe(1);
    const live = await caughtUp(deployments, fixed.object);
    expect(
      (live.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec
        .containers[0]?.image,
    ).toBe("registry.example.com/shop:1");
    expect((await applier.apply(deployment(), { live })).written).toBe(false);
  });

  test("a label another manager adds is left alone; a label we stop setting is removed", async () => {
    const deployments = watch(builtinResources.deployment);
    await deployments.whenSynced();
    // Another manager applies its own label.
    await requestJson(http.transport, {
      method: "PATCH",
      path: resourcePath(builtinResources.deployment, { namespace, name: "shop-web" }),
      query: { fieldManager: "someone-else" },
      contentType: "application/apply-patch+yaml",
      body: JSON.stringify({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "shop-web", namespace, labels: { team: "a" } },
      }),
    });
    let live = await eventually(
      async () => {
        const l = deployments.store.get(`${namespace}/shop-web`);
        return l?.metadata?.labels?.team === "a" ? l : undefined;
      },
      { what: "the other manager's label" },
    );
    http.reset();
    expect((await applier.apply(deployment(), { live })).written).toBe(false);

    // We add a label, then stop setting it: the second apply removes it.
    const added = await applier.apply(deployment({ labels: { tier: "frontend" } }), { live });
    live = await caughtUp(deployments, added.object);
    expect(live.metadata?.labels?.tier).toBe("frontend");
    const removed = await applier.apply(deployment(), { live });
    expect(removed).toMatchObject({ written: true });
    expect(removed.reason).toMatch(/no longer sets .*tier/);
    live = await caughtUp(deployments, removed.object);
    expect(live.metadata?.labels).not.toHaveProperty("tier");
    expect(live.metadata?.labels?.team).toBe("a");
    expect((await applier.apply(deployment(), { live })).written).toBe(false);
    expect(http.writes()).toBe(2);
  });

  test("status is applied through /status, skipped when unchanged, and fields we drop are removed", async () => {
    const widgets = watch(widgetType);
    await widgets.whenSynced();
    const widget: KubeObject = {
      apiVersion: `${group}/v1`,
      kind: "Widget",
      metadata: { name: "w", namespace },
      spec: { size: 1 },
    };
    const created = await applier.apply(widget);
    let live = await caughtUp(widgets, created.object);
    http.reset();
    const status = {
      observedGeneration: 1,
      summary: "ok",
      conditions: [{ type: "Ready", status: "True" }],
    };
    const first = await applier.applyStatus(live, status, { live });
    expect(first.written).toBe(true);
    expect(http.counts.get("apply-status")).toBe(1);
    live = await caughtUp(widgets, first.object);
    expect(live.status).toEqual(status);
    expect((await applier.applyStatus(live, status, { live })).written).toBe(false);
    const { summary: _dropped, ...withoutSummary } = status;
    const second = await applier.applyStatus(live, withoutSummary, { live });
    expect(second.written).toBe(true);
    live = await caughtUp(widgets, second.object);
    expect(live.status).toEqual(withoutSummary);
    // The spec was not touched by the status writes.
    expect(live.spec).toEqual({ size: 1 });
    expect(http.writes()).toBe(2);
  });

  test("delete needs the uid to match and reports an object already gone", async () => {
    const cm = await applier.apply({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "doomed", namespace },
      data: { a: "1" },
    });
    const uid = cm.object?.metadata?.uid;
    expect(uid).toBeTruthy();
    const wrong = {
      ...cm.object,
      metadata: { ...cm.object?.metadata, uid: "00000000-0000-0000-0000-000000000000" },
    };
    await expect(applier.delete(wrong)).rejects.toMatchObject({ code: 409 });
    expect(await applier.delete(cm.object ?? {})).toBe(true);
    await eventually(async () => (await applier.delete(cm.object ?? {})) === false, {
      what: "the ConfigMap to be gone",
    });
  });
});
