// The object cache a reflector fills and controllers read: plain JSON objects by key, with optional indexes.
import { type KubeObject, objectKey } from "./object.ts";

export type StoreEvent<T extends KubeObject = KubeObject> =
  | { readonly type: "add"; readonly object: T }
  | { readonly type: "update"; readonly object: T; readonly old: T }
  | { readonly type: "delete"; readonly object: T };

/** Maps an object to the index values it is found under (e.g. the Secret names an app binds). */
export type IndexFn<T extends KubeObject = KubeObject> = (obj: T) => readonly string[];

/** The read side. Objects are shared, not copied: treat them as immutable. */
export interface ReadonlyStore<T extends KubeObject = KubeObject> {
  readonly size: number;
  /** By key: `namespace/name`, or `name` for cluster-scoped objects. */
  get(key: string): T | undefined;
  /** All objects, or those of one namespace. */
  list(namespace?: string): T[];
  keys(): string[];
  /** Objects whose index function returned `value`. */
  byIndex(index: string, value: string): T[];
}

export interface StoreOptions {
  /**
   * An index function threw on an object: the object is stored but found under no value of that
   * index. @default ignored (a reflector logs it)
   */
  readonly onIndexError?: (index: string, key: string, error: unknown) => void;
}

export class Store<T extends KubeObject = KubeObject> implements ReadonlyStore<T> {
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFn<T>>();
  /** index name → value → keys */
  readonly #indexes = new Map<string, Map<string, Set<string>>>();
  /** index name → key → the values the object was indexed under (unindexing never calls fn again). */
  readonly #indexed = new Map<string, Map<string, readonly string[]>>();
  readonly #onIndexError: StoreOptions["onIndexError"];

  constructor(options: StoreOptions = {}) {
    this.#onIndexError = options.onIndexError;
  }

  get size(): number {
    return this.#items.size;
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  list(namespace?: string): T[] {
    const all = [...this.#items.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  byIndex(index: string, value: string): T[] {
    const keys = this.#indexes.get(index)?.get(value);
    if (keys === undefined) {
      if (!this.#indexers.has(index)) throw new Error(`store has no index "${index}"`);
      return [];
    }
    const found: T[] = [];
    for (const k of keys) {
      const obj = this.#items.get(k);
      if (obj !== undefined) found.push(obj);
    }
    return found;
  }

  /** Adds an index, computed over the current objects and kept up to date afterwards. */
  addIndex(name: string, fn: IndexFn<T>): this {
    this.#indexers.set(name, fn);
    this.#indexes.set(name, new Map());
    this.#indexed.set(name, new Map());
    for (const [key, obj] of this.#items) this.#indexOne(name, fn, key, obj);
    return this;
  }

  /** Inserts or replaces; returns the previous object. */
  set(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.#items.get(key);
    if (old !== undefined) this.#unindex(key);
    this.#items.set(key, obj);
    for (const [name, fn] of this.#indexers) this.#indexOne(name, fn, key, obj);
    return old;
  }

  /** Removes by key; returns the removed object. */
  delete(key: string): T | undefined {
    const old = this.#items.get(key);
    if (old === undefined) return undefined;
    this.#unindex(key);
    this.#items.delete(key);
    return old;
  }

  /**
   * Makes the objects `inScope` exactly `objects` (the result of a full list) and returns the
   * changes: adds, updates whose resourceVersion moved, and deletes for objects that vanished
   * while no watch was looking.
   */
  replace(objects: readonly T[], inScope: (obj: T) => boolean = () => true): StoreEvent<T>[] {
    const events: StoreEvent<T>[] = [];
    const seen = new Set<string>();
    for (const obj of objects) {
      const key = objectKey(obj);
      seen.add(key);
      const old = this.set(obj);
      if (old === undefined) events.push({ type: "add", object: obj });
      else if (!sameVersion(old, obj)) events.push({ type: "update", object: obj, old });
    }
    for (const [key, obj] of [...this.#items]) {
      if (!seen.has(key) && inScope(obj)) {
        this.delete(key);
        events.push({ type: "delete", object: obj });
      }
    }
    return events;
  }

  #indexOne(name: string, fn: IndexFn<T>, key: string, obj: T): void {
    const index = this.#indexes.get(name);
    if (index === undefined) return;
    let values: readonly string[];
    try {
      // One malformed object must not stop the reflector that stores it (it would retry the
      // same event forever): it is stored, and found under no value of this index.
      values = [...new Set(fn(obj))];
    } catch (error) {
      values = [];
      this.#onIndexError?.(name, key, error);
    }
    this.#indexed.get(name)?.set(key, values);
    for (const value of values) {
      let keys = index.get(value);
      if (keys === undefined) {
        keys = new Set();
        index.set(value, keys);
      }
      keys.add(key);
    }
  }

  #unindex(key: string): void {
    for (const [name, index] of this.#indexes) {
      const indexed = this.#indexed.get(name);
      for (const value of indexed?.get(key) ?? []) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
      indexed?.delete(key);
    }
  }
}

function sameVersion(a: KubeObject, b: KubeObject): boolean {
  const va = a.metadata?.resourceVersion;
  return va !== undefined && va === b.metadata?.resourceVersion;
}
