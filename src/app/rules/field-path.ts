// Field paths into an object, and their one text form (`spec.volumes[0].hostPath`).

/** A key of a free-form map (an annotation name), as opposed to a schema field name. */
export interface MapKey {
  readonly key: string;
}

/** A field name, a list index, or a map key. */
export type PathSegment = string | number | MapKey;
export type FieldPath = readonly PathSegment[];

/** Builds the segment for a map key. */
export const mapKey = (key: string): MapKey => ({ key });

/**
 * Renders a path the way Kubernetes field errors do: dots between field names, `[i]` for
 * list indices, `[key]` for map keys (`metadata.annotations[example.com/sticky]`).
 * The CEL policies build the same strings, so both checkers' findings compare as text.
 */
export function formatPath(path: FieldPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string") out += out === "" ? segment : `.${segment}`;
    else out += `[${segment.key}]`;
  }
  return out;
}
