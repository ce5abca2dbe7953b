// Server-side apply with field manager `stateless-operator`, skipping writes the live object makes pointless.
import { createHash } from "node:crypto";
import { parseQuantity } from "../lib/quantity.ts";
import { NotLeaderError } from "./errors.ts";
import { type HttpTransport, requestJson } from "./http.ts";
import { type Logger, silentLogger } from "./logger.ts";
import type { ApplyMetrics } from "./metrics.ts";
import {
  fieldsOf,
  isRecord,
  jsonEqual,
  type KubeObject,
  type ManagedFieldsEntry,
} from "./object.ts";
import { ResourceRegistry, type ResourceType, resourcePath } from "./resource.ts";

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

/** Fields holding resource quantities, which the apiserver canonicalizes ("1000m" → "1"). */
const quantityFields =
  /(^|\.)(limits|requests|overhead|hard)\.[^.[]+$|\.(sizeLimit|averageValue|value)$/;

function scalarEqual(desired: unknown, live: unknown, path: string): boolean {
  if (jsonEqual(desired, live)) return true;
  if (!quantityFields.test(path)) return false;
  const a = parseQuantity(desired);
  const b = parseQuantity(live);
  return a !== undefined && b !== undefined && Math.abs(a - b) <= Math.abs(a) * 1e-12;
}

export interface ApplierOptions {
  readonly transport: HttpTransport;
  /** Maps apiVersion/kind to REST paths. @default the built-in kinds */
  readonly registry?: ResourceRegistry;
  /** @default "stateless-operator" */
  readonly fieldManager?: string;
  /** Checked before every write; false throws NotLeaderError (a standby must not write). */
  readonly writeGate?: () => boolean;
  readonly metrics?: Partial<ApplyMetrics>;
  readonly logger?: Logger;
  /** For how long a freshly created object may be missing from the cache. @default Date.now */
  readonly now?: () => number;
}

/** How long an object we just created may be absent from the cache before it is written again. */
const CREATE_GRACE_MS = 10_000;

export interface ApplyOptions {
  /** The cached object (from a reflector that keeps our managedFields entry). */
  readonly live?: KubeObject | undefined;
  readonly signal?: AbortSignal;
  /**
   * Skip the write while the cache has not yet seen our previous write to this object: an object
   * we created moments ago (for up to 10 s), or a write that changed it (even if the new content
   * differs: that write's watch event reconciles again, against fresh data — for content that
   * embeds the time, such as status conditions). The result says `deferred`; a caller that asks
   * for this must look again shortly, since an object deleted meanwhile brings no further event.
   */
  readonly deferWhileCacheLags?: boolean;
}

export interface ApplyResult {
  readonly written: boolean;
  /** The apiserver's response after a write, else the live object. */
  readonly object: KubeObject | undefined;
  readonly reason: string;
  /**
   * Not written because the cache has not caught up with our own last write: the caller should
   * look again shortly (its watch event normally triggers that on its own).
   */
  readonly deferred?: boolean;
}

/** Forgetting an entry costs at most one redundant write, so a simple bound is enough. */
const maxRememberedWrites = 10_000;

/** What we wrote last per object, so a cache that has not caught up yet does not cause a second write. */
interface LastWrite {
  readonly hash: string;
  /** The resourceVersion the cache showed when we wrote: still seeing it means the cache lags. */
  readonly before: string | undefined;
  /** The resourceVersion our write produced. */
  readonly after: string | undefined;
  /** When we wrote. */
  readonly at: number;
  /** The resourceVersions the cache may show that already include this write. */
  readonly versions: ReadonlySet<string>;
}

/**
 * Applies, status-applies and deletes objects for a controller. Stateful only to remember the
 * last write per object: right after a write the cache still shows the old version, and a
 * reconcile running before the watch event arrives must not write the same thing again.
 */
export class Applier {
  readonly fieldManager: string;
  readonly #transport: HttpTransport;
  readonly #registry: ResourceRegistry;
  readonly #writeGate: () => boolean;
  readonly #metrics: Partial<ApplyMetrics>;
  readonly #logger: Logger;
  readonly #lastWrites = new Map<string, LastWrite>();
  readonly #now: () => number;

  constructor(options: ApplierOptions) {
    this.#transport = options.transport;
    this.#registry = options.registry ?? new ResourceRegistry();
    this.fieldManager = options.fieldManager ?? defaultFieldManager;
    this.#writeGate = options.writeGate ?? (() => true);
    this.#metrics = options.metrics ?? {};
    this.#logger = options.logger ?? silentLogger;
    this.#now = options.now ?? Date.now;
  }

  /** Server-side applies `desired` (force, our field manager) unless `live` already matches it. */
  apply(desired: KubeObject, options: ApplyOptions = {}): Promise<ApplyResult> {
    return this.#apply(desired, desired, undefined, options);
  }

  /**
   * Server-side applies `status` through the `/status` subresource, unless the live status
   * already matches. SSA (not a merge patch) so that status fields we stop setting are removed.
   */
  applyStatus(
    target: KubeObject,
    status: unknown,
    options: ApplyOptions = {},
  ): Promise<ApplyResult> {
    const body: KubeObject = {
      apiVersion: target.apiVersion,
      kind: target.kind,
      metadata: { name: target.metadata?.name, namespace: target.metadata?.namespace },
      status,
    };
    return this.#apply(target, body, "status", options);
  }

  /**
   * Deletes with background propagation, only if the object still has `target`'s uid (a new
   * object of the same name is not ours to delete). Returns false when it was already gone.
   */
  async delete(
    target: KubeObject,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<boolean> {
    const { type, namespace, name } = this.#locate(target);
    this.#checkGate(options.signal);
    const uid = target.metadata?.uid;
    try {
      await requestJson(this.#transport, {
        method: "DELETE",
        verb: "delete",
        path: resourcePath(type, { namespace, name }),
        contentType: "application/json",
        body: JSON.stringify({
          apiVersion: "v1",
          kind: "DeleteOptions",
          propagationPolicy: "Background",
          ...(uid ? { preconditions: { uid } } : {}),
        }),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      if ((err as { code?: unknown }).code === 404) return false;
      throw err;
    } finally {
      this.#lastWrites.delete(this.#memoKey(type, namespace, name, ""));
      this.#lastWrites.delete(this.#memoKey(type, namespace, name, "status"));
    }
    this.#logger.info({ kind: type.kind, namespace, name }, "deleted");
    return true;
  }

  async #apply(
    target: KubeObject,
    body: KubeObject,
    subresource: "status" | undefined,
    options: ApplyOptions,
  ): Promise<ApplyResult> {
    const { type, namespace, name } = this.#locate(target);
    const live = options.live;
    const memoKey = this.#memoKey(type, namespace, name, subresource ?? "");
    const hash = hashOf(body);
    const liveVersion = live?.metadata?.resourceVersion;
    const last = this.#lastWrites.get(memoKey);
    if (
      last !== undefined &&
      last.hash === hash &&
      liveVersion !== undefined &&
      last.versions.has(liveVersion)
    ) {
      this.#metrics.applied?.(type.kind, "skipped");
      return { written: false, object: live, reason: "just applied; cache not caught up" };
    }
    // We created it moments ago and the cache has not shown it yet: the same write again would
    // only cost a request. Bounded in time, so an object deleted since is written again.
    if (
      options.deferWhileCacheLags === true &&
      live === undefined &&
      last !== undefined &&
      last.hash === hash &&
      last.before === undefined &&
      this.#now() - last.at < CREATE_GRACE_MS
    ) {
      this.#metrics.applied?.(type.kind, "skipped");
      return {
        written: false,
        object: live,
        reason: "just created; cache not caught up",
        deferred: true,
      };
    }
    // Only when our last write changed the object: a no-op write brings no event to wait for.
    if (
      options.deferWhileCacheLags === true &&
      last !== undefined &&
      liveVersion !== undefined &&
      liveVersion === last.before &&
      last.after !== undefined &&
      last.after !== last.before
    ) {
      this.#metrics.applied?.(type.kind, "skipped");
      return {
        written: false,
        object: live,
        reason: "our last write is not in the cache yet; its event reconciles again",
        deferred: true,
      };
    }
    const decision = applyNeeded(body, live, {
      fieldManager: this.fieldManager,
      ...(subresource ? { subresource } : {}),
    });
    if (!decision.write) {
      this.#metrics.applied?.(type.kind, "skipped");
      return { written: false, object: live, reason: decision.reason };
    }
    this.#checkGate(options.signal);
    const written = await requestJson<KubeObject>(this.#transport, {
      method: "PATCH",
      verb: subresource ? "apply-status" : "apply",
      path: resourcePath(type, { namespace, name, subresource }),
      query: { fieldManager: this.fieldManager, force: true },
      // JSON is YAML: the apply content type accepts a JSON body.
      contentType: "application/apply-patch+yaml",
      body: JSON.stringify(body),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const versions = new Set<string>();
    if (liveVersion !== undefined) versions.add(liveVersion);
    const newVersion = written?.metadata?.resourceVersion;
    if (newVersion !== undefined) versions.add(newVersion);
    this.#remember(memoKey, {
      hash,
      before: liveVersion,
      after: newVersion,
      at: this.#now(),
      versions,
    });
    this.#metrics.applied?.(type.kind, "written");
    this.#logger.info(
      { kind: type.kind, namespace, name, subresource, reason: decision.reason },
      "applied",
    );
    return { written: true, object: written, reason: decision.reason };
  }

  #locate(obj: KubeObject): { type: ResourceType; namespace: string | undefined; name: string } {
    const apiVersion = obj.apiVersion ?? "";
    const kind = obj.kind ?? "";
    const type = this.#registry.require(apiVersion, kind);
    const name = obj.metadata?.name;
    if (!name) throw new Error(`${kind} without metadata.name`);
    const namespace = type.namespaced ? obj.metadata?.namespace : undefined;
    if (type.namespaced && !namespace)
      throw new Error(`${kind} ${name} without metadata.namespace`);
    return { type, namespace, name };
  }

  #memoKey(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    subresource: string,
  ): string {
    return `${type.group}/${type.kind}/${namespace ?? ""}/${name}/${subresource}`;
  }

  /** Keeps the most recent writes only: objects deleted by garbage collection never call delete(). */
  #remember(key: string, write: LastWrite): void {
    this.#lastWrites.delete(key);
    this.#lastWrites.set(key, write);
    if (this.#lastWrites.size > maxRememberedWrites) {
      const oldest = this.#lastWrites.keys().next().value;
      if (oldest !== undefined) this.#lastWrites.delete(oldest);
    }
  }

  /** Refuses to write for a standby, or for a reconcile whose workers were stopped. */
  #checkGate(signal?: AbortSignal): void {
    if (!this.#writeGate()) throw new NotLeaderError("not the leader: refusing to write");
    signal?.throwIfAborted();
  }
}

/** A stable digest of a JSON value (key order does not matter). */
export function hashOf(value: unknown): string {
  return createHash("sha256").update(stableJson(value)).digest("hex");
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
