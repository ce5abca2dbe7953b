// What the operator's PolicyReports need from RBAC: read what the rules look at, write the reports.
import { defaultRuleSet, type RuleSet, targetsOf } from "../rules/index.ts";
import { POLICY_REPORT } from "./policy-report.ts";

export interface ReportPolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

/** List on every resource the rules look at (by group), Namespaces, and the reports themselves. */
export function policyReportRules(set: RuleSet = defaultRuleSet): ReportPolicyRule[] {
  const byGroup = new Map<string, Set<string>>();
  for (const t of targetsOf(set))
    byGroup.set(t.group, (byGroup.get(t.group) ?? new Set()).add(t.resource));
  return [
    ...[...byGroup.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([group, resources]) => ({
        apiGroups: [group],
        resources: [...resources].sort(),
        verbs: ["list"],
      })),
    { apiGroups: [""], resources: ["namespaces"], verbs: ["get", "list"] },
    {
      apiGroups: [POLICY_REPORT.group],
      resources: [POLICY_REPORT.plural],
      verbs: ["list", "create", "patch", "delete"],
    },
  ];
}
