// The reflector and the HTTP list/watch against a real kube-apiserver.
import { CoreV1Api } from "@kubernetes/client-node";
import { afterEach, beforeAll, describe, expect, test } from "vitest";
import {
  builtinResources,
  httpListWatch,
  Reflector,
  type StoreEvent,
} from "../../../src/runtime/index.ts";
import {
  adminKubeConfig,
  createTestNamespace,
  eventually,
  printClusterLogsOnFailure,
} from "../../support/cluster.ts";
import { countingTransport } from "./helpers.ts";

printClusterLogsOnFailure();

const core = adminKubeConfig().makeApiClient(CoreV1Api);
let namespace: string;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  namespace = await createTestNamespace("reflector");
  for (const name of ["a", "b", "c", "d", "e"]) {
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name }, data: { v: name } },
    });
  }
});

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

describe("Reflector on a real apiserver", () => {
  test("lists page by page, then follows creates, updates and deletes", async () => {
    const http = countingTransport();
    const reflector = new Reflector({
      resource: builtinResources.configMap,
      source: httpListWatch(http.transport, builtinResources.configMap),
      namespaces: [namespace],
      pageSize: 2,
    });
    const events: string[] = [];
    reflector.subscribe((e: StoreEvent) => events.push(`${e.type}:${e.object.metadata?.name}`));
    reflector.start();
    stops.push(() => reflector.stop());
    await reflector.whenSynced();
    // 5 ConfigMaps (plus kube-root-ca.crt when a controller-manager runs) in pages of 2.
    expect(http.counts.get("list")).toBeGreaterThanOrEqual(3);
    const stored = reflector.store.get(`${namespace}/a`);
    expect(stored).toMatchObject({ apiVersion: "v1", kind: "ConfigMap", data: { v: "a" } });
    expect(stored?.metadata).not.toHaveProperty("managedFields");

    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: "f" }, data: { v: "f" } },
    });
    await core.patchNamespacedConfigMap({
      namespace,
      name: "a",
      body: [{ op: "replace", path: "/data/v", value: "a2" }],
    });
    await core.deleteNamespacedConfigMap({ namespace, name: "b" });
    await eventually(
      async () =>
        reflector.store.get(`${namespace}/b`) === undefined &&
        reflector.store.get(`${namespace}/f`),
      {
        what: "the watch to deliver the changes",
      },
    );
    await eventually(
      async () =>
        (reflector.store.get(`${namespace}/a`)?.data as { v?: string } | undefined)?.v === "a2",
      {
        what: "the update",
      },
    );
    expect(events).toEqual(expect.arrayContaining(["add:f", "update:a", "delete:b"]));
    // Watch events are plain JSON of the same shape as list items.
    expect(reflector.store.get(`${namespace}/f`)).toMatchObject({
      apiVersion: "v1",
      kind: "ConfigMap",
    });
    expect(http.counts.get("list")).toBeLessThanOrEqual(4);
  });

  test("resumes after each server-side watch timeout without relisting", async () => {
    const http = countingTransport();
    const restarts: string[] = [];
    const reflector = new Reflector({
      resource: builtinResources.configMap,
      source: httpListWatch(http.transport, builtinResources.configMap),
      namespaces: [namespace],
      watchTimeoutSeconds: { min: 2, max: 2 },
      minHealthyWatchMs: 1_000,
      metrics: { watchRestarted: (why) => restarts.push(why) },
    });
    reflector.start();
    stops.push(() => reflector.stop());
    await reflector.whenSynced();
    await eventually(async () => (http.counts.get("watch") ?? 0) >= 3, {
      timeoutMs: 20_000,
      what: "watch restarts",
    });
    expect(http.counts.get("list")).toBe(1);
    expect(new Set(restarts)).toEqual(new Set(["closed"]));
    // Still following changes on the resumed watch.
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: "after-restarts" } },
    });
    await eventually(async () => reflector.store.get(`${namespace}/after-restarts`), {
      what: "the new object",
    });
  });

  test("a streaming list (sendInitialEvents) fills the store with no list request, then follows changes", async () => {
    for (const name of ["s1", "s2", "s3"]) {
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name, labels: { stream: "yes" } }, data: { v: name } },
      });
    }
    const http = countingTransport();
    const events: string[] = [];
    const reflector = new Reflector({
      resource: builtinResources.configMap,
      source: httpListWatch(http.transport, builtinResources.configMap),
      namespaces: [namespace],
      labelSelector: "stream=yes",
      streamingList: true,
    });
    reflector.subscribe((e: StoreEvent) => events.push(`${e.type}:${e.object.metadata?.name}`));
    reflector.start();
    stops.push(() => reflector.stop());
    await reflector.whenSynced();
    expect(reflector.store.keys().sort()).toEqual(
      ["s1", "s2", "s3"].map((n) => `${namespace}/${n}`),
    );
    expect(events.sort()).toEqual(["add:s1", "add:s2", "add:s3"]);
    expect(http.counts.get("list")).toBeUndefined();
    expect(http.counts.get("watch")).toBe(1);
    const stored = reflector.store.get(`${namespace}/s1`);
    expect(stored).toMatchObject({ apiVersion: "v1", kind: "ConfigMap", data: { v: "s1" } });
    expect(stored?.metadata).not.toHaveProperty("managedFields");

    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: "s4", labels: { stream: "yes" } } },
    });
    await core.deleteNamespacedConfigMap({ namespace, name: "s2" });
    await eventually(
      async () =>
        reflector.store.get(`${namespace}/s4`) !== undefined &&
        reflector.store.get(`${namespace}/s2`) === undefined,
      { what: "the stream to deliver the changes after its initial events" },
    );
    expect(events).toEqual(expect.arrayContaining(["add:s4", "delete:s2"]));
    // The same connection went on watching: no second watch, no list.
    expect(http.counts.get("watch")).toBe(1);
    expect(http.counts.get("list")).toBeUndefined();
  });
});
