// Reconciling StatelessApps: observe, plan (pure), carry out; and what reconcile needs.
export {
  CHILD_KINDS,
  CHILD_RESOURCES,
  type ChildKind,
  isChildKind,
  WHOLE_CACHE_KINDS,
} from "./children.ts";
export {
  type EventSink,
  OWNER_INDEX,
  PODS_BY_APP,
  type ProvisionedServiceLookup,
  type ProvisionedServices,
  type ReconcileDeps,
  type SecretReader,
} from "./deps.ts";
export { formatPlan } from "./explain.ts";
export { type ForbiddenFix, forbiddenAdditions, type JsonPatchOp } from "./forbidden.ts";
export { nameInUse, type Ownership, ownershipOf } from "./ownership.ts";
export {
  BINDING_RETRY_MS,
  CACHE_LAG_RECHECK_MS,
  type ChildAction,
  type Eviction,
  finishPlan,
  NAME_IN_USE_RETRY_MS,
  type Observation,
  type Plan,
  type PlannedEvent,
  planApp,
  REPLICAS_HANDOFF_MANAGER,
  type ReleaseLogTarget,
  requeueAfterWrites,
  type Written,
} from "./plan.ts";
export { childId, controlledBy, staleChildren } from "./prune.ts";
export { createReconciler, reconcileApp } from "./reconcile.ts";
export { decideRecycle, podsOf, type RecycleDecision, type RecycleInput } from "./recycle.ts";
export {
  RELEASE_LOG_TIMEOUT_MS,
  type ReleaseLogReader,
  ReleaseLogs,
  unreadable,
} from "./release-log.ts";
export { type ResolvedBindings, resolveBindings } from "./resolve-bindings.ts";
