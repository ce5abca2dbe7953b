// The result of an audit: findings placed in their objects and files, and the verdict.
import {
  checkObject,
  type Finding,
  formatPath,
  isAtLeast,
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

export function buildReport(
  subjects: readonly Subject[],
  errors: readonly InputError[],
  failOn: Severity,
): Report {
  const findings = subjects.flatMap((subject) =>
    checkObject(subject.object).map((finding): PlacedFinding => {
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

/** Whether a finding is at or above `--fail-on`. */
export const failing = (report: Report): PlacedFinding[] =>
  report.findings.filter((f) => isAtLeast(f.severity, report.failOn));

/** The exit code: 2 for unreadable input, 1 for a finding at or above `--fail-on`, else 0. */
export function exitCodeOf(report: Report): number {
  if (report.errors.length > 0) return 2;
  return failing(report).length > 0 ? 1 : 0;
}

export function countBySeverity(report: Report): Record<Severity, number> {
  const counts = { error: 0, warning: 0, info: 0 };
  for (const f of report.findings) counts[f.severity]++;
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
