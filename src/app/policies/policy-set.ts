// The generated policies: one per severity with the bindings it calls for, and one for exemptions.
import { defaultRuleSet, type RuleSet, type Severity } from "../rules/index.ts";
import { type BindingPlan, renderBinding } from "./admission-bindings.ts";
import { renderPolicy } from "./policy.ts";

type Json = { readonly [key: string]: unknown };

interface Tier {
  readonly severity: Severity;
  readonly name: string;
  readonly intro: string;
  readonly bindings: readonly BindingPlan[];
}

/**
 * A binding names one policy, so each severity is a policy of its own: errors are refused in
 * `deny` namespaces, warnings only ever warn (a StatefulSet may be legitimate), and advice
 * (info) is recorded in the audit log only. The message of a refusal names every violation.
 */
const tiers: readonly Tier[] = [
  {
    severity: "error",
    name: "twelvefactor-processes",
    intro: "violates the twelve-factor processes rule",
    bindings: [
      { modes: ["deny"], actions: ["Deny"] },
      { modes: ["warn"], actions: ["Warn"] },
      { modes: ["audit"], actions: ["Audit"] },
    ],
  },
  {
    severity: "warning",
    name: "twelvefactor-processes-warnings",
    intro: "may violate the twelve-factor processes rule",
    bindings: [
      { modes: ["deny", "warn"], actions: ["Warn"] },
      { modes: ["audit"], actions: ["Audit"] },
    ],
  },
  {
    severity: "info",
    name: "twelvefactor-processes-advice",
    intro: "twelve-factor processes advice",
    bindings: [{ modes: ["deny", "warn", "audit"], actions: ["Audit"] }],
  },
];

/**
 * Exempted findings of every severity, never silent: a warning where the namespace's findings
 * are warnings or refusals, an audit-log entry where they are recorded.
 */
const exemptions = {
  name: "twelvefactor-processes-exemptions",
  intro: "exempted from the twelve-factor processes rule",
  bindings: [
    { modes: ["deny", "warn"], actions: ["Warn"] },
    { modes: ["audit"], actions: ["Audit"] },
  ] satisfies BindingPlan[],
} as const;

/** The name of the policy that enforces rules of `severity`. */
export function policyNameOf(severity: Severity): string {
  const tier = tiers.find((t) => t.severity === severity);
  if (tier === undefined) throw new Error(`no policy for severity ${severity}`);
  return tier.name;
}

export const policyLabels = {
  "app.kubernetes.io/name": "stateless-operator",
  "app.kubernetes.io/component": "admission-policy",
} as const;

export interface PolicyGroup {
  readonly name: string;
  /** The tier's severity; absent for the exemptions policy. */
  readonly severity?: Severity;
  readonly policy: Json;
  readonly bindings: readonly Json[];
}

/** The policies and bindings enforcing `set` (the default rule set unless told). */
export function renderPolicySet(set: RuleSet = defaultRuleSet): PolicyGroup[] {
  const group = (
    name: string,
    plans: readonly BindingPlan[],
    policy: Json,
    severity?: Severity,
  ): PolicyGroup => ({
    name,
    ...(severity === undefined ? {} : { severity }),
    policy,
    bindings: plans.map((plan) => renderBinding(name, plan, policyLabels)),
  });
  const tierGroups = tiers.flatMap((tier) => {
    const rules = set.rules.filter((r) => r.severity === tier.severity);
    if (rules.length === 0) return [];
    const policy = renderPolicy({
      name: tier.name,
      set,
      rules,
      labels: policyLabels,
      intro: tier.intro,
      mode: "violations",
    });
    return [group(tier.name, tier.bindings, policy, tier.severity)];
  });
  const exempted = renderPolicy({
    name: exemptions.name,
    set,
    rules: set.rules,
    labels: policyLabels,
    intro: exemptions.intro,
    mode: "exempted",
  });
  return [...tierGroups, group(exemptions.name, exemptions.bindings, exempted)];
}
