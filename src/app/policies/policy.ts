// Renders a ValidatingAdmissionPolicy that runs a set of rules' CEL.
import { celString, celStrings, groupKind, type Rule, type Target } from "../rules/index.ts";
import { policyVariables } from "./variables.ts";

type Json = { readonly [key: string]: unknown };

/** The variable holding one rule's violations, e.g. `tf_proc_001`. */
export const ruleVariable = (rule: Rule): string => rule.id.toLowerCase().replaceAll("-", "_");

/** One rule as CEL: its cases, each guarded by the kinds it is for, as "ID path: title" strings. */
export function ruleExpression(rule: Rule): string {
  const cases = rule.cel.map(
    (c) => `variables.gk in ${celStrings(c.targets.map(groupKind))} ? (\n${c.paths}\n) :`,
  );
  const prefix = celString(`${rule.id} `);
  const suffix = celString(`: ${rule.title}`);
  return `(${cases.join("\n")}\n[]).map(p, ${prefix} + p + ${suffix})`;
}

/** matchConstraints rules: one per API group, resources sorted, CREATE and UPDATE. */
function resourceRules(targets: readonly Target[]): Json[] {
  const byGroup = new Map<string, Set<string>>();
  for (const t of targets)
    byGroup.set(t.group, (byGroup.get(t.group) ?? new Set()).add(t.resource));
  return [...byGroup.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([group, resources]) => ({
      apiGroups: [group],
      apiVersions: ["*"],
      operations: ["CREATE", "UPDATE"],
      resources: [...resources].sort(),
      scope: "*",
    }));
}

export interface PolicyOptions {
  readonly name: string;
  readonly rules: readonly Rule[];
  readonly labels: Readonly<Record<string, string>>;
  /** Leads the admission message: "<intro>: TF-PROC-001 spec.sessionAffinity: …; …". */
  readonly intro: string;
}

export function renderPolicy(options: PolicyOptions): Json {
  const { name, rules } = options;
  const ids = rules.map((r) => r.id);
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    metadata: { name, labels: options.labels },
    spec: {
      failurePolicy: "Fail",
      // The API server's defaults, written out: matchConstraints is atomic, so a second apply tool
      // (two GitOps controllers, kubectl) would conflict over fields it only sees as defaulted.
      matchConstraints: {
        matchPolicy: "Equivalent",
        namespaceSelector: {},
        objectSelector: {},
        resourceRules: resourceRules(rules.flatMap((r) => r.targets)),
      },
      variables: [
        ...policyVariables,
        ...rules.map((r) => ({ name: ruleVariable(r), expression: ruleExpression(r) })),
        {
          name: "violations",
          expression: rules.map((r) => `variables.${ruleVariable(r)}`).join(" + "),
        },
      ],
      validations: [
        {
          expression: "size(variables.violations) == 0",
          messageExpression: `${celString(`${options.intro}: `)} + variables.violations.join('; ')`,
          message: `${options.intro} (${ids.join(", ")})`,
          reason: "Forbidden",
        },
      ],
    },
  };
}
