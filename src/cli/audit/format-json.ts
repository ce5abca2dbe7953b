// `-o json`: the report as one JSON document, for scripts.
import { countBySeverity, exempted, exitCodeOf, pathText, type Report } from "./report.ts";

export function formatJson(report: Report): string {
  const body = {
    failOn: report.failOn,
    failed: exitCodeOf(report) !== 0,
    summary: {
      objects: report.objects,
      findings: report.findings.length,
      ...countBySeverity(report),
      exempted: exempted(report).length,
    },
    findings: report.findings.map((f) => ({
      ruleId: f.ruleId,
      severity: f.severity,
      title: f.title,
      message: f.message,
      path: pathText(f),
      object: f.object,
      ...(f.origin.renderedFrom === undefined ? {} : { renderedFrom: f.origin.renderedFrom }),
      ...(f.origin.file === undefined
        ? {}
        : { location: { file: f.origin.file, ...(f.position ?? {}) } }),
      ...(f.origin.helmSource === undefined ? {} : { helmSource: f.origin.helmSource }),
      ...(f.exemption === undefined ? {} : { exemption: f.exemption }),
    })),
    errors: report.errors.map((e) => ({ file: e.file, ...(e.position ?? {}), message: e.message })),
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}
