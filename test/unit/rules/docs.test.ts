// docs/enforcement.md keeps up with the rule set: a table row per rule, with its title and severity.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect, test } from "vitest";
import { rules } from "../../../src/app/rules/index.ts";

const doc = readFileSync(resolve(import.meta.dirname, "../../../docs/enforcement.md"), "utf8");

test.each(rules.map((r) => [r.id, r] as const))(
  "%s has its row in docs/enforcement.md",
  (id, rule) => {
    const row = doc.split("\n").find((line) => line.startsWith(`| ${id} |`));
    expect(row).toBeDefined();
    expect(row).toContain(`| ${rule.severity} |`);
    expect(row).toContain(`**${rule.title}**`);
  },
);
