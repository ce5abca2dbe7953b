// The kinds the rules look at: API group, kind, and resource name (for admission and listing).
import { type JsonObject, stringAt } from "./json.ts";

export interface Target {
  /** API group; "" is the core group. */
  readonly group: string;
  readonly kind: string;
  /** Plural resource name, as admission policies and list calls name it. */
  readonly resource: string;
  /** Subresources that write the checked fields too (UPDATE only), e.g. `ephemeralcontainers`. */
  readonly subresources?: readonly string[];
}

const target = (group: string, kind: string, resource: string): Target => ({
  group,
  kind,
  resource,
});

export const service = target("", "Service", "services");
export const ingress = target("networking.k8s.io", "Ingress", "ingresses");

/** Pods also take ephemeral containers through a subresource, which admission must see too. */
export const pod: Target = { ...target("", "Pod", "pods"), subresources: ["ephemeralcontainers"] };
export const replicationController = target("", "ReplicationController", "replicationcontrollers");
export const deployment = target("apps", "Deployment", "deployments");
export const replicaSet = target("apps", "ReplicaSet", "replicasets");
export const daemonSet = target("apps", "DaemonSet", "daemonsets");
export const statefulSet = target("apps", "StatefulSet", "statefulsets");
export const job = target("batch", "Job", "jobs");
export const cronJob = target("batch", "CronJob", "cronjobs");

// Gateway API: standard and experimental channels.
export const httpRoute = target("gateway.networking.k8s.io", "HTTPRoute", "httproutes");
export const grpcRoute = target("gateway.networking.k8s.io", "GRPCRoute", "grpcroutes");
export const backendLBPolicy = target(
  "gateway.networking.k8s.io",
  "BackendLBPolicy",
  "backendlbpolicies",
);
export const xBackendTrafficPolicy = target(
  "gateway.networking.x-k8s.io",
  "XBackendTrafficPolicy",
  "xbackendtrafficpolicies",
);

// Load-balancer and proxy resources of widely used controllers.
export const gkeBackendConfig = target("cloud.google.com", "BackendConfig", "backendconfigs");
export const gkeGCPBackendPolicy = target(
  "networking.gke.io",
  "GCPBackendPolicy",
  "gcpbackendpolicies",
);
export const contourHTTPProxy = target("projectcontour.io", "HTTPProxy", "httpproxies");
export const traefikIngressRoute = target("traefik.io", "IngressRoute", "ingressroutes");
export const traefikLegacyIngressRoute = target(
  "traefik.containo.us",
  "IngressRoute",
  "ingressroutes",
);
export const istioDestinationRule = target(
  "networking.istio.io",
  "DestinationRule",
  "destinationrules",
);

/** The API group of an `apiVersion` ("apps/v1" → "apps", "v1" → ""). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

/** `group/Kind`, the key both checkers match targets by ("/Pod", "apps/Deployment"). */
export const groupKind = (t: { readonly group: string; readonly kind: string }): string =>
  `${t.group}/${t.kind}`;

/** The target an object is an instance of, if any of `targets`. */
export function targetOf<T extends Target>(
  object: JsonObject,
  targets: readonly T[],
): T | undefined {
  const apiVersion = stringAt(object, "apiVersion");
  const kind = stringAt(object, "kind");
  if (apiVersion === undefined || kind === undefined) return undefined;
  const group = groupOf(apiVersion);
  return targets.find((t) => t.group === group && t.kind === kind);
}
