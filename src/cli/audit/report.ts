// The result of an audit: findings placed in their objects and files, and the verdict.
import {
  checkObject,
  type ExemptionContext,
  type Finding,
  formatPath,
  isAtLeast,
  isViolation,
  type NamespaceFacts,
  namespaceFacts,
  type RuleSet,
  type Severity,
} from "../../app/rules/index.ts";
import type { InputError, ObjectRef, Origin, Position, Subject } from "./subject.ts";

export interface PlacedFinding extends Finding {
  readonly object: ObjectRef;
  readonly origin: Origin;
  readonly position?: Position;
}

export interface Report {
  /** How many objects were checked. */
  readonly objects: number;
  readonly findings: readonly PlacedFinding[];
  readonly errors: readonly InputError[];
  readonly failOn: Severity;
}

export interface ReportOptions {
  readonly failOn: Severity;
  readonly set: RuleSet;
  /** Namespaces by name, read from the cluster; Namespace objects in the input are added. */
  readonly namespaces?: ReadonlyMap<string, NamespaceFacts>;
  /** `--allow-exemptions`: honour objects' exemptions wherever their namespace is unknown. */
  readonly allowObjectExemptions?: boolean;
}

/** The Namespaces among the subjects (kustomize and Helm output often carry them). */
function namespacesIn(subjects: readonly Subject[]): Map<string, NamespaceFacts> {
  const out = new Map<string, NamespaceFacts>();
  for (const s of subjects) {
    if (s.ref.apiVersion !== "v1" || s.ref.kind !== "Namespace") continue;
    const facts = namespaceFacts(s.object);
    if (facts !== undefined) out.set(facts.name, facts);
  }
  return out;
}

export function buildReport(
  subjects: readonly Subject[],
  errors: readonly InputError[],
  options: ReportOptions,
): Report {
  const { failOn, set } = options;
  const namespaces = new Map([...namespacesIn(subjects), ...(options.namespaces ?? [])]);
  const contextOf = (subject: Subject): ExemptionContext => {
    const namespace =
      subject.ref.namespace === undefined ? undefined : namespaces.get(subject.ref.namespace);
    return {
      ...(namespace === undefined ? {} : { namespace }),
      allowObjectExemptions: namespace === undefined && options.allowObjectExemptions === true,
    };
  };
  const findings = subjects.flatMap((subject) =>
    checkObject(subject.object, set, contextOf(subject)).map((finding): PlacedFinding => {
      const position = subject.locate(finding.path);
      return {
        ...finding,
        object: subject.ref,
        origin: subject.origin,
        ...(position === undefined ? {} : { position }),
      };
    }),
  );
  return { objects: subjects.length, findings, errors, failOn };
}

/** The findings that count and are at or above `--fail-on`. */
export const failing = (report: Report): PlacedFinding[] =>
  report.findings.filter((f) => isViolation(f) && isAtLeast(f.severity, report.failOn));

/** The findings an honoured exemption sets aside. */
export const exempted = (report: Report): PlacedFinding[] =>
  report.findings.filter((f) => !isViolation(f));

/** The exit code: 2 for unreadable input, 1 for a finding at or above `--fail-on`, else 0. */
export function exitCodeOf(report: Report): number {
  if (report.errors.length > 0) return 2;
  return failing(report).length > 0 ? 1 : 0;
}

/** Violations by severity (exempted findings are not counted). */
export function countBySeverity(report: Report): Record<Severity, number> {
  const counts = { error: 0, warning: 0, info: 0 };
  for (const f of report.findings) if (isViolation(f)) counts[f.severity]++;
  return counts;
}

/** `file:line:column`, `file`, or undefined for objects read from a cluster. */
export function formatLocation(finding: PlacedFinding): string | undefined {
  const file = finding.origin.file === "-" ? "<stdin>" : finding.origin.file;
  if (file === undefined) return undefined;
  const at = finding.position;
  return at === undefined ? file : `${file}:${at.line}:${at.column}`;
}

export const pathText = (finding: PlacedFinding): string => formatPath(finding.path);
