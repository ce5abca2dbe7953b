// Renders a ValidatingAdmissionPolicy that runs a set of rules' CEL.
import {
  celString,
  celStrings,
  EXEMPT_ANNOTATION,
  EXEMPT_REASON_ANNOTATION,
  EXEMPTIONS_ALLOWED,
  EXEMPTIONS_LABEL,
  groupKind,
  type Rule,
  type RuleSet,
  resolveScope,
  type Target,
} from "../rules/index.ts";
import { policyVariables } from "./variables.ts";

type Json = { readonly [key: string]: unknown };

/** The variable holding one rule's violations, e.g. `tf_proc_001`. */
export const ruleVariable = (rule: Rule): string => rule.id.toLowerCase().replaceAll("-", "_");

/** One rule as CEL: its cases, each guarded by the kinds it is for, as "ID path: title" strings. */
export function ruleExpression(rule: Rule, set: RuleSet): string {
  const cases = rule.cel.map(
    (c) =>
      `variables.gk in ${celStrings(resolveScope(c.targets, set).map(groupKind))} ? (\n${c.paths}\n) :`,
  );
  const prefix = celString(`${rule.id} `);
  const suffix = celString(`: ${rule.title}`);
  return `(${cases.join("\n")}\n[]).map(p, ${prefix} + p + ${suffix})`;
}

/** matchConstraints rules: one per API group, resources (and subresources) sorted, CREATE and UPDATE. */
function resourceRules(targets: readonly Target[]): Json[] {
  const byGroup = new Map<string, Set<string>>();
  for (const t of targets) {
    const resources = byGroup.get(t.group) ?? new Set();
    resources.add(t.resource);
    for (const sub of t.subresources ?? []) resources.add(`${t.resource}/${sub}`);
    byGroup.set(t.group, resources);
  }
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

/**
 * What the policy reports: the violations that count (a tier), or the findings its exemptions
 * set aside (the exemptions policy, which only ever warns or audits).
 */
export type PolicyMode = "violations" | "exempted";

export interface PolicyOptions {
  readonly name: string;
  readonly set: RuleSet;
  readonly rules: readonly Rule[];
  readonly labels: Readonly<Record<string, string>>;
  /** Leads the admission message: "<intro>: TF-PROC-001 spec.sessionAffinity: …; …". */
  readonly intro: string;
  readonly mode: PolicyMode;
}

const ignoredNote = celString(
  `. ${EXEMPT_ANNOTATION} is not honoured here: it needs ${EXEMPT_REASON_ANNOTATION}, and a Namespace an admin labelled ${EXEMPTIONS_LABEL}=${EXEMPTIONS_ALLOWED}`,
);

/** Why the findings are exempted, from the namespace's and the object's reasons. */
const exemptionReasons = [
  "(size(variables.namespaceExemptRules) > 0 ? ' (namespace: ' + variables.namespaceAnnotations[",
  celString(EXEMPT_REASON_ANNOTATION),
  "].trim() + ')' : '') + (variables.objectExemptHonoured ? ' (object: ' + variables.objectExemptReason + ')' : '')",
].join("");

export function renderPolicy(options: PolicyOptions): Json {
  const { name, rules, set, mode } = options;
  const ids = rules.map((r) => r.id);
  const guarded = (rule: Rule) =>
    mode === "violations"
      ? `${celString(rule.id)} in variables.exempt ? [] : ${ruleExpression(rule, set)}`
      : `${celString(rule.id)} in variables.exempt ? ${ruleExpression(rule, set)} : []`;
  const message =
    mode === "violations"
      ? `${celString(`${options.intro}: `)} + variables.violations.join('; ') + (variables.exemptionIgnored ? ${ignoredNote} : '')`
      : `${celString(`${options.intro}: `)} + variables.violations.join('; ') + ${exemptionReasons}`;
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
        resourceRules: resourceRules(rules.flatMap((r) => resolveScope(r.targets, set))),
      },
      variables: [
        ...policyVariables(set),
        ...rules.map((r) => ({ name: ruleVariable(r), expression: guarded(r) })),
        {
          name: "violations",
          expression: rules.map((r) => `variables.${ruleVariable(r)}`).join(" + "),
        },
      ],
      validations: [
        {
          expression: "size(variables.violations) == 0",
          messageExpression: message,
          message: `${options.intro} (${ids.join(", ")})`,
          reason: "Forbidden",
        },
      ],
    },
  };
}
