// The kinds of object a StatelessApp owns, and the resource type of each: the one child-kind table.
import { builtinResources, type ResourceType } from "../../runtime/resource.ts";

/** In apply order: binding Secrets first, so pods never start without them. */
export const CHILD_RESOURCES = {
  Secret: builtinResources.secret,
  Deployment: builtinResources.deployment,
  Service: builtinResources.service,
  PodDisruptionBudget: builtinResources.podDisruptionBudget,
  HorizontalPodAutoscaler: builtinResources.horizontalPodAutoscaler,
  /** Last: a release Job is created once the Secrets it mounts are in place. */
  Job: builtinResources.job,
} as const satisfies Record<string, ResourceType>;

export type ChildKind = keyof typeof CHILD_RESOURCES;

/**
 * The child kinds the operator caches whole: every object of the kind in its scope, another's as
 * a stub (identity and owners: wholeCacheForm). An absent entry then means no object of that
 * name, and a new app's Deployments, Services and binding Secrets are written without first
 * reading each name (the other kinds, rarer, are cached by the operator's label and looked up).
 */
export const WHOLE_CACHE_KINDS: ReadonlySet<ChildKind> = new Set([
  "Secret",
  "Deployment",
  "Service",
]);

export const CHILD_KINDS = Object.keys(CHILD_RESOURCES) as readonly ChildKind[];

export const isChildKind = (kind: string | undefined): kind is ChildKind =>
  kind !== undefined && Object.hasOwn(CHILD_RESOURCES, kind);
