// The generated policies: one per severity, each with the bindings its severity calls for.
import { rules as allRules, type Rule, type Severity } from "../rules/index.ts";
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

export const policyLabels = {
  "app.kubernetes.io/name": "stateless-operator",
  "app.kubernetes.io/component": "admission-policy",
} as const;

export interface PolicyGroup {
  readonly severity: Severity;
  readonly policy: Json;
  readonly bindings: readonly Json[];
}

/** The policies and bindings enforcing `rules` (the whole rule set by default). */
export function renderPolicySet(rules: readonly Rule[] = allRules): PolicyGroup[] {
  return tiers.flatMap((tier) => {
    const tierRules = rules.filter((r) => r.severity === tier.severity);
    if (tierRules.length === 0) return [];
    return [
      {
        severity: tier.severity,
        policy: renderPolicy({
          name: tier.name,
          rules: tierRules,
          labels: policyLabels,
          intro: tier.intro,
        }),
        bindings: tier.bindings.map((plan) => renderBinding(tier.name, plan, policyLabels)),
      },
    ];
  });
}
