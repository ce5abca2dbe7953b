// docs/enforcement.md keeps up with the rule set: its rules, injectors and workload kinds.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect, test } from "vitest";
import { defaultWorkloadKinds, injectors, rules } from "../../../src/app/rules/index.ts";

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

test.each(injectors.map((i) => [i.name, i] as const))(
  "the injector table lists %s's mark, containers and volumes",
  (name, injector) => {
    const cells = rows.find((row) => row[1] === name);
    expect(cells?.[2]).toContain(`\`${injector.mark.key}\``);
    for (const c of injector.containers) expect(cells?.[3]).toContain(`\`${c}\``);
    for (const v of injector.emptyDirs) expect(cells?.[4]).toContain(`\`${v}\``);
  },
);

test.each(defaultWorkloadKinds.map((k) => [`${k.kind}.${k.group}`, k] as const))(
  "the workload-kind table lists %s",
  (_name, kind) => {
    const cells = rows.find((row) => row[1] === kind.kind && row[3] === `\`${kind.resource}\``);
    expect(cells?.[4]).toBe(
      kind.template.length === 0 ? "(the object)" : `\`${kind.template.join(".")}\``,
    );
  },
);
