// `--workload-kinds <file>`: the rule set over more kinds with a pod template, for audit and policies.
import { parse } from "yaml";
import { defaultRuleSet, parseWorkloadKinds, type RuleSet, ruleSet } from "../app/rules/index.ts";
import { describeError } from "./audit/files.ts";
import type { CommandIo } from "./io.ts";

/** The rule set, with the file's workload kinds added; undefined after an error on stderr. */
export async function loadRuleSet(
  file: string | undefined,
  io: CommandIo,
  command: string,
): Promise<RuleSet | undefined> {
  if (file === undefined) return defaultRuleSet;
  let value: unknown;
  try {
    value = parse(await io.readInput(file), { version: "1.1" });
  } catch (error) {
    io.stderr(`${command}: --workload-kinds ${file}: ${describeError(error)}\n`);
    return undefined;
  }
  const kinds = parseWorkloadKinds(value);
  if (!kinds.ok) {
    for (const problem of kinds.error)
      io.stderr(`${command}: --workload-kinds ${file}: ${problem}\n`);
    return undefined;
  }
  return ruleSet(kinds.value);
}
