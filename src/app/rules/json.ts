// Safe reads of untyped JSON: objects under audit arrive as whatever the YAML said.

/** A JSON object (a YAML mapping) whose values are not yet known. */
export type JsonObject = { readonly [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The mapping under `key`, or undefined when absent or not a mapping. */
export function objectAt(value: unknown, key: string): JsonObject | undefined {
  if (!isObject(value)) return undefined;
  const child = value[key];
  return isObject(child) ? child : undefined;
}

/** The list under `key`; an absent or malformed list reads as empty. */
export function listAt(value: unknown, key: string): readonly unknown[] {
  if (!isObject(value)) return [];
  const child = value[key];
  return Array.isArray(child) ? child : [];
}

/** The string under `key`, or undefined when absent or not a string. */
export function stringAt(value: unknown, key: string): string | undefined {
  if (!isObject(value)) return undefined;
  const child = value[key];
  return typeof child === "string" ? child : undefined;
}

/** Whether `key` is present with a value other than null (CEL's `has()`). */
export function hasField(value: unknown, key: string): boolean {
  return isObject(value) && value[key] !== undefined && value[key] !== null;
}

/** The value under a path of keys, or undefined when any step is missing. */
export function valueAt(value: unknown, path: readonly string[]): unknown {
  let current: unknown = value;
  for (const key of path) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}
