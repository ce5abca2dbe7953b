// The StatelessApp API's identity: group, version, kind and resource names.

export const GROUP = "twelvefactor.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "StatelessApp";
export const LIST_KIND = "StatelessAppList";
export const PLURAL = "statelessapps";
export const SINGULAR = "statelessapp";
export const SHORT_NAMES = ["sapp"] as const;
export const CATEGORIES = ["all"] as const;

/** The field manager of every write the operator makes. */
export const FIELD_MANAGER = "stateless-operator";

/** Where binding projections are mounted unless the user sets SERVICE_BINDING_ROOT. */
export const SERVICE_BINDING_ROOT = "/bindings";

/** The env variable that tells the processes where their bindings are (servicebinding.io). */
export const SERVICE_BINDING_ROOT_ENV = "SERVICE_BINDING_ROOT";

/**
 * The API groups a Kubernetes API server serves built in (core is ""). A backing service is a
 * Provisioned Service of an extension API: its group has a dot and lies outside k8s.io and
 * kubernetes.io, which rules out every group listed here.
 */
export const BUILTIN_API_GROUPS = [
  "",
  "admissionregistration.k8s.io",
  "apiextensions.k8s.io",
  "apiregistration.k8s.io",
  "apps",
  "authentication.k8s.io",
  "authorization.k8s.io",
  "autoscaling",
  "batch",
  "certificates.k8s.io",
  "coordination.k8s.io",
  "discovery.k8s.io",
  "events.k8s.io",
  "extensions",
  "flowcontrol.apiserver.k8s.io",
  "internal.apiserver.k8s.io",
  "networking.k8s.io",
  "node.k8s.io",
  "policy",
  "rbac.authorization.k8s.io",
  "resource.k8s.io",
  "scheduling.k8s.io",
  "storage.k8s.io",
  "storagemigration.k8s.io",
] as const;

/** Kinds never bound, in any group: a binding must not make the operator watch them. */
export const FORBIDDEN_BOUND_KINDS = ["Secret", "ConfigMap"] as const;
