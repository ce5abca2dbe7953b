// What audit checks: an object, where it came from, and how to find a field in its source.
import type { FieldPath, JsonObject } from "../../app/rules/index.ts";

/** The identity of an object, for reports. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name?: string;
}

/** A line and column in a file, both 1-based. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface Origin {
  /** The file the object was read from ("-" for standard input); absent for a live cluster. */
  readonly file?: string;
  /** Helm's `# Source:` comment above the document: the chart template it came from. */
  readonly helmSource?: string;
  /** The StatelessApp whose rendering produced the object. */
  readonly renderedFrom?: ObjectRef;
}

export interface Subject {
  readonly object: JsonObject;
  readonly ref: ObjectRef;
  readonly origin: Origin;
  /** Where a field of the object is in its file: the deepest part of the path that exists. */
  readonly locate: (path: FieldPath) => Position | undefined;
}

/** A document that could not be read, with where it broke. */
export interface InputError {
  readonly file: string;
  readonly position?: Position;
  readonly message: string;
}

/** `Kind namespace/name`, `Kind name`, or just `Kind`. */
export function describeRef(ref: ObjectRef): string {
  const key = ref.namespace === undefined ? ref.name : `${ref.namespace}/${ref.name ?? ""}`;
  return key === undefined ? ref.kind : `${ref.kind} ${key}`;
}

export function refOf(object: JsonObject): ObjectRef {
  const metadata = object.metadata as { namespace?: unknown; name?: unknown } | undefined;
  const text = (v: unknown) => (typeof v === "string" ? v : undefined);
  const namespace = text(metadata?.namespace);
  const name = text(metadata?.name);
  return {
    apiVersion: text(object.apiVersion) ?? "",
    kind: text(object.kind) ?? "",
    ...(namespace === undefined ? {} : { namespace }),
    ...(name === undefined ? {} : { name }),
  };
}
