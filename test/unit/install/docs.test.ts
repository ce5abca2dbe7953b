// docs/operations.md stays true to the code: every configuration variable, metric and permission is documented.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect, test } from "vitest";
import { operatorRules } from "../../../scripts/install/index.ts";
import { alertRules } from "../../../scripts/install/monitoring.ts";
import { metricsAuthRules } from "../../../scripts/install/rbac.ts";
import { configVariables } from "../../../src/platform/config.ts";
import { createMetrics } from "../../../src/platform/metrics.ts";

const root = resolve(import.meta.dirname, "../../..");
const operations = readFileSync(join(root, "docs/operations.md"), "utf8");

/** Rows of the Markdown table whose header starts with `first`: cells without the pipes. */
function tableAfter(text: string, first: string): string[][] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  expect(start, `a table starting with "${first}"`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

test("the configuration table lists every variable, in order, with its description", () => {
  const rows = tableAfter(operations, "Variable");
  expect(rows.map((r) => r[0])).toEqual(configVariables().map((v) => `\`${v.name}\``));
  for (const v of configVariables()) {
    const row = rows.find((r) => r[0] === `\`${v.name}\``);
    expect(row?.[2], v.name).toBe(v.description);
  }
});

test("the metrics table lists every operator metric with its type and help", async () => {
  const metrics = (await createMetrics().registry.getMetricsAsJSON()).filter(
    (m) => !/^(process|nodejs)_/.test(m.name),
  );
  expect(metrics.length).toBeGreaterThan(10);
  const rows = tableAfter(operations, "Metric");
  expect(rows.map((r) => r[0]).sort()).toEqual(metrics.map((m) => `\`${m.name}\``).sort());
  for (const m of metrics) {
    const row = rows.find((r) => r[0] === `\`${m.name}\``);
    expect(row?.[1], m.name).toBe(String(m.type));
    expect(row?.[3], m.name).toBe(m.help);
  }
});

test("the permissions table names every resource and verb the ClusterRole grants", () => {
  const rows = tableAfter(operations, "Resource");
  for (const rule of operatorRules) {
    for (const resource of rule.resources) {
      const row = rows.find((r) => (r[0] ?? "").includes(`\`${resource}`));
      expect(row, resource).toBeDefined();
      for (const verb of rule.verbs) expect(row?.[1], `${resource} ${verb}`).toContain(verb);
    }
  }
});

test("the alerts table lists every alert rule with its severity and duration", () => {
  const rows = tableAfter(operations, "Alert");
  expect(rows.map((r) => r[0])).toEqual(alertRules.map((a) => `\`${a.alert}\``));
  for (const a of alertRules) {
    const row = rows.find((r) => r[0] === `\`${a.alert}\``);
    expect([row?.[1], row?.[3]], a.alert).toEqual([a.severity, a.for]);
  }
});

test("the permissions table names the metrics reviews the operator sends", () => {
  const rows = tableAfter(operations, "Resource");
  for (const rule of metricsAuthRules)
    for (const resource of rule.resources)
      expect(rows.some((r) => (r[0] ?? "").includes(`\`${resource}.`))).toBe(true);
});
