// Names, labels and the owner reference every child of a StatelessApp carries.
import type { V1ObjectMeta, V1OwnerReference } from "@kubernetes/client-node";
import { API_VERSION, KIND, type StatelessApp } from "../../api/index.ts";

export const LABEL_NAME = "app.kubernetes.io/name";
export const LABEL_INSTANCE = "app.kubernetes.io/instance";
export const LABEL_COMPONENT = "app.kubernetes.io/component";
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "stateless-operator";

/** Pod-template annotation whose change rolls the pods when bound credentials change. */
export const BINDINGS_HASH_ANNOTATION = "twelvefactor.dev/bindings-hash";

export const childName = (
  app: { readonly metadata: { readonly name: string } },
  processName: string,
): string => `${app.metadata.name}-${processName}`;

/** Labels of every owned object; `component` is the process type where there is one. */
export function labelsFor(app: StatelessApp, component?: string): Record<string, string> {
  return {
    [LABEL_NAME]: app.metadata.name,
    [LABEL_INSTANCE]: app.metadata.name,
    ...(component === undefined ? {} : { [LABEL_COMPONENT]: component }),
    [LABEL_MANAGED_BY]: MANAGED_BY,
  };
}

/** The stable subset of labels a Deployment, PDB and Service select a process type's pods by. */
export function selectorFor(app: StatelessApp, processName: string): Record<string, string> {
  return { [LABEL_INSTANCE]: app.metadata.name, [LABEL_COMPONENT]: processName };
}

/** Owner reference to the app; absent when the app has no uid yet (an offline render). */
export function ownerReferencesFor(app: StatelessApp): V1OwnerReference[] | undefined {
  const uid = app.metadata.uid;
  if (uid === undefined) return undefined;
  return [
    {
      apiVersion: API_VERSION,
      kind: KIND,
      name: app.metadata.name,
      uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
}

export function metadataFor(app: StatelessApp, name: string, component?: string): V1ObjectMeta {
  const ownerReferences = ownerReferencesFor(app);
  return {
    name,
    // An empty namespace is the request's namespace, as the API server reads it.
    ...(app.metadata.namespace ? { namespace: app.metadata.namespace } : {}),
    labels: labelsFor(app, component),
    ...(ownerReferences === undefined ? {} : { ownerReferences }),
  };
}
