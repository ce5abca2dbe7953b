// The operator's RBAC: least-privilege rules, the cluster and namespace-scoped bindings, aggregated roles.
import { GROUP, PLURAL } from "../../src/api/index.ts";
import { policyReportRules } from "../../src/app/reports/index.ts";
import {
  LEASE_NAME,
  labels,
  NAME,
  PROVISIONED_SERVICES_AGGREGATION_LABEL,
  SERVICE_ACCOUNT,
} from "./names.ts";

export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

export interface NonResourceRule {
  readonly nonResourceURLs: readonly string[];
  readonly verbs: readonly string[];
}

type Json = Record<string, unknown>;

const RBAC = "rbac.authorization.k8s.io/v1";
/** Server-side apply creates through PATCH, and the API server then also checks `create`. */
const APPLY = ["create", "patch"] as const;
/** The operator reads through list+watch caches; only source Secrets are also read by name. */
const READ = ["list", "watch"] as const;
/**
 * Children are also read by name (`get`) before the first write of a name the label-filtered
 * caches do not hold: another team's object of that name is never written (NameInUse).
 */
const CHILD = ["get", ...READ, ...APPLY, "delete"] as const;

/**
 * Exactly what the operator calls, nothing more (no `*`, no escalate/bind/impersonate). The
 * integration test runs the operator as its ServiceAccount with only these rules.
 */
export const operatorRules: readonly PolicyRule[] = [
  { apiGroups: [GROUP], resources: [PLURAL], verbs: [...READ] },
  // Status is written by server-side apply on the /status subresource; it always exists.
  { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ["patch"] },
  { apiGroups: ["apps"], resources: ["deployments"], verbs: [...CHILD] },
  { apiGroups: [""], resources: ["services"], verbs: [...CHILD] },
  { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: [...CHILD] },
  { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: [...CHILD] },
  // spec.release: the release Job of each image, the last 3 kept; its status gates the rollout.
  { apiGroups: ["batch"], resources: ["jobs"], verbs: [...CHILD] },
  // Source Secrets are read; the normalized `<app>-binding-<name>` Secrets are applied and pruned.
  { apiGroups: [""], resources: ["secrets"], verbs: [...CHILD] },
  // envFrom and config: a ConfigMap's change rolls the pods (only a digest of its data is kept).
  { apiGroups: [""], resources: ["configmaps"], verbs: [...READ] },
  // Pods: a cache of ours for the failures the status names; maxPodLifetime lists a process
  // type's pods and evicts the oldest through the eviction API.
  { apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] },
  { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
  // A failed release: the last lines of its newest pod's log, read once per Job, for the status.
  { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
  { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create", "patch"] },
  // POLICY_REPORT_INTERVAL (off by default): list what the rules check, write PolicyReports.
  ...policyReportRules(),
];

/**
 * /metrics: who asks is looked up (TokenReview) and checked (SubjectAccessReview). Both are
 * cluster-scoped, so even the namespace-scoped install needs this one ClusterRole.
 */
export const metricsAuthRules: readonly PolicyRule[] = [
  { apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
  { apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] },
];

/** What a scraper (Prometheus' ServiceAccount) needs: bind this ClusterRole to it. */
export const metricsReaderRules: readonly NonResourceRule[] = [
  { nonResourceURLs: ["/metrics"], verbs: ["get"] },
];

export const METRICS_AUTH_ROLE = `${NAME}-metrics-auth`;
export const METRICS_READER_ROLE = `${NAME}-metrics-reader`;

/** Leader election: the Lease is created once, then read and renewed by name. */
export function leaseRules(leaseName = LEASE_NAME): PolicyRule[] {
  return [
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
    {
      apiGroups: ["coordination.k8s.io"],
      resources: ["leases"],
      resourceNames: [leaseName],
      verbs: ["get", "update"],
    },
  ];
}

function serviceAccountSubject(namespace: string): Json {
  return { kind: "ServiceAccount", name: SERVICE_ACCOUNT, namespace };
}

export function renderServiceAccount(namespace: string): Json {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: SERVICE_ACCOUNT, namespace, labels: labels("controller") },
  };
}

function clusterRole(
  name: string,
  component: string,
  rules: readonly (PolicyRule | NonResourceRule)[],
): Json {
  return {
    apiVersion: RBAC,
    kind: "ClusterRole",
    metadata: { name, labels: labels(component) },
    rules,
  };
}

function clusterRoleBinding(name: string, role: string, namespace: string): Json {
  return {
    apiVersion: RBAC,
    kind: "ClusterRoleBinding",
    metadata: { name, labels: labels("rbac") },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
    subjects: [serviceAccountSubject(namespace)],
  };
}

export function renderRole(name: string, namespace: string, rules: readonly PolicyRule[]): Json {
  return {
    apiVersion: RBAC,
    kind: "Role",
    metadata: { name, namespace, labels: labels("rbac") },
    rules,
  };
}

/** Binds the Role of the same name to the operator's ServiceAccount (of `subjectNamespace`). */
export function renderRoleBinding(
  name: string,
  namespace: string,
  subjectNamespace = namespace,
): Json {
  return {
    apiVersion: RBAC,
    kind: "RoleBinding",
    metadata: { name, namespace, labels: labels("rbac") },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
    subjects: [serviceAccountSubject(subjectNamespace)],
  };
}

export const PROVISIONED_SERVICES_ROLE = `${NAME}-provisioned-services`;
export const LEADER_ELECTION_ROLE = `${NAME}-leader-election`;

/**
 * Provisioned Services are any kind that publishes `status.binding.name`, so the operator cannot
 * list their rules in advance: this role aggregates the rules of every ClusterRole labelled
 * `twelvefactor.dev/aggregate-to-provisioned-services: "true"` (an admin adds one per kind).
 */
export function renderProvisionedServicesRole(): Json {
  return {
    apiVersion: RBAC,
    kind: "ClusterRole",
    metadata: { name: PROVISIONED_SERVICES_ROLE, labels: labels("rbac") },
    aggregationRule: {
      clusterRoleSelectors: [{ matchLabels: { [PROVISIONED_SERVICES_AGGREGATION_LABEL]: "true" } }],
    },
    // No `rules`: the controller-manager fills them, and an applied `rules: []` would fight it.
  };
}

/**
 * What granting `stateless-operator-edit` means, on the role itself (`kubectl describe
 * clusterrole`): a StatelessApp is a Deployment by another name, so its editors run pods.
 */
export const EDIT_ROLE_DESCRIPTION =
  "Create, change and delete StatelessApps. A StatelessApp makes the operator create pods in the namespace, with its default ServiceAccount, that read the Secrets the app binds (as a Deployment would): bind this role only to users who may run workloads and read those Secrets there. It is aggregated into edit and admin; see docs/operations.md, Multi-tenancy and permissions.";

/**
 * Namespace `edit` / `admin` users manage StatelessApps; `view` users read them. The edit role
 * grants StatelessApps only, yet an app's pods read the namespace's Secrets it names: see
 * EDIT_ROLE_DESCRIPTION.
 */
export function renderUserRoles(): Json[] {
  const edit = clusterRole(`${NAME}-edit`, "rbac", [
    {
      apiGroups: [GROUP],
      resources: [PLURAL],
      verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
    },
    { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ["get"] },
  ]);
  const view = clusterRole(`${NAME}-view`, "rbac", [
    { apiGroups: [GROUP], resources: [PLURAL], verbs: ["get", "list", "watch"] },
    { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ["get"] },
  ]);
  addLabels(edit, { "rbac.authorization.k8s.io/aggregate-to-edit": "true" });
  (edit.metadata as Json).annotations = { "kubernetes.io/description": EDIT_ROLE_DESCRIPTION };
  addLabels(view, { "rbac.authorization.k8s.io/aggregate-to-view": "true" });
  return [edit, view];
}

function addLabels(object: Json, extra: Record<string, string>): void {
  const metadata = object.metadata as { labels: Record<string, string> };
  metadata.labels = { ...metadata.labels, ...extra };
}

/** Where the leader-election Lease is: its name and namespace (the operator's by default). */
export interface LeaseRef {
  readonly name: string;
  readonly namespace: string;
}

/** The metrics ClusterRoles: the operator's review rights (bound to it) and the readers' role. */
export function renderMetricsRbac(namespace: string): Json[] {
  return [
    clusterRole(METRICS_AUTH_ROLE, "metrics", metricsAuthRules),
    clusterRole(METRICS_READER_ROLE, "metrics", metricsReaderRules),
    clusterRoleBinding(METRICS_AUTH_ROLE, METRICS_AUTH_ROLE, namespace),
  ];
}

/** The cluster-wide install: the operator watches every namespace (manifests/rbac). */
export function renderClusterRbac(
  namespace: string,
  lease: LeaseRef = { name: LEASE_NAME, namespace },
): Json[] {
  return [
    renderServiceAccount(namespace),
    clusterRole(NAME, "rbac", operatorRules),
    renderProvisionedServicesRole(),
    ...renderUserRoles(),
    ...renderMetricsRbac(namespace).filter((o) => o.kind === "ClusterRole"),
    clusterRoleBinding(NAME, NAME, namespace),
    clusterRoleBinding(PROVISIONED_SERVICES_ROLE, PROVISIONED_SERVICES_ROLE, namespace),
    ...renderMetricsRbac(namespace).filter((o) => o.kind === "ClusterRoleBinding"),
    renderRole(LEADER_ELECTION_ROLE, lease.namespace, leaseRules(lease.name)),
    renderRoleBinding(LEADER_ELECTION_ROLE, lease.namespace, namespace),
  ];
}

/**
 * The namespace-scoped install (manifests/namespaced): one Role with the operator's rules and the
 * Lease's, in the namespace it runs in and watches. The only cluster-scoped objects are the
 * metrics ClusterRoles: a TokenReview or SubjectAccessReview cannot be granted by a Role.
 */
export function renderNamespacedRbac(namespace: string): Json[] {
  return [
    renderServiceAccount(namespace),
    renderRole(NAME, namespace, [...operatorRules, ...leaseRules()]),
    renderRoleBinding(NAME, namespace),
    ...renderMetricsRbac(namespace),
  ];
}
