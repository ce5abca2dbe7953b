// The Deployment of one process type: identical, disposable processes with a read-only root filesystem.
import type {
  V1Container,
  V1Deployment,
  V1EnvVar,
  V1ResourceRequirements,
  V1SecurityContext,
} from "@kubernetes/client-node";
import type { Process, StatelessApp } from "../../api/index.ts";
import { type BindingProjection, projectBindings } from "./bindings.ts";
import {
  BINDINGS_HASH_ANNOTATION,
  childName,
  labelsFor,
  metadataFor,
  selectorFor,
} from "./metadata.ts";
import { diskScratchBytes, scratchVolumes } from "./scratch.ts";

const EPHEMERAL_STORAGE = "ephemeral-storage";

/** The container security context that makes the process rule hold inside the pod. */
export const containerSecurityContext = (): V1SecurityContext => ({
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  privileged: false,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
});

/** App env, then the process's env overriding it by name (a process type refines the shared environment). */
export function userEnv(app: StatelessApp, process: Process): V1EnvVar[] {
  const merged = new Map<string, V1EnvVar>();
  for (const e of [...(app.spec.env ?? []), ...(process.env ?? [])])
    merged.set(e.name, e as V1EnvVar);
  return [...merged.values()];
}

function resourcesFor(app: StatelessApp, process: Process): V1ResourceRequirements | undefined {
  const asStrings = (m: Record<string, string | number> | undefined) =>
    m === undefined
      ? undefined
      : Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)]));
  const requests = asStrings(process.resources?.requests);
  const limits = asStrings(process.resources?.limits);
  const disk = diskScratchBytes(app);
  if (disk !== undefined) {
    // The kubelet evicts a pod past its ephemeral-storage limit: the scratch bound holds node-wide.
    const req = requests ?? {};
    const lim = limits ?? {};
    return {
      requests: { ...req, [EPHEMERAL_STORAGE]: req[EPHEMERAL_STORAGE] ?? disk },
      limits: { ...lim, [EPHEMERAL_STORAGE]: lim[EPHEMERAL_STORAGE] ?? disk },
    };
  }
  if (requests === undefined && limits === undefined) return undefined;
  return {
    ...(requests === undefined ? {} : { requests }),
    ...(limits === undefined ? {} : { limits }),
  };
}

interface PodParts {
  readonly env: V1EnvVar[];
  readonly bindings: BindingProjection;
  readonly scratch: ReturnType<typeof scratchVolumes>;
}

function containerFor(
  app: StatelessApp,
  process: Process,
  { env, bindings, scratch }: PodParts,
): V1Container {
  const resources = resourcesFor(app, process);
  const mounts = [...scratch.mounts, ...bindings.mounts];
  const allEnv = [...env, ...bindings.env];
  return {
    name: process.name,
    image: app.spec.image,
    ...(process.command === undefined ? {} : { command: [...process.command] }),
    ...(process.args === undefined ? {} : { args: [...process.args] }),
    ...(allEnv.length === 0 ? {} : { env: allEnv }),
    ...(process.ports === undefined || process.ports.length === 0
      ? {}
      : {
          ports: process.ports.map((p) => ({
            name: p.name,
            containerPort: p.containerPort,
            protocol: p.protocol ?? "TCP",
          })),
        }),
    ...(process.readinessProbe === undefined ? {} : { readinessProbe: process.readinessProbe }),
    ...(process.livenessProbe === undefined ? {} : { livenessProbe: process.livenessProbe }),
    ...(process.startupProbe === undefined ? {} : { startupProbe: process.startupProbe }),
    ...(resources === undefined ? {} : { resources }),
    ...(mounts.length === 0 ? {} : { volumeMounts: mounts }),
    securityContext: containerSecurityContext(),
  };
}

/**
 * @param bindingsHash hash of the bound data; a change rolls the pods. Undefined when unknown
 * (an offline render) or when the app has no bindings.
 */
export function renderDeployment(
  app: StatelessApp,
  process: Process,
  bindingsHash?: string,
): V1Deployment {
  const env = userEnv(app, process);
  const parts: PodParts = {
    env,
    bindings: projectBindings(app, env),
    scratch: scratchVolumes(app),
  };
  const volumes = [...parts.scratch.volumes, ...parts.bindings.volumes];
  const selector = selectorFor(app, process.name);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metadataFor(app, childName(app, process.name), process.name),
    spec: {
      // The autoscaler owns the count when there is one: leaving replicas out keeps us from fighting it.
      ...(process.autoscale === undefined ? { replicas: process.replicas ?? 1 } : {}),
      selector: { matchLabels: selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: labelsFor(app, process.name),
          ...(bindingsHash === undefined
            ? {}
            : { annotations: { [BINDINGS_HASH_ANNOTATION]: bindingsHash } }),
        },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
          containers: [containerFor(app, process, parts)],
          ...(volumes.length === 0 ? {} : { volumes }),
        },
      },
    },
  };
}
