// StatelessApps for e2e scenarios: builders, convergence, the children each app must have, and secret leaks.

import type { KubeObject } from "../../../src/runtime/index.ts";
import type { Kube } from "./kube.ts";

/** The password in every binding Secret of the e2e suite: it must never show up anywhere else. */
export const PASSWORD = "Zq7rT9vX-e2e-redis-password-NEVER-LOG-4c1d";

export const MANAGED_BY = "app.kubernetes.io/managed-by=stateless-operator";

export type Condition = {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
};

export type ProcessSpec = {
  name: string;
  replicas?: number;
  ports?: { name: string; containerPort: number; servicePort?: number }[];
  command?: string[];
  [field: string]: unknown;
};

export type AppSpec = {
  image: string;
  processes: ProcessSpec[];
  backingServices?: { name: string; type: string; secretRef?: { name: string } }[];
  maxPodLifetime?: string;
  paused?: boolean;
  [field: string]: unknown;
};

export type App = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation: number;
    deletionTimestamp?: string;
  };
  spec: AppSpec;
  status?: {
    observedGeneration?: number;
    conditions?: Condition[];
    summary?: string;
    [field: string]: unknown;
  };
};

/** A Redis Secret in the layout the servicebinding.io spec describes, with PASSWORD. */
export function redisSecret(namespace: string, name = "redis", password = PASSWORD): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace },
    type: "Opaque",
    stringData: { host: `${name}.${namespace}.svc`, port: "6379", password },
  } as KubeObject;
}

export function statelessApp(namespace: string, name: string, spec: AppSpec): KubeObject {
  return {
    apiVersion: "twelvefactor.dev/v1alpha1",
    kind: "StatelessApp",
    metadata: { name, namespace },
    spec,
  } as KubeObject;
}

/** The example: a web process with a port and a worker, both bound to a Redis Secret. */
export function webWorkerSpec(
  options: { image?: string; web?: number; worker?: number; secret?: string } = {},
): AppSpec {
  return {
    image: options.image ?? "registry.example.com/shop:1.0.0",
    processes: [
      {
        name: "web",
        command: ["node", "server.js"],
        replicas: options.web ?? 2,
        ports: [{ name: "http", containerPort: 8080, servicePort: 80 }],
      },
      { name: "worker", command: ["node", "worker.js"], replicas: options.worker ?? 1 },
    ],
    // On node disk, as in the README: the pods request that much ephemeral-storage.
    scratch: [{ name: "tmp", mountPath: "/tmp", sizeLimit: "64Mi" }],
    backingServices: [
      { name: "sessions", type: "redis", secretRef: { name: options.secret ?? "redis" } },
    ],
  };
}

export const condition = (app: App | undefined, type: string): Condition | undefined =>
  app?.status?.conditions?.find((c) => c.type === type);

/** The operator has seen the latest spec and reports it Ready. */
export function converged(app: App): boolean {
  return (
    app.metadata.deletionTimestamp === undefined &&
    app.status?.observedGeneration === app.metadata.generation &&
    condition(app, "Ready")?.status === "True"
  );
}

/** Short text of why an app has not converged, for failure messages. */
export function describeApp(app: App): string {
  const ready = condition(app, "Ready");
  return `${app.metadata.name} (generation ${app.metadata.generation}, observed ${app.status?.observedGeneration ?? "-"}, Ready ${ready?.status ?? "-"} ${ready?.reason ?? ""}: ${ready?.message ?? ""})`;
}

/**
 * Waits until every StatelessApp of the namespace (or those named) has converged; returns them.
 * The error lists the apps still behind.
 */
export async function waitConverged(
  kube: Kube,
  namespace: string,
  options: { names?: readonly string[]; count?: number; timeoutMs?: number } = {},
): Promise<App[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let behind: string[] = [];
  let lastError = "";
  for (;;) {
    try {
      const all = await kube.list<App>("StatelessApp", namespace);
      const wanted =
        options.names === undefined
          ? all
          : all.filter((a) => options.names?.includes(a.metadata.name));
      const missing =
        options.names?.filter((n) => !all.some((a) => a.metadata.name === n)) ?? ([] as string[]);
      behind = [
        ...missing.map((n) => `${n} (absent)`),
        ...wanted.filter((a) => !converged(a)).map(describeApp),
      ];
      const enough = options.count === undefined || wanted.length >= options.count;
      if (behind.length === 0 && enough) return wanted;
      if (!enough) behind.push(`only ${wanted.length} of ${options.count} apps exist`);
      lastError = "";
    } catch (error) {
      lastError = ` (last error: ${String(error)})`;
    }
    if (Date.now() > deadline) {
      const cluster = await workloadSummary(kube, namespace).catch((e: unknown) => String(e));
      throw new Error(
        `${behind.length} apps of ${namespace} not converged${lastError}:\n  ${behind.slice(0, 15).join("\n  ")}\n${cluster}`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

type Child = KubeObject & {
  metadata: {
    name: string;
    uid?: string;
    ownerReferences?: { uid: string; kind: string; name: string; controller?: boolean }[];
    deletionTimestamp?: string;
  };
  spec?: {
    replicas?: number;
    template?: { spec?: { containers?: { image?: string }[] } };
  };
};

/** The children an app must have, as `Kind/name`. */
export function expectedChildren(app: App): string[] {
  const name = app.metadata.name;
  const out: string[] = [];
  for (const p of app.spec.processes) {
    out.push(`Deployment/${name}-${p.name}`);
    if ((p.ports ?? []).length > 0) out.push(`Service/${name}-${p.name}`);
    if ((p.replicas ?? 1) >= 2) out.push(`PodDisruptionBudget/${name}-${p.name}`);
  }
  for (const b of app.spec.backingServices ?? []) out.push(`Secret/${name}-binding-${b.name}`);
  return out.sort();
}

const CHILD_KINDS = ["Deployment", "Service", "PodDisruptionBudget", "Secret"] as const;

/**
 * Compares the operator's objects in a namespace with what its apps want: every wanted child
 * exists once, owned (controller reference) by the app's current uid, with the spec's image and
 * replicas; no managed object is left without a wanting app. Returns the problems found.
 */
export async function childProblems(kube: Kube, namespace: string): Promise<string[]> {
  const apps = (await kube.list<App>("StatelessApp", namespace)).filter(
    (a) => a.metadata.deletionTimestamp === undefined,
  );
  const children = new Map<string, Child>();
  for (const kind of CHILD_KINDS) {
    for (const c of await kube.list<Child>(kind, namespace, MANAGED_BY)) {
      if (c.metadata.deletionTimestamp === undefined) children.set(`${kind}/${c.metadata.name}`, c);
    }
  }
  const problems: string[] = [];
  const claimed = new Set<string>();
  for (const app of apps) {
    for (const id of expectedChildren(app)) {
      claimed.add(id);
      const child = children.get(id);
      if (child === undefined) {
        problems.push(`${app.metadata.name}: ${id} missing`);
        continue;
      }
      const owners = (child.metadata.ownerReferences ?? []).filter((o) => o.controller === true);
      if (owners.length !== 1 || owners[0]?.uid !== app.metadata.uid) {
        problems.push(
          `${id}: controller reference ${JSON.stringify(owners)}, not ${app.metadata.uid}`,
        );
      }
      if (id.startsWith("Deployment/")) {
        const process = app.spec.processes.find(
          (p) => id === `Deployment/${app.metadata.name}-${p.name}`,
        );
        const image = child.spec?.template?.spec?.containers?.[0]?.image;
        if (image !== app.spec.image)
          problems.push(`${id}: image ${image}, spec says ${app.spec.image}`);
        if (child.spec?.replicas !== (process?.replicas ?? 1)) {
          problems.push(
            `${id}: replicas ${child.spec?.replicas}, spec says ${process?.replicas ?? 1}`,
          );
        }
      }
    }
  }
  for (const id of children.keys()) {
    if (!claimed.has(id))
      problems.push(`${id}: managed by the operator but no app wants it (orphan)`);
  }
  return problems;
}

/** Pods of an app's process that are not shutting down. */
export async function livePods(
  kube: Kube,
  namespace: string,
  app: string,
  process: string,
): Promise<Child[]> {
  const pods = await kube.list<Child>(
    "Pod",
    namespace,
    `app.kubernetes.io/instance=${app},app.kubernetes.io/component=${process}`,
  );
  return pods.filter((p) => p.metadata.deletionTimestamp === undefined);
}

/**
 * Forms PASSWORD may take in text: as is, and base64 at each of the three byte alignments (a
 * Secret's `data` logged or evented would carry it that way).
 */
export function passwordForms(password = PASSWORD): string[] {
  const forms = [password];
  for (let offset = 0; offset < 3; offset++) {
    const b64 = Buffer.from(`${"\0".repeat(offset)}${password}`).toString("base64");
    // Skip the groups that mix in neighbouring bytes: what remains is fixed for this alignment.
    forms.push(b64.slice(4, -4));
  }
  return forms;
}

/** Where PASSWORD appears in `text` (by form), or []. */
export function leaksIn(text: string, password = PASSWORD): string[] {
  return passwordForms(password).filter((f) => text.includes(f));
}

/**
 * Looks for PASSWORD in the output of the operators that watched `ns`, every Event of it (core
 * and events.k8s.io) and every StatelessApp in it. Returns where it was found.
 */
export async function secretLeaks(
  kube: Kube,
  ns: string,
  operators: readonly { readonly name: string; output(): string }[],
): Promise<string[]> {
  const found: string[] = [];
  for (const op of operators) {
    if (leaksIn(op.output()).length > 0) found.push(`operator output ${op.name}`);
  }
  for (const kind of ["Event", "EventsV1"]) {
    for (const e of await kube.list<KubeObject & { reason?: string }>(kind, ns)) {
      if (leaksIn(JSON.stringify(e)).length > 0) {
        found.push(`${kind} ${ns}/${e.metadata?.name} (${e.reason})`);
      }
    }
  }
  for (const a of await kube.list<App>("StatelessApp", ns)) {
    if (leaksIn(JSON.stringify(a)).length > 0) found.push(`StatelessApp ${ns}/${a.metadata.name}`);
  }
  return found;
}

type Workload = {
  metadata: { name: string; ownerReferences?: { name: string }[] };
  spec?: { replicas?: number; nodeName?: string };
  status?: {
    phase?: string;
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: { type: string; status: string }[];
  };
};

/** What the cluster's controllers made of a namespace's workloads, for a failure message. */
export async function workloadSummary(kube: Kube, namespace: string): Promise<string> {
  const [deployments, sets, pods] = await Promise.all([
    kube.list<Workload>("Deployment", namespace),
    kube.list<Workload>("ReplicaSet", namespace),
    kube.list<Workload>("Pod", namespace),
  ]);
  const unavailable = deployments.filter(
    (d) => (d.status?.availableReplicas ?? 0) < (d.spec?.replicas ?? 1),
  );
  const short = sets.filter((r) => (r.status?.replicas ?? 0) < (r.spec?.replicas ?? 0));
  const phases = new Map<string, number>();
  for (const p of pods) {
    const ready = p.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
    const key = `${p.status?.phase ?? "?"}${p.spec?.nodeName ? "" : "/unscheduled"}${ready ? "/ready" : ""}`;
    phases.set(key, (phases.get(key) ?? 0) + 1);
  }
  return [
    `Deployments: ${deployments.length}, unavailable ${unavailable.length} (${unavailable
      .slice(0, 5)
      .map((d) => d.metadata.name)
      .join(", ")})`,
    `ReplicaSets: ${sets.length}, short of pods ${short.length} (${short
      .slice(0, 5)
      .map((r) => r.metadata.name)
      .join(", ")})`,
    `Pods: ${pods.length} ${JSON.stringify(Object.fromEntries(phases))}`,
  ].join("\n");
}
