// Runs the rule set over one object: every finding, in rule order, with the exemptions that name it.
import { type ExemptionContext, exemptionsOf } from "./exemptions.ts";
import { isObject, type JsonObject } from "./json.ts";
import { locatePodTemplate } from "./pod-template.ts";
import type { Finding, Rule, RuleInput } from "./rule.ts";
import { defaultRuleSet, type RuleSet, resolveScope } from "./rule-set.ts";
import { targetOf } from "./targets.ts";

/**
 * The findings of `set` in `object`; none for unknown kinds. A finding whose rule the object
 * or its namespace exempts carries the exemption (see `isViolation`); without a context, an
 * object's own exemptions are not honoured, as in a namespace that does not allow them.
 */
export function checkObject(
  object: unknown,
  set: RuleSet = defaultRuleSet,
  context: ExemptionContext = {},
): Finding[] {
  if (!isObject(object)) return [];
  const input: RuleInput = { object, template: locatePodTemplate(object, set.workloadKinds) };
  const findings = set.rules.flatMap((rule) =>
    targetOf(object, resolveScope(rule.targets, set)) ? findingsOf(rule, input) : [],
  );
  if (findings.length === 0) return findings;
  const exemptions = exemptionsOf(object as JsonObject, input.template, context);
  return findings.map((f) => {
    const exemption = exemptions.get(f.ruleId);
    return exemption === undefined ? f : { ...f, exemption };
  });
}

function findingsOf(rule: Rule, input: RuleInput): Finding[] {
  return rule.check(input).map((v) => ({
    ruleId: rule.id,
    severity: rule.severity,
    title: rule.title,
    path: v.path,
    message: v.message,
  }));
}
