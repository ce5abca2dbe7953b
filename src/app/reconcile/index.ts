// Reconciling StatelessApps: the reconcile function and what it needs.
export { type ResolvedBindings, resolveBindings } from "./bindings.ts";
export {
  CHILD_KINDS,
  type ChildKind,
  type EventSink,
  OWNER_INDEX,
  type ProvisionedServiceLookup,
  type ProvisionedServices,
  type ReconcileDeps,
  type SecretReader,
} from "./deps.ts";
export { type ForbiddenFix, forbiddenAdditions, type JsonPatchOp } from "./forbidden.ts";
export { childId, controlledBy, staleChildren } from "./prune.ts";
export { BINDING_RETRY_MS, createReconciler, reconcileApp } from "./reconcile.ts";
export { decideRecycle, type RecycleDecision, type RecycleInput } from "./recycle.ts";
