// The default output: one aligned row per finding, then a summary line.
import { isViolation } from "../../app/rules/index.ts";
import {
  countBySeverity,
  exempted,
  failing,
  formatLocation,
  pathText,
  type Report,
} from "./report.ts";
import { describeRef } from "./subject.ts";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export function formatTable(report: Report): string {
  const rows = report.findings.map((f) => {
    const via =
      f.origin.renderedFrom === undefined ? "" : ` (from ${describeRef(f.origin.renderedFrom)})`;
    const helm = f.origin.helmSource === undefined ? "" : ` [${f.origin.helmSource}]`;
    const exemption =
      f.exemption === undefined
        ? ""
        : isViolation(f)
          ? ` (${f.exemption.note ?? "exemption not honoured"})`
          : ` (exempt by ${f.exemption.by}: ${f.exemption.reason})`;
    return [
      f.ruleId,
      isViolation(f) ? f.severity : "exempt",
      `${describeRef(f.object)}${via}`,
      pathText(f),
      `${f.message}${exemption}`,
      `${formatLocation(f) ?? "cluster"}${helm}`,
    ];
  });
  const header = ["RULE", "SEVERITY", "OBJECT", "FIELD", "MESSAGE", "LOCATION"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const table = rows.length === 0 ? [] : [line(header), ...rows.map(line)];
  return `${[...table, summarize(report)].join("\n")}\n`;
}

export function summarize(report: Report): string {
  const objects = plural(report.objects, "object");
  if (report.findings.length === 0) return `no findings in ${objects}`;
  const counts = countBySeverity(report);
  const exempt = exempted(report).length;
  const parts = [
    ...(["error", "warning", "info"] as const)
      .filter((s) => counts[s] > 0)
      .map((s) => (s === "info" ? `${counts[s]} info` : plural(counts[s], s))),
    ...(exempt > 0 ? [`${exempt} exempt`] : []),
  ];
  const verdict =
    failing(report).length > 0
      ? `fails at --fail-on ${report.failOn}`
      : `passes at --fail-on ${report.failOn}`;
  return `${plural(report.findings.length, "finding")} (${parts.join(", ")}) in ${objects}; ${verdict}`;
}
