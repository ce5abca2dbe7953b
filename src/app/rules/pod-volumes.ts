// The volumes of a pod spec with their paths, and the CEL that walks the same list.
import { celIndexed } from "./cel.ts";
import type { FieldPath } from "./field-path.ts";
import { isObject, type JsonObject, listAt, stringAt } from "./json.ts";
import { locatePodSpec } from "./pod-spec.ts";
import type { Violation } from "./rule.ts";

export interface PodVolume {
  readonly volume: JsonObject;
  readonly name: string;
  readonly path: FieldPath;
}

/** The volumes of the object's pod spec; none for other kinds. */
export function podVolumes(object: JsonObject): PodVolume[] {
  const located = locatePodSpec(object);
  if (located === undefined) return [];
  return listAt(located.spec, "volumes").flatMap((volume, i) =>
    isObject(volume)
      ? [
          {
            volume,
            name: stringAt(volume, "name") ?? `#${i}`,
            path: [...located.path, "volumes", i],
          },
        ]
      : [],
  );
}

/** Violations for every volume that has `field` (a volume source such as `hostPath`). */
export function volumesWith(
  object: JsonObject,
  field: string,
  message: (volume: PodVolume) => string,
): Violation[] {
  return podVolumes(object)
    .filter((v) => v.volume[field] !== undefined && v.volume[field] !== null)
    .map((v) => ({ path: [...v.path, field], message: message(v) }));
}

/** CEL: the paths `<podSpecPath>.volumes[i]<rest>` of the volumes for which `predicate(v)` holds. */
export function celVolumesWhere(predicate: string, rest: string): string {
  return `variables.volumes.transformList(i, v, ${predicate}, ${celIndexed("variables.podSpecPath + '.volumes'", "i", rest)})`;
}
