// A small controller built from the runtime (ConfigMap → owned Secret) on a real kube-apiserver.
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  Applier,
  awaitChange,
  builtinResources,
  Controller,
  EventRecorder,
  httpClient,
  httpListWatch,
  type KubeObject,
  parseKey,
  Reflector,
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
const http = countingTransport();
const applier = new Applier({ client: httpClient(http.transport) });
let namespace: string;
let controller: Controller;
let reconciles = 0;

/** Desired: a Secret `<cm>-copy` holding the ConfigMap's data, controlled by the ConfigMap. */
function copyOf(cm: KubeObject): KubeObject {
  const data = (cm.data ?? {}) as Record<string, string>;
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: `${cm.metadata?.name}-copy`,
      namespace: cm.metadata?.namespace,
      ownerReferences: [
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          name: cm.metadata?.name ?? "",
          uid: cm.metadata?.uid ?? "",
          controller: true,
        },
      ],
    },
    type: "Opaque",
    stringData: undefined,
    data: Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
    ),
  };
}

beforeAll(async () => {
  namespace = await createTestNamespace("controller");
  const common = { namespaces: [namespace], keepManagedFieldsOf: [applier.fieldManager] };
  const configMaps = new Reflector({
    resource: builtinResources.configMap,
    source: httpListWatch(http.transport, builtinResources.configMap),
    labelSelector: "runtime-test=copy",
    ...common,
  });
  const secrets = new Reflector({
    resource: builtinResources.secret,
    source: httpListWatch(http.transport, builtinResources.secret),
    ...common,
  });
  controller = new Controller({
    name: "copier",
    primary: configMaps,
    owns: [secrets],
    workers: 2,
    resyncIntervalMs: 0,
    reconcile: async (key) => {
      reconciles++;
      const cm = configMaps.store.get(key);
      if (cm === undefined) return awaitChange();
      const desired = copyOf(cm);
      const { namespace: ns } = parseKey(key);
      await applier.apply(desired, { live: secrets.store.get(`${ns}/${desired.metadata?.name}`) });
      return awaitChange();
    },
  });
  controller.startCaches();
  await controller.startWorkers();
});

afterAll(async () => {
  await controller.shutdown();
});

const copyData = async (name: string) =>
  (await core.readNamespacedSecret({ name: `${name}-copy`, namespace }).catch(() => undefined))
    ?.data;

describe("Controller on a real apiserver", () => {
  test("reconciles a new primary into its child, then a resync of converged objects writes nothing", async () => {
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: "a", labels: { "runtime-test": "copy" } }, data: { k: "v1" } },
    });
    await eventually(
      async () => (await copyData("a"))?.k === Buffer.from("v1").toString("base64"),
      {
        what: "the copy Secret",
      },
    );
    // Let the Secret's own watch event (which reconciles the owner again) settle.
    await eventually(async () => controller.queue.length === 0 && controller.queue.inFlight === 0, {
      what: "an idle queue",
    });
    await new Promise((r) => setTimeout(r, 500));
    http.reset();
    const before = reconciles;
    for (const key of controller.reflectors[0]?.store.keys() ?? []) controller.enqueue(key);
    await eventually(async () => reconciles > before && controller.queue.inFlight === 0, {
      what: "the resync",
    });
    expect(http.writes()).toBe(0);
  });

  test("a deleted child is recreated and a tampered child is restored", async () => {
    await core.deleteNamespacedSecret({ name: "a-copy", namespace });
    await eventually(async () => (await copyData("a"))?.k !== undefined, {
      what: "the Secret to be recreated",
    });
    await core.patchNamespacedSecret({
      name: "a-copy",
      namespace,
      body: [{ op: "replace", path: "/data/k", value: Buffer.from("tampered").toString("base64") }],
    });
    await eventually(
      async () => (await copyData("a"))?.k === Buffer.from("v1").toString("base64"),
      {
        what: "the Secret data to be restored",
      },
    );
  });

  test("a change to the primary flows to the child", async () => {
    await core.patchNamespacedConfigMap({
      name: "a",
      namespace,
      body: [{ op: "replace", path: "/data/k", value: "v2" }],
    });
    await eventually(
      async () => (await copyData("a"))?.k === Buffer.from("v2").toString("base64"),
      {
        what: "the updated copy",
      },
    );
  });
});

describe("EventRecorder on a real apiserver", () => {
  test("creates an events.k8s.io/v1 Event and counts repeats in its series", async () => {
    const cm = await core.readNamespacedConfigMap({ name: "a", namespace });
    const regarding: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { ...cm.metadata } as KubeObject["metadata"],
    };
    const recorder = new EventRecorder({
      transport: http.transport,
      reportingController: "twelvefactor.dev/stateless-operator",
      reportingInstance: "test-pod",
      seriesUpdateIntervalMs: 100,
    });
    const input = {
      regarding,
      type: "Warning",
      reason: "DriftCorrected",
      action: "Apply",
      note: "restored image",
    } as const;
    recorder.record(input);
    await recorder.flush();
    recorder.record(input);
    recorder.record(input);
    await eventually(
      async () => {
        await recorder.flush();
        const list = await core.listNamespacedEvent({
          namespace,
          fieldSelector: `involvedObject.name=a,reason=DriftCorrected`,
        });
        const e = list.items[0];
        return list.items.length === 1 && e?.series?.count === 3 ? e : undefined;
      },
      { what: "the Event with a series of 3" },
    );
    const list = await core.listNamespacedEvent({
      namespace,
      fieldSelector: "involvedObject.name=a",
    });
    const e = list.items.find((x) => x.reason === "DriftCorrected");
    expect(e?.type).toBe("Warning");
    expect(e?.message).toBe("restored image");
    expect(e?.reportingComponent).toBe("twelvefactor.dev/stateless-operator");
    recorder.close();
  });
});
