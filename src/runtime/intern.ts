// One copy of each repeated string in the caches: every parsed object otherwise holds its own.
import { isRecord } from "./object.ts";

/** Longer strings are unique in practice (certificates, scripts); field-set texts are the exception. */
const MAX_SHARED_LENGTH = 64;

/**
 * A bounded table of strings, in two generations: a string looked up again is carried into the
 * current one, and when that fills up the older generation is dropped. Strings repeated across
 * objects (label values, image names, API versions, field-set texts) stay; unique ones (uids,
 * resourceVersions, timestamps) pass through and age out, so the table never holds more than
 * twice `capacity` strings, whatever the cluster holds.
 */
export class StringInterner {
  readonly #capacity: number;
  #current = new Map<string, string>();
  #previous = new Map<string, string>();

  constructor(capacity = 8192) {
    this.#capacity = capacity;
  }

  /** The table's copy of `s` (the first one seen), or `s` itself, now in the table. */
  intern(s: string): string {
    const current = this.#current.get(s);
    if (current !== undefined) return current;
    const shared = this.#previous.get(s) ?? s;
    if (this.#current.size >= this.#capacity) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
    this.#current.set(shared, shared);
    return shared;
  }

  get size(): number {
    return this.#current.size + this.#previous.size;
  }
}

/**
 * Replaces, in place, every short string of a freshly parsed JSON value (keys are shared by V8
 * already) and every managedFields field-set text by the interner's copy; returns the value.
 * Equal strings stay equal, so nothing reading the object can tell. Frozen parts are skipped.
 */
export function shareStrings<T>(value: T, interner: StringInterner): T {
  share(value, interner);
  return value;
}

function share(node: unknown, interner: StringInterner): void {
  if (Array.isArray(node)) {
    if (Object.isFrozen(node)) return;
    for (let i = 0; i < node.length; i++) {
      const v = node[i];
      if (typeof v === "string") {
        if (v.length <= MAX_SHARED_LENGTH) node[i] = interner.intern(v);
      } else if (typeof v === "object" && v !== null) share(v, interner);
    }
    return;
  }
  if (!isRecord(node) || Object.isFrozen(node)) return;
  for (const key of Object.keys(node)) {
    const v = node[key];
    if (typeof v === "string") {
      // A field set (our managedFields entry, kept as text) is the same for every object of a shape.
      if (key === "fieldsV1" || v.length <= MAX_SHARED_LENGTH) node[key] = interner.intern(v);
    } else if (typeof v === "object" && v !== null) share(v, interner);
  }
}
