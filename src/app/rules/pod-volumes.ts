// The volumes of a pod template with their paths, and the CEL that walks the same list.
import { celIndexed } from "./cel.ts";
import type { FieldPath } from "./field-path.ts";
import { isObject, type JsonObject, listAt, stringAt } from "./json.ts";
import type { PodTemplate } from "./pod-template.ts";
import type { RuleInput, Violation } from "./rule.ts";

export interface PodVolume {
  readonly volume: JsonObject;
  readonly name: string;
  readonly path: FieldPath;
}

/** The volumes of a pod template; none without one. */
export function podVolumes(template: PodTemplate | undefined): PodVolume[] {
  if (template === undefined) return [];
  return listAt(template.spec, "volumes").flatMap((volume, i) =>
    isObject(volume)
      ? [
          {
            volume,
            name: stringAt(volume, "name") ?? `#${i}`,
            path: [...template.specPath, "volumes", i],
          },
        ]
      : [],
  );
}

/** Violations for every volume that has `field` (a volume source such as `hostPath`). */
export function volumesWith(
  input: RuleInput,
  field: string,
  message: (volume: PodVolume) => string,
): Violation[] {
  return podVolumes(input.template)
    .filter((v) => v.volume[field] !== undefined && v.volume[field] !== null)
    .map((v) => ({ path: [...v.path, field], message: message(v) }));
}

/** CEL: the paths `<podSpecPath>.volumes[i]<rest>` of the volumes for which `predicate(v)` holds. */
export function celVolumesWhere(predicate: string, rest: string): string {
  return `variables.volumes.transformList(i, v, ${predicate}, ${celIndexed("variables.podSpecPath + '.volumes'", "i", rest)})`;
}
