// Runs the StatelessApp operator in the test process against the tier's cluster, with a request log.

import { type Operator, startOperator } from "../../src/app/operator.ts";
import { installCrd as installStatelessAppCrd } from "../../src/cli/install-crd.ts";
import {
  type HttpTransport,
  instrumentTransport,
  type KubeObject,
  type Logger,
  type PooledTransport,
  requestJson,
  silentLogger,
} from "../../src/runtime/index.ts";
import { eventually, providedCluster } from "./cluster.ts";
import { transportOf } from "./connection.ts";
import { createTenant } from "./tenant.ts";

const WRITE_VERBS = new Set(["apply", "apply-status", "patch", "create", "update", "delete"]);

export interface RequestLog {
  readonly transport: HttpTransport;
  /** The pools of the transport underneath. */
  readonly connections: PooledTransport;
  /** Requests per verb since the last reset. */
  readonly counts: Map<string, number>;
  /** Every write since the last reset: `verb path`. */
  readonly writes: string[];
  /** Every request since the last reset: `verb path`. */
  readonly requested: string[];
  reset(): void;
}

/** A transport (the admin kubeconfig's unless given) that records every request it makes. */
export function recordingTransport(
  inner: PooledTransport = transportOf(providedCluster().kubeconfig),
): RequestLog {
  const counts = new Map<string, number>();
  const writes: string[] = [];
  const requested: string[] = [];
  const counted = instrumentTransport(inner, {
    request: (verb) => counts.set(verb, (counts.get(verb) ?? 0) + 1),
  });
  const transport: HttpTransport = (request) => {
    const verb = request.verb ?? request.method.toLowerCase();
    requested.push(`${verb} ${request.path}`);
    if (
      WRITE_VERBS.has(verb) &&
      !request.path.includes("/leases/") &&
      !request.path.includes("/events")
    ) {
      writes.push(`${verb} ${request.path}`);
    }
    return counted(request);
  };
  return {
    transport,
    connections: inner,
    counts,
    writes,
    requested,
    reset: () => {
      counts.clear();
      writes.splice(0);
      requested.splice(0);
    },
  };
}

/** The admin's raw API access, for tests that play the user or another controller. */
export function adminTransport(): HttpTransport {
  return transportOf(providedCluster().kubeconfig);
}

/**
 * A transport acting as a new user with only the shipped stateless-operator-edit role in
 * `namespace` (support/tenant.ts): the hostile tenant of docs/operations.md.
 */
export async function tenantTransport(namespace: string): Promise<HttpTransport> {
  const t = await createTenant(
    { kubeconfig: providedCluster().kubeconfig, transport: adminTransport() },
    namespace,
  );
  return transportOf(t.kubeconfig);
}

/** Installs (server-side applies) the StatelessApp CRD and waits until it is Established. */
export async function installCrd(transport: HttpTransport = adminTransport()): Promise<void> {
  await installStatelessAppCrd(transport, "test-setup");
}

export interface TestOperator {
  readonly operator: Operator;
  readonly requests: RequestLog;
  /** Reconciles finished so far (any result). */
  reconciles(): number;
  stop(): Promise<void>;
}

export interface TestOperatorOptions {
  readonly namespaces: readonly string[];
  readonly leaderElection?: { name: string; namespace: string; identity: string };
  readonly resyncPeriodMs?: number;
  readonly workers?: number;
  readonly logger?: Logger;
  readonly instance?: string;
  /** How the operator reaches the API server. @default the admin kubeconfig */
  readonly connections?: PooledTransport;
  /** Fill the caches from streaming lists (STREAMING_LISTS). @default the operator's default */
  readonly streamingList?: boolean;
}

export async function startTestOperator(options: TestOperatorOptions): Promise<TestOperator> {
  const requests = recordingTransport(options.connections);
  let reconciles = 0;
  const operator = startOperator({
    transport: requests.transport,
    connections: requests.connections,
    namespaces: options.namespaces,
    workers: options.workers ?? 2,
    resyncPeriodMs: options.resyncPeriodMs ?? 600_000,
    ...(options.leaderElection ? { leaderElection: options.leaderElection } : {}),
    instance: options.instance ?? "test",
    ...(options.streamingList === undefined
      ? {}
      : { reflector: { streamingList: options.streamingList } }),
    logger: options.logger ?? silentLogger,
    metrics: { reconcile: { reconciled: () => reconciles++, failed: () => {} } },
  });
  await eventually(async () => operator.notReady().length === 0, { what: "the operator's caches" });
  return { operator, requests, reconciles: () => reconciles, stop: () => operator.stop() };
}

/** Server-side applies objects as a user would (field manager `kubectl`). */
export async function applyAsUser(
  objects: readonly KubeObject[],
  manager = "kubectl",
): Promise<void> {
  for (const o of objects) {
    const kind = o.kind ?? "";
    await requestJson(adminTransport(), {
      method: "PATCH",
      verb: "apply",
      path: objectPath(o),
      query: { fieldManager: manager, force: true },
      contentType: "application/apply-patch+yaml",
      body: JSON.stringify(o),
    }).catch((error: unknown) => {
      throw new Error(`applying ${kind} ${o.metadata?.name}: ${String((error as Error).message)}`);
    });
  }
}

const PATHS: Record<string, (ns: string) => string> = {
  StatelessApp: (ns) => `/apis/twelvefactor.dev/v1alpha1/namespaces/${ns}/statelessapps`,
  Secret: (ns) => `/api/v1/namespaces/${ns}/secrets`,
  ConfigMap: (ns) => `/api/v1/namespaces/${ns}/configmaps`,
  Service: (ns) => `/api/v1/namespaces/${ns}/services`,
  Deployment: (ns) => `/apis/apps/v1/namespaces/${ns}/deployments`,
  PodDisruptionBudget: (ns) => `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`,
  HorizontalPodAutoscaler: (ns) => `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers`,
  Job: (ns) => `/apis/batch/v1/namespaces/${ns}/jobs`,
  Pod: (ns) => `/api/v1/namespaces/${ns}/pods`,
  Event: (ns) => `/apis/events.k8s.io/v1/namespaces/${ns}/events`,
  CustomResourceDefinition: () => "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
};

/** The REST path of an object, or of a kind's collection in a namespace (no name). */
export function objectPath(o: {
  kind?: string;
  metadata?: { namespace?: string; name?: string };
}): string {
  const base = PATHS[o.kind ?? ""];
  if (base === undefined) throw new Error(`no path for ${o.kind}`);
  const collection = base(o.metadata?.namespace ?? "default");
  return o.metadata?.name ? `${collection}/${o.metadata.name}` : collection;
}

/** GET an object; undefined when it does not exist. */
export async function getObject<T = KubeObject>(
  kind: string,
  namespace: string,
  name: string,
): Promise<T | undefined> {
  try {
    return await requestJson<T>(adminTransport(), {
      method: "GET",
      path: objectPath({ kind, metadata: { namespace, name } }),
    });
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}

export async function listObjects<T = KubeObject>(kind: string, namespace: string): Promise<T[]> {
  const list = await requestJson<{ items: T[] }>(adminTransport(), {
    method: "GET",
    path: objectPath({ kind, metadata: { namespace } }),
  });
  return list.items;
}

export async function deleteObject(kind: string, namespace: string, name: string): Promise<void> {
  await requestJson(adminTransport(), {
    method: "DELETE",
    path: objectPath({ kind, metadata: { namespace, name } }),
  }).catch((error: unknown) => {
    if ((error as { code?: number }).code !== 404) throw error;
  });
}

/** The parts of a StatelessApp the tests read back. */
export interface AppView {
  readonly metadata: { readonly generation: number };
  readonly status?: {
    readonly observedGeneration?: number;
    readonly conditions?: readonly {
      type: string;
      status: string;
      reason: string;
      message: string;
      observedGeneration?: number;
    }[];
    readonly summary?: string;
    readonly processes?: readonly unknown[];
    readonly bindings?: readonly unknown[];
    readonly release?: { readonly image: string; readonly job: string; readonly state: string };
  };
}

export const conditionOf = (app: AppView | undefined, type: string) =>
  app?.status?.conditions?.find((c) => c.type === type);

/** Waits until the app's status reflects its current generation and `check` holds. */
export async function settledApp(
  namespace: string,
  name: string,
  check: (app: AppView) => boolean = () => true,
): Promise<AppView> {
  return eventually(
    async () => {
      const app = await getObject<AppView>("StatelessApp", namespace, name);
      return app !== undefined &&
        app.status?.observedGeneration === app.metadata.generation &&
        check(app)
        ? app
        : undefined;
    },
    { what: `StatelessApp ${namespace}/${name} to settle` },
  );
}
