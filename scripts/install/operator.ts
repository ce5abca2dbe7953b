// The operator's own workload: Namespace, Deployment, PodDisruptionBudget, metrics Service, NetworkPolicy.
import {
  HTTP_PORT,
  IMAGE,
  labels,
  METRICS_PORT,
  NAME,
  SERVICE_ACCOUNT,
  selectorLabels,
} from "./names.ts";

type Json = Record<string, unknown>;

/** The operator's namespace; its pods meet the `restricted` Pod Security Standard, so enforce it. */
export function renderNamespace(namespace: string): Json {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: namespace,
      labels: {
        ...labels("controller"),
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
      },
    },
  };
}

/**
 * The configuration the install sets (docs/operations.md), in the order of config.ts; the chart's
 * `env` value defaults to it. POD_NAME, POD_NAMESPACE and the addresses are not configuration
 * but facts of the pod, so every install sets them the same way.
 */
export const INSTALL_ENV = { LEADER_ELECT: "true", LOG_LEVEL: "info" } as const;

const fieldEnv = (name: string, fieldPath: string) => ({
  name,
  valueFrom: { fieldRef: { apiVersion: "v1", fieldPath } },
});

/**
 * Two replicas with leader election: the standby is ready and takes over within a lease
 * duration. The process writes nothing to disk (the entrypoint contract test proves it with a
 * read-only tree, an unwritable HOME and TMPDIR), so the root filesystem is read-only and there
 * is no volume at all.
 */
export function renderDeployment(namespace: string): Json {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: NAME, namespace, labels: labels("controller") },
    spec: {
      replicas: 2,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: labels("controller"),
          annotations: { "kubectl.kubernetes.io/default-container": "operator" },
        },
        spec: {
          serviceAccountName: SERVICE_ACCOUNT,
          enableServiceLinks: false,
          // Longer than SHUTDOWN_TIMEOUT (30s): in-flight reconciles finish, the Lease is released.
          terminationGracePeriodSeconds: 45,
          // No runAsUser/runAsGroup: the image's numeric USER applies (so the kubelet can check
          // runAsNonRoot), and a platform that assigns uids (OpenShift's restricted-v2) may.
          securityContext: {
            runAsNonRoot: true,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "operator",
              image: IMAGE,
              imagePullPolicy: "IfNotPresent",
              args: ["run"],
              env: [
                fieldEnv("POD_NAME", "metadata.name"),
                fieldEnv("POD_NAMESPACE", "metadata.namespace"),
                { name: "HTTP_ADDRESS", value: `:${HTTP_PORT}` },
                { name: "METRICS_ADDRESS", value: `:${METRICS_PORT}` },
                ...Object.entries(INSTALL_ENV).map(([name, value]) => ({ name, value })),
              ],
              ports: [
                { name: "http", containerPort: HTTP_PORT, protocol: "TCP" },
                { name: "metrics", containerPort: METRICS_PORT, protocol: "TCP" },
              ],
              startupProbe: {
                httpGet: { path: "/healthz", port: "http" },
                periodSeconds: 2,
                failureThreshold: 30,
              },
              livenessProbe: {
                httpGet: { path: "/healthz", port: "http" },
                periodSeconds: 10,
                timeoutSeconds: 2,
                failureThreshold: 3,
              },
              readinessProbe: {
                httpGet: { path: "/readyz", port: "http" },
                periodSeconds: 5,
                timeoutSeconds: 2,
                failureThreshold: 3,
              },
              resources: {
                requests: { cpu: "50m", memory: "128Mi" },
                limits: { cpu: "1", memory: "512Mi" },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                privileged: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ["ALL"] },
              },
            },
          ],
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: selectorLabels },
            },
          ],
        },
      },
    },
  };
}

/** Keeps one of the two replicas through voluntary disruptions (node drains). */
export function renderPodDisruptionBudget(namespace: string): Json {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: NAME, namespace, labels: labels("controller") },
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels } },
  };
}

export const METRICS_SERVICE = `${NAME}-metrics`;

/** HTTPS /metrics of every replica, for a scraper (the ServiceMonitor selects it). */
export function renderMetricsService(namespace: string): Json {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: METRICS_SERVICE, namespace, labels: labels("metrics") },
    spec: {
      type: "ClusterIP",
      sessionAffinity: "None",
      selector: selectorLabels,
      ports: [{ name: "https", port: METRICS_PORT, targetPort: "metrics", protocol: "TCP" }],
    },
  };
}

/**
 * Ingress only to the metrics port (each request is authenticated and authorized through the API
 * server) and the health port (the kubelet's probes, which some CNIs also subject to policies;
 * it says only ok or which caches are not ready); egress only to the API server. In-cluster the
 * operator reaches it through KUBERNETES_SERVICE_HOST, an IP address, so it needs no DNS. The
 * Service port is 443 and most API servers listen on 6443 behind it; a policy may see either,
 * depending on the CNI.
 */
export function renderNetworkPolicy(namespace: string): Json {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: NAME, namespace, labels: labels("controller") },
    spec: {
      podSelector: { matchLabels: selectorLabels },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        { ports: [{ protocol: "TCP", port: METRICS_PORT }] },
        { ports: [{ protocol: "TCP", port: HTTP_PORT }] },
      ],
      egress: [
        {
          ports: [
            { protocol: "TCP", port: 443 },
            { protocol: "TCP", port: 6443 },
          ],
        },
      ],
    },
  };
}

/** manifests/operator: everything but the Namespace (which default/ adds; namespaced/ has its own). */
export function renderOperator(namespace: string): Json[] {
  return [
    renderMetricsService(namespace),
    renderPodDisruptionBudget(namespace),
    renderNetworkPolicy(namespace),
    renderDeployment(namespace),
  ];
}
