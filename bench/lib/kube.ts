// The benchmark's own API access: a transport on a kubeconfig file, namespaces, the CRD, app manifests.

import { parseStatelessApp } from "../../src/api/index.ts";
import { desired } from "../../src/app/render/index.ts";
import { installCrd as installStatelessAppCrd } from "../../src/cli/install-crd.ts";
import { loadConnectionSync } from "../../src/platform/kube/index.ts";
import {
  connectionTransport,
  type HttpTransport,
  type KubeObject,
  requestJson,
} from "../../src/runtime/index.ts";
import { type AppRef, forEachConcurrently } from "./spread.ts";

/** A collection in namespace `ns`, or across every namespace when `ns` is undefined. */
const collection = (group: string, plural: string) => (ns?: string) =>
  ns === undefined ? `${group}/${plural}` : `${group}/namespaces/${ns}/${plural}`;

export const APPS_PATH = collection("/apis/twelvefactor.dev/v1alpha1", "statelessapps");
export const DEPLOYMENTS_PATH = collection("/apis/apps/v1", "deployments");
export const SERVICES_PATH = collection("/api/v1", "services");

/** The transport the operator uses (its connection loader, one keep-alive pool, raw JSON). */
export function transportFor(kubeconfigPath: string): HttpTransport {
  return connectionTransport(loadConnectionSync({}, { path: kubeconfigPath }), {
    timeoutMs: 120_000,
  });
}

export async function createNamespace(transport: HttpTransport, name: string): Promise<void> {
  await requestJson(transport, {
    method: "POST",
    verb: "create",
    path: "/api/v1/namespaces",
    contentType: "application/json",
    body: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name } }),
  });
}

/** Server-side applies the StatelessApp CRD and waits until it is Established. */
export async function installCrd(transport: HttpTransport): Promise<void> {
  await installStatelessAppCrd(transport, "bench");
  // The discovery and the storage of a new CRD settle shortly after Established.
  await sleep(1000);
}

export const appName = (i: number) => `app-${String(i).padStart(5, "0")}`;

/** The benchmark's app: one web process with one port, so a Deployment and a Service (no PDB). */
export function appManifest(
  namespace: string,
  name: string,
  image = "registry.example.com/bench:1.0.0",
) {
  return {
    apiVersion: "twelvefactor.dev/v1alpha1",
    kind: "StatelessApp",
    metadata: { name, namespace },
    spec: {
      image,
      processes: [
        {
          name: "web",
          command: ["node", "server.js"],
          replicas: 1,
          ports: [{ name: "http", containerPort: 8080, servicePort: 80 }],
        },
      ],
    },
  };
}

export async function createApp(
  transport: HttpTransport,
  namespace: string,
  name: string,
): Promise<KubeObject> {
  return requestJson<KubeObject>(transport, {
    method: "POST",
    verb: "create",
    path: APPS_PATH(namespace),
    contentType: "application/json",
    body: JSON.stringify(appManifest(namespace, name)),
  });
}

/** Creates apps 0..n-1 with `concurrency` requests in flight; returns how long it took. */
export function createApps(
  transport: HttpTransport,
  namespace: string,
  n: number,
  concurrency: number,
  progress?: (done: number) => void,
  options: { pods?: boolean } = {},
): Promise<number> {
  const apps = Array.from({ length: n }, (_, i) => ({ namespace, name: appName(i) }));
  return createAppsAt(transport, apps, concurrency, {
    ...options,
    ...(progress ? { progress } : {}),
  });
}

/**
 * Creates each app (and, with `pods`, its pod) with `concurrency` requests in flight, in any
 * namespaces; returns how long it took.
 */
export async function createAppsAt(
  transport: HttpTransport,
  apps: readonly AppRef[],
  concurrency: number,
  options: { pods?: boolean; progress?: (done: number) => void } = {},
): Promise<number> {
  const started = performance.now();
  let done = 0;
  await forEachConcurrently(apps, concurrency, async ({ namespace, name }) => {
    const app = await createApp(transport, namespace, name);
    if (options.pods === true) {
      await requestJson(transport, {
        method: "POST",
        verb: "create",
        path: PODS_PATH(namespace),
        contentType: "application/json",
        body: JSON.stringify(podManifest(app)),
      });
    }
    done++;
    if (done % 1000 === 0) options.progress?.(done);
  });
  return performance.now() - started;
}

/** Creates the namespaces, `concurrency` at a time. */
export async function createNamespaces(
  transport: HttpTransport,
  names: readonly string[],
  concurrency: number,
): Promise<void> {
  await forEachConcurrently(names, concurrency, (name) => createNamespace(transport, name));
}

export const PODS_PATH = collection("/api/v1", "pods");

/**
 * The pod the ReplicaSet controller would create for app `created` (the API server's answer to
 * its create): the rendered template's labels and spec, owned by a ReplicaSet of its Deployment,
 * on a node that does not exist (so it stays Pending: the benchmark's tier runs no kubelet).
 */
export function podManifest(created: KubeObject): KubeObject {
  const parsed = parseStatelessApp(created);
  if (!parsed.ok) throw new Error(`bench app ${created.metadata?.name} does not parse`);
  const deployment = desired(parsed.value, {
    bindings: { resolved: [], hash: "" },
  }).objects.find((o) => o.kind === "Deployment") as
    | {
        metadata: { name: string };
        spec: { template: { metadata: KubeObject["metadata"]; spec: object } };
      }
    | undefined;
  if (deployment === undefined) throw new Error("the bench app renders no Deployment");
  const hash = "7c9d8b6f5";
  const template = deployment.spec.template;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `${deployment.metadata.name}-${hash}-x1`,
      namespace: created.metadata?.namespace,
      labels: { ...template.metadata?.labels, "pod-template-hash": hash },
      annotations: template.metadata?.annotations,
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: `${deployment.metadata.name}-${hash}`,
          uid: "00000000-0000-0000-0000-000000000000",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { ...template.spec, nodeName: "bench-no-node" },
  } as KubeObject;
}

/** The collection's current resourceVersion (a one-item list). */
export async function currentVersion(transport: HttpTransport, path: string): Promise<string> {
  const list = await requestJson<{ metadata?: { resourceVersion?: string } }>(transport, {
    method: "GET",
    verb: "list",
    path,
    query: { limit: 1 },
  });
  const rv = list.metadata?.resourceVersion;
  if (rv === undefined) throw new Error(`no resourceVersion listing ${path}`);
  return rv;
}

/** Every object of a collection (paged). */
export async function listAll<T = KubeObject>(
  transport: HttpTransport,
  path: string,
): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page = await requestJson<{ items: T[]; metadata?: { continue?: string } }>(transport, {
      method: "GET",
      verb: "list",
      path,
      query: { limit: 500, continue: token },
    });
    items.push(...page.items);
    token = page.metadata?.continue || undefined;
  } while (token !== undefined);
  return items;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
