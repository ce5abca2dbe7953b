// Plain-JSON Kubernetes objects as the runtime sees them: minimal shapes, keys, and trimming.

export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  readonly manager?: string;
  readonly operation?: string;
  readonly apiVersion?: string;
  readonly fieldsType?: string;
  readonly fieldsV1?: unknown;
  readonly subresource?: string;
  readonly time?: string;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  deletionTimestamp?: string;
  managedFields?: ManagedFieldsEntry[];
  [field: string]: unknown;
}

/** Any Kubernetes object, as the JSON the apiserver sends. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/** An apiserver `Status` (the body of errors and of watch `ERROR` events). */
export interface Status {
  readonly kind?: "Status";
  readonly status?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
  readonly details?: unknown;
}

/** `namespace/name` for namespaced objects, `name` for cluster-scoped ones. */
export function objectKey(obj: KubeObject): string {
  return formatKey(obj.metadata?.namespace, obj.metadata?.name ?? "");
}

export function formatKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function parseKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf("/");
  if (slash < 0) return { name: key };
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The API group of an apiVersion: "" for the core group ("v1"). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

/** The group and version of an apiVersion: `{group: "", version: "v1"}` for "v1". */
export const splitApiVersion = (apiVersion: string): { group: string; version: string } => ({
  group: groupOf(apiVersion),
  version: apiVersion.slice(apiVersion.indexOf("/") + 1),
});

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Drops `metadata.managedFields` (often the biggest part of an object) except the entries of
 * the managers in `keep`: apply needs its own entry to notice fields it no longer sets.
 * Returns the object itself when there is nothing to drop.
 */
export function stripManagedFields<T extends KubeObject>(obj: T, keep: readonly string[] = []): T {
  const entries = obj.metadata?.managedFields;
  if (entries === undefined) return obj;
  // A kept entry's field set is held as JSON text: a deep tree of small objects for every
  // cached child costs several times the memory of its text, and it is read only when applying.
  const kept = entries
    .filter((e) => e.manager !== undefined && keep.includes(e.manager))
    .map((e) =>
      typeof e.fieldsV1 === "string" || e.fieldsV1 === undefined
        ? e
        : { ...e, fieldsV1: JSON.stringify(e.fieldsV1) },
    );
  const { managedFields: _dropped, ...metadata } = obj.metadata ?? {};
  return {
    ...obj,
    metadata: kept.length > 0 ? { ...metadata, managedFields: kept } : metadata,
  };
}

/** An entry's field set as an object, whether the cache holds it as text or as parsed JSON. */
export function fieldsOf(entry: ManagedFieldsEntry | undefined): Record<string, unknown> {
  const fields = entry?.fieldsV1;
  const parsed: unknown = typeof fields === "string" ? JSON.parse(fields) : fields;
  return isRecord(parsed) ? parsed : {};
}

/** Structural equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const ak = Object.keys(a).filter((k) => a[k] !== undefined);
    const bk = Object.keys(b).filter((k) => b[k] !== undefined);
    return ak.length === bk.length && ak.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  return false;
}
