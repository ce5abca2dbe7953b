// What a rule is: identity, severity, explanation, a TypeScript check and the same check in CEL.
import type { Exemption } from "./exemptions.ts";
import type { FieldPath } from "./field-path.ts";
import type { JsonObject } from "./json.ts";
import type { PodTemplate } from "./pod-template.ts";
import type { Target } from "./targets.ts";

export const severities = ["error", "warning", "info"] as const;
export type Severity = (typeof severities)[number];

const rank: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

/** Whether `severity` is `threshold` or worse. */
export function isAtLeast(severity: Severity, threshold: Severity): boolean {
  return rank[severity] >= rank[threshold];
}

/** One place in one object that breaks a rule, as a check reports it. */
export interface Violation {
  readonly path: FieldPath;
  readonly message: string;
}

/** Every workload kind of the rule set (see workload-kinds.ts), in place of a list of targets. */
export const POD_TEMPLATES = "pod templates";
/** The kinds a rule, or one CEL case of it, looks at. */
export type Scope = readonly Target[] | typeof POD_TEMPLATES;

/** What a check reads: the object and, for workload kinds, its pod template. */
export interface RuleInput {
  readonly object: JsonObject;
  readonly template: PodTemplate | undefined;
}

/**
 * The same check in CEL for the admission policies, for the objects of some targets.
 * `paths` evaluates to a list(string) of field paths (formatted as `formatPath` does); it
 * may use `object`, `request` and the policy variables documented in `policies/variables.ts`.
 */
export interface CelCase {
  readonly targets: Scope;
  readonly paths: string;
}

export interface Rule {
  /** Stable id, `TF-PROC-NNN`, shown in every finding and admission message. */
  readonly id: string;
  /** A short noun phrase naming what is found; also the admission message text. */
  readonly title: string;
  readonly severity: Severity;
  /** Why the finding breaks the processes rule, for people. */
  readonly why: string;
  /** What to do instead. */
  readonly fix: string;
  /** The kinds the rule looks at. */
  readonly targets: Scope;
  /** Finds the violations in an object of one of the targets. Pure. */
  readonly check: (input: RuleInput) => readonly Violation[];
  /** The check in CEL, case by case; together the cases cover `targets`. */
  readonly cel: readonly CelCase[];
}

/** A violation with the rule that found it. */
export interface Finding {
  readonly ruleId: string;
  readonly severity: Severity;
  readonly title: string;
  readonly path: FieldPath;
  readonly message: string;
  /** An exemption naming the rule; when honoured, the finding is not a violation. */
  readonly exemption?: Exemption;
}

/** Whether a finding counts: it has no honoured exemption. */
export const isViolation = (finding: Finding): boolean => finding.exemption?.honoured !== true;
