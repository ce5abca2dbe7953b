// Whether a server-side apply would change the live object: the pure no-op decision of the applier.
import { parseQuantity } from "../lib/quantity.ts";
import {
  fieldsOf,
  isRecord,
  jsonEqual,
  type KubeObject,
  type ManagedFieldsEntry,
} from "./object.ts";

export const defaultFieldManager = "stateless-operator";

export interface ApplyDecision {
  readonly write: boolean;
  /** Why (for logs and tests): the first difference found, or why nothing needs writing. */
  readonly reason: string;
}

export interface ApplyNeededOptions {
  readonly fieldManager?: string;
  /** "status" compares only `.status` against our status-subresource entry. */
  readonly subresource?: "status";
}

/** Metadata the apiserver owns; a desired object never sets these, so they are not compared. */
const serverMetadata = new Set([
  "resourceVersion",
  "uid",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "selfLink",
]);

/**
 * Decides whether server-side applying `desired` would change `live` (the cached object).
 *
 * An apply changes the object in two ways, and both are checked:
 * 1. It sets every field of `desired`. So every leaf of `desired` must already be in `live` with
 *    the same value (a subset check: fields set by others or defaulted by the apiserver are
 *    extra in `live` and ignored; a missing or different leaf means drift or a change).
 * 2. It removes the fields we set last time and no longer set. Those are in our entry of
 *    `metadata.managedFields` (which the reflector keeps for our manager only): every path we
 *    own must still exist in `desired`.
 * That entry also tells how the apiserver merges each list we set: `k:{...}` children mean a
 * list keyed by those fields (others may add items: match by key, ignore extras), `v:` a set,
 * and a leaf an atomic list (compared element by element, same length).
 *
 * Any doubt is a write: no entry of ours (never applied, or a store that dropped it), an entry
 * for another apiVersion, a path we cannot resolve. A needless write costs a request; a wrong
 * skip leaves drift in place.
 *
 * Known normalizations: resource quantities compare by value ("1000m" = "1"); an empty object
 * or list in `desired` matches an absent field (the apiserver drops empty maps and lists).
 */
export function applyNeeded(
  desired: KubeObject,
  live: KubeObject | undefined,
  options: ApplyNeededOptions = {},
): ApplyDecision {
  const manager = options.fieldManager ?? defaultFieldManager;
  const subresource = options.subresource ?? "";
  if (live === undefined) return { write: true, reason: "absent" };
  if (desired.apiVersion !== live.apiVersion || desired.kind !== live.kind) {
    return { write: true, reason: "live object has another apiVersion or kind" };
  }
  const entry = ownEntry(live.metadata?.managedFields, manager, subresource);
  if (entry === undefined) return { write: true, reason: `no managedFields entry of ${manager}` };
  if (entry.apiVersion !== desired.apiVersion) {
    return { write: true, reason: `our managedFields entry is for ${entry.apiVersion}` };
  }
  if (entry.fieldsType !== undefined && entry.fieldsType !== "FieldsV1") {
    return { write: true, reason: `unknown fieldsType ${entry.fieldsType}` };
  }
  const owned = fieldsOf(entry);
  const body = comparedBody(desired, subresource);
  const liveBody = comparedBody(live, subresource);
  const differs = firstDifference(body, liveBody, owned, "");
  if (differs !== undefined) return { write: true, reason: `differs at ${differs || "."}` };
  const dropped = firstUnsetOwned(owned, body, "");
  if (dropped !== undefined) return { write: true, reason: `no longer sets ${dropped}` };
  return { write: false, reason: "live object matches" };
}

function ownEntry(
  entries: readonly ManagedFieldsEntry[] | undefined,
  manager: string,
  subresource: string,
): ManagedFieldsEntry | undefined {
  return entries?.find(
    (e) =>
      e.manager === manager && e.operation === "Apply" && (e.subresource ?? "") === subresource,
  );
}

/** The part of an object an apply (or a status apply) writes, without identity and server fields. */
function comparedBody(obj: KubeObject, subresource: string): Record<string, unknown> {
  if (subresource === "status") return { status: obj.status };
  const { apiVersion: _v, kind: _k, status: _s, metadata, ...rest } = obj;
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (!serverMetadata.has(k)) meta[k] = v;
  }
  return { metadata: meta, ...rest };
}

/** The path of the first leaf of `desired` that `live` lacks or holds differently, or undefined. */
function firstDifference(
  desired: unknown,
  live: unknown,
  owned: unknown,
  path: string,
): string | undefined {
  if (desired === undefined) return undefined;
  if (desired === null) return live === undefined || live === null ? undefined : path;
  const ownedNode = isRecord(owned) ? owned : undefined;
  if (isRecord(desired)) {
    // An empty object matches an absent one: the apiserver drops empty maps.
    if (live === undefined && Object.keys(desired).length === 0) return undefined;
    if (!isRecord(live)) return path;
    for (const [k, v] of Object.entries(desired)) {
      const d = firstDifference(v, live[k], ownedNode?.[`f:${k}`], `${path}.${k}`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (Array.isArray(desired)) {
    // An empty list matches an absent one: the apiserver drops empty lists.
    if (live === undefined || live === null) return desired.length === 0 ? undefined : path;
    if (!Array.isArray(live)) return path;
    return listDifference(desired, live, ownedNode, path);
  }
  return scalarEqual(desired, live, path) ? undefined : path;
}

function listDifference(
  desired: readonly unknown[],
  live: readonly unknown[],
  owned: Record<string, unknown> | undefined,
  path: string,
): string | undefined {
  const childKeys = Object.keys(owned ?? {});
  const keys: Record<string, unknown>[] = [];
  for (const k of childKeys) {
    const key = k.startsWith("k:") ? parseKeyObject(k.slice(2)) : undefined;
    if (key !== undefined) keys.push(key);
  }
  if (keys.length > 0) {
    // A list map: each desired item must be one of ours (by key) and match the live item with that key.
    for (const item of desired) {
      if (!isRecord(item)) return path;
      const key = keys.find((k) => matchesKey(item, k));
      if (key === undefined) return `${path}[new item]`;
      const liveItem = live.find((l) => isRecord(l) && matchesKey(l, key));
      const itemPath = `${path}[${JSON.stringify(key)}]`;
      if (liveItem === undefined) return itemPath;
      const d = firstDifference(
        item,
        liveItem,
        owned?.[`k:${JSON.stringify(key)}`] ?? ownedItemNode(owned, key),
        itemPath,
      );
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (childKeys.some((k) => k.startsWith("v:"))) {
    // A set: every desired value present.
    const missing = desired.findIndex((v) => !live.some((l) => jsonEqual(v, l)));
    return missing < 0 ? undefined : `${path}[${missing}]`;
  }
  // Atomic (or unknown): the whole list, in order.
  if (desired.length !== live.length) return path;
  for (let i = 0; i < desired.length; i++) {
    const d = firstDifference(desired[i], live[i], undefined, `${path}[${i}]`);
    if (d !== undefined) return d;
  }
  return undefined;
}

/** The owned node of a list item whose `k:` spelling differs from JSON.stringify (key order). */
function ownedItemNode(
  owned: Record<string, unknown> | undefined,
  key: Record<string, unknown>,
): unknown {
  for (const [k, v] of Object.entries(owned ?? {})) {
    if (k.startsWith("k:") && jsonEqual(parseKeyObject(k.slice(2)), key)) return v;
  }
  return undefined;
}

/**
 * The first path in our field set that `desired` no longer has, or undefined. Each fieldsV1
 * child is `f:<field>`, `k:<key json>` (list item by key), `v:<value json>` (set item) or `.`
 * (the node itself).
 */
function firstUnsetOwned(
  owned: Record<string, unknown>,
  desired: unknown,
  path: string,
): string | undefined {
  for (const [k, sub] of Object.entries(owned)) {
    if (k === ".") continue;
    const prefix = k.slice(0, 2);
    const rest = k.slice(2);
    let next: unknown;
    let nextPath: string;
    if (prefix === "f:") {
      nextPath = `${path}.${rest}`;
      if (!isRecord(desired) || desired[rest] === undefined || desired[rest] === null)
        return nextPath;
      next = desired[rest];
    } else if (prefix === "k:") {
      nextPath = `${path}[${rest}]`;
      const key = parseKeyObject(rest);
      if (key === undefined || !Array.isArray(desired)) return nextPath;
      next = desired.find((item) => isRecord(item) && matchesKey(item, key));
      if (next === undefined) return nextPath;
    } else if (prefix === "v:") {
      nextPath = `${path}[${rest}]`;
      const value = parseJson(rest);
      if (
        value === undefined ||
        !Array.isArray(desired) ||
        !desired.some((d) => jsonEqual(d, value))
      ) {
        return nextPath;
      }
      continue;
    } else {
      return `${path}.${k}`;
    }
    if (isRecord(sub)) {
      const d = firstUnsetOwned(sub, next, nextPath);
      if (d !== undefined) return d;
    }
  }
  return undefined;
}

/**
 * List-map key fields the apiserver defaults before computing keys: a desired item that omits
 * one still has that key (a container port without `protocol` is keyed with "TCP").
 */
const defaultedKeyFields: Readonly<Record<string, unknown>> = { protocol: "TCP" };

function matchesKey(item: Record<string, unknown>, key: Record<string, unknown>): boolean {
  return Object.entries(key).every(([field, value]) => {
    const own = item[field] ?? defaultedKeyFields[field];
    return jsonEqual(own, value);
  });
}

function parseKeyObject(text: string): Record<string, unknown> | undefined {
  const parsed = parseJson(text);
  return isRecord(parsed) ? parsed : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Fields holding resource quantities, which the apiserver canonicalizes ("1000m" → "1"): resource
 * lists, an emptyDir's sizeLimit, an autoscaler metric's target. Nothing else: an env var's
 * `value` is a string, and "1" → "1.0" is a change.
 */
const quantityFields =
  /(^|\.)(limits|requests|overhead|hard)\.[^.[]+$|\.sizeLimit$|\.target\.(averageValue|value)$/;

function scalarEqual(desired: unknown, live: unknown, path: string): boolean {
  if (jsonEqual(desired, live)) return true;
  if (!quantityFields.test(path)) return false;
  const a = parseQuantity(desired);
  const b = parseQuantity(live);
  return a !== undefined && b !== undefined && Math.abs(a - b) <= Math.abs(a) * 1e-12;
}
