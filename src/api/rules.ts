// Cross-field rules stated once: checked by zod when parsing and by the API server as CEL.
import type { z } from "zod";

export interface CrossFieldRule<T> {
  /** The CEL expression over `self` the API server evaluates. */
  readonly cel: string;
  /** The message both checkers report. */
  readonly message: string;
  /** A field under `self` the API server reports (JSONPath, e.g. `.maxReplicas`). */
  readonly fieldPath?: string;
  /**
   * The same rule in TypeScript: the path (relative to the value) of the first violation,
   * or undefined when the value obeys it.
   */
  readonly find: (value: T) => readonly (string | number)[] | undefined;
}

export interface CelValidation {
  readonly rule: string;
  readonly message: string;
  readonly fieldPath?: string;
}

/** Attaches rules to a schema: zod refinements now, `x-kubernetes-validations` in the CRD. */
export function withRules<S extends z.ZodType>(
  schema: S,
  rules: readonly CrossFieldRule<z.output<S>>[],
): S {
  const refined = schema.superRefine((value, ctx) => {
    for (const rule of rules) {
      const path = rule.find(value);
      if (path !== undefined)
        ctx.addIssue({ code: "custom", message: rule.message, path: [...path] });
    }
  }) as unknown as S;
  const validations: CelValidation[] = rules.map((r) => ({
    rule: r.cel,
    message: r.message,
    ...(r.fieldPath === undefined ? {} : { fieldPath: r.fieldPath }),
  }));
  const meta = schema.meta() ?? {};
  const earlier = (meta["x-kubernetes-validations"] ?? []) as CelValidation[];
  return refined.meta({ ...meta, "x-kubernetes-validations": [...earlier, ...validations] }) as S;
}

/** Index of the first item whose key repeats an earlier item's key. */
export function firstDuplicate<T>(
  items: readonly T[],
  key: (item: T) => unknown,
): number | undefined {
  const seen = new Set<unknown>();
  for (const [i, item] of items.entries()) {
    const k = key(item);
    if (k === undefined) continue;
    if (seen.has(k)) return i;
    seen.add(k);
  }
  return undefined;
}

/**
 * Items of `schema` must differ in `key`. Only zod checks this: the API server refuses a
 * repeated key of a list map (`x-kubernetes-list-map-keys`) by itself.
 */
export function withUniqueKey<S extends z.ZodType<readonly Record<string, unknown>[]>>(
  schema: S,
  key: string,
): S {
  const meta = schema.meta() ?? {};
  return schema
    .superRefine((items, ctx) => {
      const i = firstDuplicate(items, (item) => item[key]);
      if (i !== undefined)
        ctx.addIssue({
          code: "custom",
          message: `duplicate ${key} ${JSON.stringify(items[i]?.[key])}: each ${key} may appear once`,
          path: [i, key],
        });
    })
    .meta(meta) as unknown as S;
}

/**
 * A rule that items of a list differ in a field (not the list map's key, which the API server
 * checks itself): `cel` is the field of item `x` as a CEL expression, `key` the same in TypeScript.
 */
export function uniqueRule<T>(
  field: string,
  message: string,
  key: (item: T) => unknown,
  cel: (x: string) => string = (x) => `${x}.${field}`,
): CrossFieldRule<readonly T[]> {
  return {
    cel: `self.all(p, self.filter(q, ${cel("q")} == ${cel("p")}).size() == 1)`,
    message,
    find: (v) => {
      const i = firstDuplicate(v, key);
      return i === undefined ? undefined : [i, field];
    },
  };
}
