// Where an object's pod template is (its spec and metadata), for every workload kind of a rule set.
import type { FieldPath } from "./field-path.ts";
import { isObject, type JsonObject, valueAt } from "./json.ts";
import { targetOf } from "./targets.ts";
import type { WorkloadKind } from "./workload-kinds.ts";

/** The pod template of one object: what the pod-spec rules read. */
export interface PodTemplate {
  readonly kind: WorkloadKind;
  readonly spec: JsonObject;
  readonly specPath: FieldPath;
  /** The pod's metadata: the template's (or the object's own for a Pod); absent when unset. */
  readonly metadata: JsonObject | undefined;
}

/** The pod template of an object of one of `kinds`, or undefined (other kinds, no spec). */
export function locatePodTemplate(
  object: JsonObject,
  kinds: readonly WorkloadKind[],
): PodTemplate | undefined {
  const kind = targetOf(object, kinds);
  if (kind === undefined) return undefined;
  const base = kind.template.length === 0 ? object : valueAt(object, kind.template);
  if (!isObject(base)) return undefined;
  const spec = base.spec;
  if (!isObject(spec)) return undefined;
  const metadata = isObject(base.metadata) ? base.metadata : undefined;
  return { kind, spec, specPath: [...kind.template, "spec"], metadata };
}
