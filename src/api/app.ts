// The whole StatelessApp object and its parser: field-path problems as values, never exceptions.
import { z } from "zod";
import {
  celMatches,
  codePoints,
  DNS_1035_LABEL,
  DNS_LABEL,
  DNS_SUBDOMAIN,
  LABEL_VALUE,
  QUALIFIED_NAME,
  text,
} from "./formats.ts";
import { API_VERSION, KIND } from "./group.ts";
import { err, ok, type Result } from "./result.ts";
import { withRules } from "./rules.ts";
import { statelessAppSpec } from "./spec.ts";
import { statelessAppStatus } from "./status.ts";

/** Children are named <app>-<process>; a Service name is a DNS-1035 label of at most 63 characters. */
export const MAX_CHILD_NAME_LENGTH = 63;

/** The release Job is `<app>-release-<hash>`: a Job name is at most 63 characters (its pods' job-name label). */
export const RELEASE_JOB_INFIX = "-release-";
/** Hex characters of the release hash in the Job's name. */
export const RELEASE_HASH_LENGTH = 10;
const MAX_RELEASE_APP_NAME = MAX_CHILD_NAME_LENGTH - RELEASE_JOB_INFIX.length - RELEASE_HASH_LENGTH;

const labelKey = (key: string) =>
  QUALIFIED_NAME.test(key) && !(key.includes("/") && key.indexOf("/") > 253);

/** ObjectMeta as the API server validates it natively (the CRD schema cannot say more than `object`). */
const metadata = z
  .strictObject({
    name: text("Name of the app: a DNS-1035 label.", { min: 1, max: MAX_CHILD_NAME_LENGTH }),
    generateName: z.string().optional(),
    namespace: text("Namespace of the app; the request's namespace when empty.", {
      max: 63,
      format: { ...DNS_LABEL, test: (v) => v === "" || DNS_LABEL.test(v) },
    }).optional(),
    selfLink: z.string().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    generation: z.int().optional(),
    creationTimestamp: z.string().optional(),
    deletionTimestamp: z.string().optional(),
    deletionGracePeriodSeconds: z.int().optional(),
    // ObjectMeta's maps read a null value as "".
    labels: z.record(z.string(), z.string().optional()).optional(),
    annotations: z.record(z.string(), z.string().optional()).optional(),
    ownerReferences: z.array(z.unknown()).optional(),
    finalizers: z.array(z.string()).optional(),
    managedFields: z.array(z.unknown()).optional(),
  })
  .superRefine((meta, ctx) => {
    // The API server checks a prefix as a name whose trailing '-' stands for a character.
    const prefix = meta.generateName?.replace(/-$/, "a");
    if (
      prefix !== undefined &&
      prefix !== "" &&
      (codePoints(prefix) > 253 || !DNS_SUBDOMAIN.test(prefix))
    )
      ctx.addIssue({
        code: "custom",
        path: ["generateName"],
        message: `a prefix that ${DNS_SUBDOMAIN.message}`,
      });
    for (const [i, finalizer] of (meta.finalizers ?? []).entries())
      if (!labelKey(finalizer))
        ctx.addIssue({ code: "custom", path: ["finalizers", i], message: QUALIFIED_NAME.message });
    for (const [key, value] of Object.entries(meta.labels ?? {})) {
      if (!labelKey(key))
        ctx.addIssue({
          code: "custom",
          path: ["labels", key],
          message: `key ${QUALIFIED_NAME.message}`,
        });
      else if (value !== undefined && (codePoints(value) > 63 || !LABEL_VALUE.test(value)))
        ctx.addIssue({ code: "custom", path: ["labels", key], message: LABEL_VALUE.message });
    }
    let size = 0;
    for (const [key, value] of Object.entries(meta.annotations ?? {})) {
      size += Buffer.byteLength(key) + Buffer.byteLength(value ?? "");
      if (!labelKey(key.toLowerCase()))
        ctx.addIssue({
          code: "custom",
          path: ["annotations", key],
          message: `key ${QUALIFIED_NAME.message}`,
        });
    }
    if (size > MAX_ANNOTATIONS_BYTES)
      ctx.addIssue({
        code: "custom",
        path: ["annotations"],
        message: `must be at most ${MAX_ANNOTATIONS_BYTES} bytes in total`,
      });
  });

/** The API server's limit on the annotations of one object. */
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

export const statelessApp = withRules(
  z.strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(KIND),
    metadata,
    spec: statelessAppSpec,
    // The API server drops the status of a create (it has its own subresource): so does the parser.
    status: statelessAppStatus.optional().catch(undefined),
  }),
  [
    {
      cel: `${celMatches("self.metadata.name", DNS_1035_LABEL)}`,
      message:
        "metadata.name must be a DNS-1035 label (lowercase letters, digits and '-', starting with a letter): it names Services",
      find: (app) => (DNS_1035_LABEL.test(app.metadata.name) ? undefined : ["metadata", "name"]),
    },
    {
      cel: `self.spec.processes.all(p, size(self.metadata.name) + size(p.name) < ${MAX_CHILD_NAME_LENGTH})`,
      message: `metadata.name and a process name must together be at most ${MAX_CHILD_NAME_LENGTH - 1} characters: <app>-<process> names the process type's Deployment and Service, at most ${MAX_CHILD_NAME_LENGTH}`,
      find: (app) => {
        const i = app.spec.processes.findIndex(
          (p) => codePoints(app.metadata.name) + codePoints(p.name) >= MAX_CHILD_NAME_LENGTH,
        );
        return i < 0 ? undefined : ["spec", "processes", i, "name"];
      },
    },
    {
      cel: `!has(self.spec.release) || size(self.metadata.name) <= ${MAX_RELEASE_APP_NAME}`,
      message: `metadata.name must be at most ${MAX_RELEASE_APP_NAME} characters with spec.release: its Job <app>${RELEASE_JOB_INFIX}<${RELEASE_HASH_LENGTH}-character hash> is at most ${MAX_CHILD_NAME_LENGTH}`,
      find: (app) =>
        app.spec.release !== undefined && codePoints(app.metadata.name) > MAX_RELEASE_APP_NAME
          ? ["metadata", "name"]
          : undefined,
    },
  ],
);

export type StatelessApp = z.output<typeof statelessApp>;

/** One thing wrong with an input, at a field path such as `spec.processes[1].ports[0].containerPort`. */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

export const formatProblem = (p: Problem): string =>
  p.path === "" ? p.message : `${p.path}: ${p.message}`;

/** Parses an untrusted object (a file, an API response) into a StatelessApp, or every problem in it. */
export function parseStatelessApp(input: unknown): Result<StatelessApp, Problem[]> {
  const parsed = statelessApp.safeParse(asApiServerReads(input), { error: describeIssue });
  if (parsed.success) return ok(parsed.data);
  return err(parsed.error.issues.flatMap(toProblems));
}

/**
 * The input as the API server reads it before it validates: a null field is an absent one (its
 * key stays, as an unknown field is refused even when null; the maps take null values as absent
 * too), a null list item stays null and is refused, and -0 is 0 (JSON has no negative zero).
 */
export function asApiServerReads(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(asApiServerReads);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, v === null ? undefined : asApiServerReads(v)]),
  );
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

function toProblems(issue: z.core.$ZodIssue): Problem[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({
      path: formatPath([...issue.path, key]),
      message: "unknown field",
    }));
  }
  return [{ path: formatPath(issue.path), message: issue.message }];
}

type RawIssue = z.core.$ZodRawIssue;

function describeIssue(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "required";
      if (issue.expected === "int" && typeof issue.input === "number") return "must be an integer";
      return `must be ${article(issue.expected)} (got ${kindOf(issue.input)})`;
    case "too_big":
      return bound("at most", "≤", issue.origin, issue.maximum);
    case "too_small":
      if (issue.origin === "string" && issue.minimum === 1) return "must not be empty";
      return bound("at least", "≥", issue.origin, issue.minimum);
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_union":
      return "must be an integer or a string";
    case "not_multiple_of":
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return undefined;
  }
}

function bound(words: string, sign: string, origin: string, limit: unknown): string {
  const n = String(limit);
  switch (origin) {
    case "string":
      return `must be ${words} ${n} characters`;
    case "array":
      return `must have ${words} ${n} items`;
    case "set":
    case "object":
      return `must have ${words} ${n} entries`;
    default:
      return `must be ${sign} ${n}`;
  }
}

const article = (what: string) =>
  what === "int" ? "an integer" : /^[aeiou]/.test(what) ? `an ${what}` : `a ${what}`;

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}
