// The Deployment of one process type: identical, disposable processes with a read-only root filesystem.
import type {
  V1Container,
  V1Deployment,
  V1EnvVar,
  V1Lifecycle,
  V1ResourceRequirements,
  V1SecurityContext,
} from "@kubernetes/client-node";
import {
  DEFAULT_PRESTOP_SLEEP_SECONDS,
  type Process,
  quantityNanos,
  type StatelessApp,
  terminationGraceOf,
} from "../../api/index.ts";
import { type BindingProjection, projectBindings } from "./bindings.ts";
import { configVolumes, envFromFor } from "./config.ts";
import {
  BINDINGS_HASH_ANNOTATION,
  CONFIG_HASH_ANNOTATION,
  childName,
  labelsFor,
  metadataFor,
  selectorFor,
} from "./metadata.ts";
import { defined, podSettingsFor, podSpecFields } from "./pod.ts";
import { formatQuantity, maxQuantity, minQuantity } from "./quantity.ts";
import { diskScratch, scratchVolumes } from "./scratch.ts";

const EPHEMERAL_STORAGE = "ephemeral-storage";

/** The container security context that makes the processes rule hold inside the pod. */
export const containerSecurityContext = (): V1SecurityContext => ({
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  privileged: false,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
});

/** App env, then the process's env overriding it by name (a process type refines the shared environment). */
export function userEnv(app: StatelessApp, proc: Process): V1EnvVar[] {
  const merged = new Map<string, V1EnvVar>();
  for (const e of [...(app.spec.env ?? []), ...(proc.env ?? [])]) merged.set(e.name, e as V1EnvVar);
  return [...merged.values()];
}

export function resourcesFor(app: StatelessApp, proc: Process): V1ResourceRequirements | undefined {
  const asStrings = (m: Record<string, string | number | undefined> | undefined) =>
    m === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(m).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])),
        );
  const requests = asStrings(proc.resources?.requests);
  const limits = asStrings(proc.resources?.limits);
  const disk = diskScratch(app);
  if (disk !== undefined) {
    // The kubelet evicts a pod past its ephemeral-storage limit: the scratch bound holds node-wide.
    // The user's own request or limit wins; ours never contradicts it (a request above the limit is refused).
    const req = requests?.[EPHEMERAL_STORAGE];
    const lim = limits?.[EPHEMERAL_STORAGE];
    const limit = lim ?? formatQuantity(maxQuantity(disk, quantityNanos(req ?? "0") ?? 0n));
    const request = req ?? formatQuantity(minQuantity(disk, quantityNanos(limit) ?? disk));
    return {
      requests: { ...requests, [EPHEMERAL_STORAGE]: request },
      limits: { ...limits, [EPHEMERAL_STORAGE]: limit },
    };
  }
  if (requests === undefined && limits === undefined) return undefined;
  return {
    ...(requests === undefined ? {} : { requests }),
    ...(limits === undefined ? {} : { limits }),
  };
}

/**
 * The user's preStop hook; else, for a process with ports, a short kubelet sleep: the endpoints
 * controller and every kube-proxy take a moment to stop routing to a terminating pod, and a
 * process that exits at once on SIGTERM would drop the requests still sent to it.
 */
export function lifecycleFor(app: StatelessApp, proc: Process): V1Lifecycle | undefined {
  const preStop = proc.lifecycle?.preStop;
  if (preStop !== undefined) return { preStop: JSON.parse(JSON.stringify(preStop)) };
  if ((proc.ports ?? []).length === 0) return undefined;
  const seconds = Math.min(DEFAULT_PRESTOP_SLEEP_SECONDS, terminationGraceOf(app.spec, proc));
  return { preStop: { sleep: { seconds } } };
}

interface PodParts {
  readonly env: V1EnvVar[];
  readonly bindings: BindingProjection;
  readonly scratch: ReturnType<typeof scratchVolumes>;
  readonly config: ReturnType<typeof configVolumes>;
}

function containerFor(
  app: StatelessApp,
  proc: Process,
  { env, bindings, scratch, config }: PodParts,
): V1Container {
  const resources = resourcesFor(app, proc);
  const lifecycle = lifecycleFor(app, proc);
  const mounts = [...scratch.mounts, ...config.mounts, ...bindings.mounts];
  const envFrom = envFromFor(app, proc);
  const allEnv = [...env, ...bindings.env];
  return {
    name: proc.name,
    image: app.spec.image,
    ...(proc.command === undefined ? {} : { command: [...proc.command] }),
    ...(proc.args === undefined ? {} : { args: [...proc.args] }),
    ...(envFrom.length === 0 ? {} : { envFrom }),
    ...(allEnv.length === 0 ? {} : { env: allEnv }),
    ...(proc.ports === undefined || proc.ports.length === 0
      ? {}
      : {
          ports: proc.ports.map((p) => ({
            name: p.name,
            containerPort: p.containerPort,
            protocol: p.protocol ?? "TCP",
          })),
        }),
    ...(proc.readinessProbe === undefined ? {} : { readinessProbe: proc.readinessProbe }),
    ...(proc.livenessProbe === undefined ? {} : { livenessProbe: proc.livenessProbe }),
    ...(proc.startupProbe === undefined ? {} : { startupProbe: proc.startupProbe }),
    ...(resources === undefined ? {} : { resources }),
    ...(lifecycle === undefined ? {} : { lifecycle }),
    ...(mounts.length === 0 ? {} : { volumeMounts: mounts }),
    securityContext: containerSecurityContext(),
  };
}

/**
 * @param bindingsHash hash of the bound data; a change rolls the pods. Undefined when unknown
 * (an offline render) or when the app has no bindings.
 * @param configHash hash of the envFrom and config sources' data; a change rolls the pods.
 * Undefined when unknown (an offline render) or when the app names none.
 */
export function renderDeployment(
  app: StatelessApp,
  proc: Process,
  bindingsHash?: string,
  configHash?: string,
): V1Deployment {
  const env = userEnv(app, proc);
  const parts: PodParts = {
    env,
    bindings: projectBindings(app, env),
    scratch: scratchVolumes(app),
    config: configVolumes(app),
  };
  const volumes = [...parts.scratch.volumes, ...parts.config.volumes, ...parts.bindings.volumes];
  const selector = selectorFor(app, proc.name);
  const settings = podSettingsFor(app, proc);
  const annotations =
    settings.metadata?.annotations === undefined &&
    bindingsHash === undefined &&
    configHash === undefined
      ? undefined
      : {
          ...defined(settings.metadata?.annotations),
          ...(bindingsHash === undefined ? {} : { [BINDINGS_HASH_ANNOTATION]: bindingsHash }),
          ...(configHash === undefined ? {} : { [CONFIG_HASH_ANNOTATION]: configHash }),
        };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metadataFor(app, childName(app, proc.name), proc.name),
    spec: {
      // The autoscaler owns the count when there is one: leaving replicas out keeps us from fighting it.
      ...(proc.autoscale === undefined ? { replicas: proc.replicas ?? 1 } : {}),
      selector: { matchLabels: selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: { ...defined(settings.metadata?.labels), ...labelsFor(app, proc.name) },
          ...(annotations === undefined ? {} : { annotations }),
        },
        spec: {
          ...podSpecFields(app, proc, settings),
          enableServiceLinks: false,
          containers: [containerFor(app, proc, parts)],
          ...(volumes.length === 0 ? {} : { volumes }),
        },
      },
    },
  };
}
