// Names shared by every install manifest: namespace, object names, labels, the image.
import pkg from "../../package.json" with { type: "json" };

export const NAMESPACE = "stateless-operator-system";
export const NAME = "stateless-operator";
export const SERVICE_ACCOUNT = NAME;
export const VERSION = pkg.version;
/** The image repository; a placeholder registry that `images:` in a kustomization overrides. */
export const IMAGE_NAME = "ghcr.io/stateless-operator/stateless-operator";
export const IMAGE = `${IMAGE_NAME}:${VERSION}`;
/** /healthz and /readyz, plain HTTP for the kubelet. */
export const HTTP_PORT = 8080;
/** /metrics over HTTPS, authenticated and authorized through the API server. */
export const METRICS_PORT = 8443;
export const LEASE_NAME = "stateless-operator";

/** Label that adds a ClusterRole's rules to the operator's provisioned-services role. */
export const PROVISIONED_SERVICES_AGGREGATION_LABEL =
  "twelvefactor.dev/aggregate-to-provisioned-services";

/**
 * Labels of the operator's own objects. Deliberately not `app.kubernetes.io/managed-by:
 * stateless-operator`: that label marks the children the operator renders and caches.
 */
export function labels(component: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": NAME,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": NAME,
  };
}

export const selectorLabels = {
  "app.kubernetes.io/name": NAME,
  "app.kubernetes.io/component": "controller",
} as const;
