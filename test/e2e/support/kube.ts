// A small raw-JSON client on any kubeconfig (the shared e2e cluster or a test's own), for users and checks.

import { type HttpTransport, type KubeObject, requestJson } from "../../../src/runtime/index.ts";
import { transportOf } from "../../support/connection.ts";

const COLLECTIONS: Record<string, { prefix: string; plural: string; namespaced: boolean }> = {
  StatelessApp: {
    prefix: "/apis/twelvefactor.dev/v1alpha1",
    plural: "statelessapps",
    namespaced: true,
  },
  Secret: { prefix: "/api/v1", plural: "secrets", namespaced: true },
  Service: { prefix: "/api/v1", plural: "services", namespaced: true },
  Pod: { prefix: "/api/v1", plural: "pods", namespaced: true },
  Event: { prefix: "/api/v1", plural: "events", namespaced: true },
  Namespace: { prefix: "/api/v1", plural: "namespaces", namespaced: false },
  Deployment: { prefix: "/apis/apps/v1", plural: "deployments", namespaced: true },
  ReplicaSet: { prefix: "/apis/apps/v1", plural: "replicasets", namespaced: true },
  PodDisruptionBudget: {
    prefix: "/apis/policy/v1",
    plural: "poddisruptionbudgets",
    namespaced: true,
  },
  HorizontalPodAutoscaler: {
    prefix: "/apis/autoscaling/v2",
    plural: "horizontalpodautoscalers",
    namespaced: true,
  },
  Lease: { prefix: "/apis/coordination.k8s.io/v1", plural: "leases", namespaced: true },
  EventsV1: { prefix: "/apis/events.k8s.io/v1", plural: "events", namespaced: true },
  CustomResourceDefinition: {
    prefix: "/apis/apiextensions.k8s.io/v1",
    plural: "customresourcedefinitions",
    namespaced: false,
  },
};

/** The REST path of an object (with a name) or a collection (without); no namespace: all namespaces. */
export function pathOf(kind: string, namespace?: string, name?: string): string {
  const c = COLLECTIONS[kind];
  if (c === undefined) throw new Error(`no path for kind ${kind}`);
  const ns = c.namespaced && namespace !== undefined ? `/namespaces/${namespace}` : "";
  return `${c.prefix}${ns}/${c.plural}${name === undefined ? "" : `/${name}`}`;
}

export const codeOf = (error: unknown): number | undefined =>
  (error as { code?: number } | undefined)?.code;

/** Admin access to one cluster. */
export class Kube {
  readonly kubeconfigPath: string;
  readonly transport: HttpTransport;

  constructor(kubeconfigPath: string, options: { timeoutMs?: number } = {}) {
    this.kubeconfigPath = kubeconfigPath;
    this.transport = transportOf(kubeconfigPath, { timeoutMs: options.timeoutMs ?? 30_000 });
  }

  /** Server-side apply as `manager` (forced unless told otherwise), with strict field validation. */
  async apply<T = KubeObject>(
    object: KubeObject,
    manager = "e2e-user",
    options: { force?: boolean } = {},
  ): Promise<T> {
    return requestJson<T>(this.transport, {
      method: "PATCH",
      path: pathOf(object.kind ?? "", object.metadata?.namespace, object.metadata?.name),
      query: { fieldManager: manager, force: options.force ?? true, fieldValidation: "Strict" },
      contentType: "application/apply-patch+yaml",
      body: JSON.stringify(object),
    });
  }

  async get<T = KubeObject>(kind: string, namespace: string, name: string): Promise<T | undefined> {
    try {
      return await requestJson<T>(this.transport, {
        method: "GET",
        path: pathOf(kind, namespace, name),
      });
    } catch (error) {
      if (codeOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** Lists a kind in a namespace (or all namespaces), optionally by label selector. */
  async list<T = KubeObject>(
    kind: string,
    namespace?: string,
    labelSelector?: string,
  ): Promise<T[]> {
    const list = await requestJson<{ items: T[] }>(this.transport, {
      method: "GET",
      path: pathOf(kind, namespace),
      ...(labelSelector === undefined ? {} : { query: { labelSelector } }),
    });
    return list.items;
  }

  /** JSON merge patch as `manager` (an Update operation, not an apply). */
  async mergePatch<T = KubeObject>(
    kind: string,
    namespace: string,
    name: string,
    patch: unknown,
    manager = "e2e-user",
  ): Promise<T> {
    return requestJson<T>(this.transport, {
      method: "PATCH",
      path: pathOf(kind, namespace, name),
      query: { fieldManager: manager },
      contentType: "application/merge-patch+json",
      body: JSON.stringify(patch),
    });
  }

  /** PUT with the object's resourceVersion: fails with 409 when someone wrote in between. */
  async update<T = KubeObject>(object: KubeObject, manager = "e2e-user"): Promise<T> {
    return requestJson<T>(this.transport, {
      method: "PUT",
      path: pathOf(object.kind ?? "", object.metadata?.namespace, object.metadata?.name),
      query: { fieldManager: manager },
      contentType: "application/json",
      body: JSON.stringify(object),
    });
  }

  /** Deletes (background propagation); false when it was already gone. */
  async delete(kind: string, namespace: string | undefined, name: string): Promise<boolean> {
    try {
      await requestJson(this.transport, {
        method: "DELETE",
        path: pathOf(kind, namespace, name),
      });
      return true;
    } catch (error) {
      if (codeOf(error) === 404) return false;
      throw error;
    }
  }
}

export type WatchEvent<T> = { type: string; object: T };

/**
 * Records every change of a kind in a namespace from now on (list, then watch, resuming after the
 * server closes the stream): an observer independent of the operator's own caches.
 */
export class Recorder<T extends KubeObject = KubeObject> {
  readonly events: { at: number; type: string; object: T }[] = [];
  readonly #stop = new AbortController();
  readonly #done: Promise<void>;
  #error: unknown;

  constructor(
    kube: Kube,
    kind: string,
    namespace: string,
    options: { labelSelector?: string; onEvent?: (event: WatchEvent<T>) => void } = {},
  ) {
    this.#done = this.#run(kube, kind, namespace, options).catch((error: unknown) => {
      if (!this.#stop.signal.aborted) this.#error = error;
    });
  }

  /** Objects as of the last event, by name. */
  latest(): Map<string, T> {
    const byName = new Map<string, T>();
    for (const e of this.events) {
      const name = e.object.metadata?.name ?? "";
      if (e.type === "DELETED") byName.delete(name);
      else byName.set(name, e.object);
    }
    return byName;
  }

  /** Throws when the watch failed (rather than silently recording nothing). */
  check(): void {
    if (this.#error !== undefined) throw new Error(`watch failed: ${String(this.#error)}`);
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#done;
  }

  async #run(
    kube: Kube,
    kind: string,
    namespace: string,
    options: { labelSelector?: string; onEvent?: (event: WatchEvent<T>) => void },
  ): Promise<void> {
    const selector =
      options.labelSelector === undefined ? {} : { labelSelector: options.labelSelector };
    const list = await requestJson<{ metadata: { resourceVersion: string }; items: T[] }>(
      kube.transport,
      { method: "GET", path: pathOf(kind, namespace), query: selector },
    );
    for (const object of list.items) this.#record({ type: "ADDED", object }, options.onEvent);
    let resourceVersion = list.metadata.resourceVersion;
    while (!this.#stop.signal.aborted) {
      const response = await kube.transport({
        method: "GET",
        path: pathOf(kind, namespace),
        query: { ...selector, watch: true, resourceVersion, allowWatchBookmarks: true },
        streaming: true,
        signal: this.#stop.signal,
      });
      if (response.status !== 200) {
        throw new Error(`watch ${kind}: HTTP ${response.status} ${await response.text()}`);
      }
      for await (const line of response.lines()) {
        const event = JSON.parse(line) as WatchEvent<T>;
        if (event.type === "ERROR") throw new Error(`watch ${kind}: ${line}`);
        resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
        if (event.type !== "BOOKMARK") this.#record(event, options.onEvent);
      }
    }
  }

  #record(event: WatchEvent<T>, onEvent?: (event: WatchEvent<T>) => void): void {
    this.events.push({ at: Date.now(), type: event.type, object: event.object });
    onEvent?.(event);
  }
}
