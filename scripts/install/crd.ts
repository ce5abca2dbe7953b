// The CRD as every install path ships it: the API's CRD, annotated so no uninstall or GitOps prune deletes it.
import { renderCrd } from "../../src/api/index.ts";

type Json = Record<string, unknown>;

/**
 * Deleting the CRD deletes every StatelessApp and, through their owner references, every app's
 * Deployments. Each tool that may delete what it installed is told to leave the CRD alone:
 * Helm on `helm uninstall` (and when an upgrade drops it), Flux's garbage collection when it is
 * gone from the source or its Kustomization is deleted, Argo CD when it is gone from Git (Prune)
 * and when the Application is deleted (Delete).
 */
export const CRD_RETENTION_ANNOTATIONS = {
  "helm.sh/resource-policy": "keep",
  "kustomize.toolkit.fluxcd.io/prune": "disabled",
  "argocd.argoproj.io/sync-options": "Prune=false,Delete=false",
} as const;

export function renderInstallCrd(): Json {
  const crd = renderCrd() as Json & { metadata: { annotations?: Record<string, string> } };
  return {
    ...crd,
    metadata: {
      ...crd.metadata,
      annotations: { ...crd.metadata.annotations, ...CRD_RETENTION_ANNOTATIONS },
    },
  };
}
