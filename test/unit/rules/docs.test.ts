// docs/enforcement.md keeps up with the rule set: a table row per rule, with its title and severity.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect, test } from "vitest";
import { rules } from "../../../src/app/rules/index.ts";

const doc = readFileSync(resolve(import.meta.dirname, "../../../docs/enforcement.md"), "utf8");

// Cells trimmed: the formatter pads the table's columns.
const rows = doc.split("\n").map((line) => line.split("|").map((cell) => cell.trim()));

test.each(rules.map((r) => [r.id, r] as const))(
  "%s has its row in docs/enforcement.md",
  (id, rule) => {
    const cells = rows.find((row) => row[1] === id);
    expect(cells?.[2]).toBe(rule.severity);
    expect(cells?.[3]).toContain(`**${rule.title}**`);
  },
);
