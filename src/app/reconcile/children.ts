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

export const CHILD_KINDS = Object.keys(CHILD_RESOURCES) as readonly ChildKind[];

export const isChildKind = (kind: string | undefined): kind is ChildKind =>
  kind !== undefined && Object.hasOwn(CHILD_RESOURCES, kind);
