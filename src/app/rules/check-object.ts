// Runs the rule set over one object: every finding, in rule order.
import { isObject, type JsonObject } from "./json.ts";
import type { Finding, Rule } from "./rule.ts";
import { rules as allRules } from "./rule-set.ts";
import { targetOf } from "./targets.ts";

/** The findings of `rules` (the whole set by default) in `object`; none for unknown kinds. */
export function checkObject(object: unknown, rules: readonly Rule[] = allRules): Finding[] {
  if (!isObject(object)) return [];
  return rules.flatMap((rule) => (targetOf(object, rule.targets) ? findingsOf(rule, object) : []));
}

function findingsOf(rule: Rule, object: JsonObject): Finding[] {
  return rule.check(object).map((v) => ({
    ruleId: rule.id,
    severity: rule.severity,
    title: rule.title,
    path: v.path,
    message: v.message,
  }));
}
