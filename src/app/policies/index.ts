// ValidatingAdmissionPolicies generated from the rule set. Pure; scripts write the files.
export {
  type BindingPlan,
  ENFORCE_LABEL,
  type EnforcementMode,
  enforcementModes,
  type ValidationAction,
} from "./admission-bindings.ts";
export { type GeneratedFile, POLICY_DIR, renderPolicyFiles } from "./files.ts";
export { renderPolicy, ruleExpression, ruleVariable } from "./policy.ts";
export { type PolicyGroup, policyLabels, policyNameOf, renderPolicySet } from "./policy-set.ts";
export { policyVariables } from "./variables.ts";
