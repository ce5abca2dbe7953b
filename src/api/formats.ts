// String formats shared by the schema, each stated once for zod and for the API server (CEL).
import { z } from "zod";
import { withRules } from "./rules.ts";

/**
 * A syntax both checkers read the same way. Its `source` is matched by JavaScript here and by
 * RE2 in the API server, so it keeps to their common subset: no \s \w \d \b classes (Unicode in
 * JavaScript, ASCII in RE2), no '.' outside a class, no lookaround, no backreferences.
 */
export interface Format {
  readonly source: string;
  readonly message: string;
  readonly test: (value: string) => boolean;
}

export const format = (source: string, message: string): Format => {
  const regex = new RegExp(source);
  return { source, message, test: (value) => regex.test(value) };
};

const DNS_LABEL_SOURCE = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";

export const DNS_LABEL = format(
  `^${DNS_LABEL_SOURCE}$`,
  "must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit",
);
export const DNS_1035_LABEL = format(
  "^[a-z]([-a-z0-9]*[a-z0-9])?$",
  "must be a DNS-1035 label: lowercase letters, digits and '-', starting with a letter and ending with a letter or digit",
);
export const DNS_SUBDOMAIN = format(
  `^${DNS_LABEL_SOURCE}(\\.${DNS_LABEL_SOURCE})*$`,
  "must be a DNS subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (a name in the app's namespace, no '/')",
);
/** Kubernetes' IANA_SVC_NAME: a container port's name, at most 15 characters, with a letter. */
export const PORT_NAME = format(
  "^([a-z0-9]+-)*[0-9]*[a-z][a-z0-9]*(-[a-z0-9]+)*$",
  "must be an IANA service name: lowercase letters, digits and single '-' between them, with at least one letter",
);
export const ENV_VAR_NAME = format(
  "^[-._a-zA-Z][-._a-zA-Z0-9]*$",
  "must be a valid environment variable name: letters, digits, '_', '-' or '.', not starting with a digit",
);
/** A Secret or ConfigMap key: Kubernetes' IsConfigMapKey. */
export const CONFIG_KEY = format(
  "^([-_a-zA-Z0-9]|\\.[-_a-zA-Z0-9])[-._a-zA-Z0-9]*$",
  "must be a Secret or ConfigMap key: letters, digits, '-', '_' and '.', not '.' and not starting with '..'",
);
export const HTTP_HEADER_NAME = format(
  "^[-A-Za-z0-9]+$",
  "must be an HTTP header name: letters, digits and '-'",
);
export const IMAGE = format(
  "^[-A-Za-z0-9._:/@+\\[\\]]+$",
  "must be an image reference: letters, digits and . _ - : / @ + [ ], no whitespace",
);
/** A Kubernetes quantity without a sign; the exponent has at most three digits. */
export const QUANTITY = format(
  "^[+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][-+]?[0-9]{1,3})?$",
  "must be a non-negative Kubernetes quantity such as 128Mi, 1G, 500m or 1e3",
);
/** A quantity whose mantissa has a non-zero digit (QUANTITY assumed). */
export const POSITIVE_QUANTITY = format("^[+]?[0.]*[1-9]", "must be greater than zero");
/** An absolute path in normal form: no empty, '.' or '..' segment, no trailing '/', no ':' or control character. */
export const CLEAN_PATH = format(
  "^(/([^/.:\\x00-\\x1f\\x7f][^/:\\x00-\\x1f\\x7f]*|[.][^/.:\\x00-\\x1f\\x7f][^/:\\x00-\\x1f\\x7f]*|[.][.][^/:\\x00-\\x1f\\x7f]+))+$",
  "must be a clean absolute path: no '.', '..' or empty segments, no trailing '/', no ':' or control characters",
);
/** Go's time.ParseDuration syntax without a sign, each number at most 5 digits (so no sum overflows). */
export const DURATION = format(
  "^([0-9]{1,5}([.][0-9]{1,9})?(ns|us|µs|μs|ms|s|m|h))+$",
  "must be a duration such as 24h, 90m or 1h30m (each number at most 5 digits)",
);
/** A label or annotation key: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters. */
export const QUALIFIED_NAME_SOURCE = `(${DNS_LABEL_SOURCE}(\\.${DNS_LABEL_SOURCE})*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?`;
export const QUALIFIED_NAME = format(
  `^${QUALIFIED_NAME_SOURCE}$`,
  "must be a qualified name: an optional DNS subdomain and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
);
export const LABEL_VALUE = format(
  "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$",
  "must be a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
);
/** `group/version` of a kind served by an extension API: the group has a dot (as every CRD's has). */
export const GROUP_VERSION = format(
  `^${DNS_LABEL_SOURCE}(\\.${DNS_LABEL_SOURCE})+/[a-z]([-a-z0-9]*[a-z0-9])?$`,
  "must be <group>/<version> with a group that has a dot, e.g. redis.example.com/v1",
);
export const KIND_NAME = format(
  "^[A-Za-z]([-A-Za-z0-9]*[A-Za-z0-9])?$",
  "must be a kind: letters, digits and '-', starting with a letter, e.g. RedisInstance",
);

/** Length in Unicode code points: what the API server's maxLength and CEL's size() count. */
export function codePoints(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

/** Whether `value` has from `min` to `max` code points; counts them only when UTF-16 units cannot tell. */
export function lengthWithin(value: string, min: number, max: number): boolean {
  const units = value.length;
  // Each code point is one or two UTF-16 units.
  if (units <= max && units >= 2 * min) return true;
  const n = codePoints(value);
  return n >= min && n <= max;
}

/** A CEL string literal of `text`: raw, so regular-expression escapes stay as they are. */
export function celString(text: string): string {
  if (!text.includes("'")) return `r'${text}'`;
  if (!text.includes('"')) return `r"${text}"`;
  throw new Error(`cannot quote ${text} as a raw CEL string`);
}

/** The CEL test of `format` on a string expression. */
export const celMatches = (expression: string, f: Format): string =>
  `${expression}.matches(${celString(f.source)})`;

export interface TextOptions {
  readonly max: number;
  readonly min?: number;
  readonly format?: Format;
}

/**
 * A string bounded in code points (zod's own .max() counts UTF-16 units, the API server runes),
 * with an optional format checked by both as CEL with the same message.
 */
export function text(description: string, { max, min = 0, format: f }: TextOptions) {
  const base = z
    .string()
    .superRefine((value, ctx) => {
      if (lengthWithin(value, min, max)) return;
      const n = codePoints(value);
      if (n < min)
        ctx.addIssue({
          code: "custom",
          message: min === 1 ? "must not be empty" : `must be at least ${min} characters`,
        });
      else ctx.addIssue({ code: "custom", message: `must be at most ${max} characters` });
    })
    .meta({ description, maxLength: max, ...(min > 0 ? { minLength: min } : {}) });
  if (f === undefined) return base;
  return withRules(base, [
    {
      cel: celMatches("self", f),
      message: f.message,
      // A string of the wrong length has that one problem (the API server then skips CEL too).
      find: (v) => (!lengthWithin(v, min, max) || f.test(v) ? undefined : []),
    },
  ]);
}

/** A DNS-1123 label: what Kubernetes accepts as a container or volume name. */
export const dnsLabel = (description: string, maxLength = 63) =>
  text(description, { min: 1, max: maxLength, format: DNS_LABEL });

/** A name of an object in the app's namespace (a Secret, a ConfigMap, a Provisioned Service). */
export const objectName = (description: string) =>
  text(description, { min: 1, max: 253, format: DNS_SUBDOMAIN });

export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export interface IntOrStringOptions {
  readonly min: number;
  readonly max: number;
  readonly maxLength: number;
  readonly format: Format;
  /** The message when a string does not match the format. @default format.message */
  readonly message?: string;
}

/**
 * An int-or-string (a port, a quantity). The CRD states the integer bounds and the string
 * length as value validations (each applies to its own type) and the string format as CEL.
 */
export function intOrString(
  description: string,
  { min, max, maxLength, format: f, message = f.message }: IntOrStringOptions,
) {
  const base = z
    .union([z.number(), z.string()])
    .superRefine((value, ctx) => {
      if (typeof value === "number") {
        if (!Number.isInteger(value))
          ctx.addIssue({ code: "custom", message: "must be an integer" });
        else if (value < min) ctx.addIssue({ code: "custom", message: `must be ≥ ${min}` });
        else if (value > max) ctx.addIssue({ code: "custom", message: `must be ≤ ${max}` });
      } else if (!lengthWithin(value, 0, maxLength))
        ctx.addIssue({ code: "custom", message: `must be at most ${maxLength} characters` });
    })
    .meta({
      description,
      "x-kubernetes-int-or-string": true,
      minimum: min,
      maximum: max,
      maxLength,
    });
  return withRules(base, [
    {
      cel: `type(self) == int || ${celMatches("self", f)}`,
      message,
      find: (v) =>
        typeof v === "number" || !lengthWithin(v, 0, maxLength) || f.test(v) ? undefined : [],
    },
  ]);
}

/** A non-negative Kubernetes quantity: an integer or a string such as `128Mi`, `0.5`, `500m`. */
export const quantity = (description: string) =>
  intOrString(description, { min: 0, max: MAX_SAFE, maxLength: 64, format: QUANTITY });

/** Nanoseconds per unit of a Go duration. */
const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  μs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/**
 * Nanoseconds in a Go duration string matching DURATION, computed as Go's time.ParseDuration
 * does (the fraction through float64, truncated), so that comparisons agree with the API server.
 */
export function durationNanos(text: string): bigint {
  let total = 0n;
  for (const m of text.matchAll(/([0-9]+)(?:[.]([0-9]+))?(ns|us|µs|μs|ms|s|m|h)/g)) {
    const unit = UNIT_NS[m[3] ?? "ns"] ?? 1n;
    total += BigInt(m[1] ?? "0") * unit;
    const fraction = m[2];
    if (fraction !== undefined) {
      const scale = 10 ** fraction.length;
      total += BigInt(Math.trunc(Number(fraction) * (Number(unit) / scale)));
    }
  }
  return total;
}

/** Milliseconds in a Go duration string (assumed to match DURATION). */
export const parseDuration = (text: string): number => Number(durationNanos(text)) / 1e6;
