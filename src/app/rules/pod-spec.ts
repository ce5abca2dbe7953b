// Where the pod spec sits in each kind that runs pods, for both checkers.
import type { FieldPath } from "./field-path.ts";
import { isObject, type JsonObject, valueAt } from "./json.ts";
import {
  cronJob,
  daemonSet,
  deployment,
  groupKind,
  job,
  pod,
  replicaSet,
  replicationController,
  statefulSet,
  type Target,
  targetOf,
} from "./targets.ts";

/**
 * Every kind whose objects carry a pod spec. StatelessApps are not here: what they run is
 * the Deployments the operator renders, which admission sees as Deployments.
 */
export const podTemplateTargets: readonly Target[] = [
  pod,
  deployment,
  replicaSet,
  daemonSet,
  statefulSet,
  job,
  cronJob,
  replicationController,
];

const templateSpec = ["spec", "template", "spec"] as const;

/** The path of the pod spec in an object of each pod-template kind, by `group/Kind`. */
export const podSpecPaths: ReadonlyMap<string, readonly string[]> = new Map(
  podTemplateTargets.map((t): [string, readonly string[]] => {
    if (t === pod) return [groupKind(t), ["spec"]];
    if (t === cronJob) return [groupKind(t), ["spec", "jobTemplate", ...templateSpec]];
    return [groupKind(t), templateSpec];
  }),
);

export interface LocatedPodSpec {
  readonly spec: JsonObject;
  readonly path: FieldPath;
  readonly target: Target;
}

/** The pod spec of an object and where it is, or undefined for other kinds. */
export function locatePodSpec(object: JsonObject): LocatedPodSpec | undefined {
  const target = targetOf(object, podTemplateTargets);
  if (target === undefined) return undefined;
  const path = podSpecPaths.get(groupKind(target));
  if (path === undefined) return undefined;
  const spec = valueAt(object, path);
  return isObject(spec) ? { spec, path, target } : undefined;
}
