// vitest reporter for `npm run test:e2e`: one row per scenario (result, duration, time to recover).

import type { Reporter, TestModule } from "vitest/node";
import { SUMMARY_TYPES } from "./summary.ts";

type Row = { scenario: string; result: string; duration: string; recovery: string; notes: string };

function table(rows: readonly Row[]): string {
  const columns: (keyof Row)[] = ["scenario", "result", "duration", "recovery", "notes"];
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [
    line(columns),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map((r) => line(columns.map((c) => r[c]))),
  ].join("\n");
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const rows: Row[] = [];
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const annotations = test.annotations();
        const of = (type: string) =>
          annotations.filter((a) => a.type === type).map((a) => a.message);
        const duration = test.diagnostic()?.duration;
        rows.push({
          scenario: test.name,
          result: test.result().state,
          duration: duration === undefined ? "-" : `${(duration / 1000).toFixed(1)} s`,
          recovery: of(SUMMARY_TYPES.recovery).join("; ") || "-",
          notes: of(SUMMARY_TYPES.note).join("; "),
        });
      }
    }
    if (rows.length === 0) return;
    // Numbered scenarios in their order (1, 1b, 2, …), then the other e2e tests.
    rows.sort((a, b) => {
      const na = /^\d/.test(a.scenario);
      const nb = /^\d/.test(b.scenario);
      if (na !== nb) return na ? -1 : 1;
      return a.scenario.localeCompare(b.scenario, "en", { numeric: true });
    });
    process.stdout.write(`\ne2e summary\n${table(rows)}\n\n`);
  }
}
