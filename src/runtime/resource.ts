// Resource types (group, version, kind, plural, scope) and the REST paths derived from them.
import { formatKey, groupOf, type KubeObject } from "./object.ts";

export interface ResourceType {
  /** "" for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** The lowercase plural in REST paths, e.g. "deployments". */
  readonly plural: string;
  readonly namespaced: boolean;
}

export function apiVersionOf(type: ResourceType): string {
  return type.group === "" ? type.version : `${type.group}/${type.version}`;
}

/** The kinds the runtime and the operator use; custom resources are registered by the caller. */
export const builtinResources = {
  namespace: {
    group: "",
    version: "v1",
    kind: "Namespace",
    plural: "namespaces",
    namespaced: false,
  },
  configMap: {
    group: "",
    version: "v1",
    kind: "ConfigMap",
    plural: "configmaps",
    namespaced: true,
  },
  secret: { group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true },
  service: { group: "", version: "v1", kind: "Service", plural: "services", namespaced: true },
  pod: { group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true },
  deployment: {
    group: "apps",
    version: "v1",
    kind: "Deployment",
    plural: "deployments",
    namespaced: true,
  },
  job: { group: "batch", version: "v1", kind: "Job", plural: "jobs", namespaced: true },
  podDisruptionBudget: {
    group: "policy",
    version: "v1",
    kind: "PodDisruptionBudget",
    plural: "poddisruptionbudgets",
    namespaced: true,
  },
  horizontalPodAutoscaler: {
    group: "autoscaling",
    version: "v2",
    kind: "HorizontalPodAutoscaler",
    plural: "horizontalpodautoscalers",
    namespaced: true,
  },
  event: {
    group: "events.k8s.io",
    version: "v1",
    kind: "Event",
    plural: "events",
    namespaced: true,
  },
  lease: {
    group: "coordination.k8s.io",
    version: "v1",
    kind: "Lease",
    plural: "leases",
    namespaced: true,
  },
} as const satisfies Record<string, ResourceType>;

/**
 * Maps apiVersion + kind to a resource type. A table instead of discovery: the operator uses a
 * handful of fixed kinds, and a table needs no request, no cache and no failure mode at start.
 */
export class ResourceRegistry {
  readonly #types = new Map<string, ResourceType>();

  constructor(types: Iterable<ResourceType> = Object.values(builtinResources)) {
    for (const t of types) this.register(t);
  }

  register(type: ResourceType): this {
    this.#types.set(`${apiVersionOf(type)}|${type.kind}`, type);
    return this;
  }

  lookup(apiVersion: string, kind: string): ResourceType | undefined {
    return this.#types.get(`${apiVersion}|${kind}`);
  }

  /** Like lookup, but an unknown kind is a programming error. */
  require(apiVersion: string, kind: string): ResourceType {
    const type = this.lookup(apiVersion, kind);
    if (type === undefined) {
      throw new Error(
        `unknown resource ${kind} in ${apiVersion || "(no apiVersion)"}: register it`,
      );
    }
    return type;
  }
}

export interface PathParts {
  /** Omitted (or undefined) for cluster-scoped types and for all-namespace lists. */
  readonly namespace?: string | undefined;
  readonly name?: string | undefined;
  readonly subresource?: string | undefined;
}

/**
 * `/api/v1/namespaces/ns/services/name` or `/apis/apps/v1/namespaces/ns/deployments/name/status`.
 * Every segment is escaped: a group, version or plural may come from a user's apiVersion or from
 * discovery, and a `?`, `#` or `/` in one must not turn into a query or another path.
 */
export function resourcePath(type: ResourceType, parts: PathParts = {}): string {
  const segments = [groupVersionPath(type.group, type.version)];
  if (type.namespaced && parts.namespace) segments.push("namespaces", enc(parts.namespace));
  segments.push(enc(type.plural));
  if (parts.name !== undefined) {
    segments.push(enc(parts.name));
    if (parts.subresource !== undefined) segments.push(enc(parts.subresource));
  }
  return segments.join("/");
}

/** `/api/v1` for the core group, `/apis/<group>/<version>` for the others: the discovery document of a group version. */
export const groupVersionPath = (group: string, version: string): string =>
  group === "" ? `/api/${enc(version)}` : `/apis/${enc(group)}/${enc(version)}`;

const enc = (s: string) => encodeURIComponent(s);

/** True when `apiVersion`/`kind` name this type (used to match ownerReferences, any version). */
export function sameGroupKind(type: ResourceType, apiVersion: string, kind: string): boolean {
  return type.kind === kind && type.group === groupOf(apiVersion);
}

/**
 * The keys of the controlling owners of `obj` that have the owner type's group and kind (any
 * version). Owner references are namespace-local, so the owner lives in `obj`'s namespace.
 */
export function ownerKeys(obj: KubeObject, owner: ResourceType): string[] {
  const refs = obj.metadata?.ownerReferences ?? [];
  return refs
    .filter((r) => r.controller === true && sameGroupKind(owner, r.apiVersion, r.kind))
    .map((r) => formatKey(owner.namespaced ? obj.metadata?.namespace : undefined, r.name));
}
