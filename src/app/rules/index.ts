// The processes rule set: pure checks of Kubernetes objects, shared by audit and admission.
export { celString, celStrings } from "./cel.ts";
export { checkObject } from "./check-object.ts";
export {
  EXEMPT_ANNOTATION,
  EXEMPT_REASON_ANNOTATION,
  EXEMPTIONS_ALLOWED,
  EXEMPTIONS_LABEL,
  type Exemption,
  type ExemptionContext,
  type NamespaceFacts,
  namespaceFacts,
  parseRuleList,
} from "./exemptions.ts";
export { type FieldPath, formatPath, type MapKey, type PathSegment } from "./field-path.ts";
export { celPlatformPatterns, type Injector, injectors } from "./injectors.ts";
export { secretCsiDrivers } from "./inline-csi-volume.ts";
export { isObject, type JsonObject } from "./json.ts";
export { locatePodTemplate, type PodTemplate } from "./pod-template.ts";
export {
  type CelCase,
  type Finding,
  isAtLeast,
  isViolation,
  POD_TEMPLATES,
  type Rule,
  type Scope,
  type Severity,
  severities,
  type Violation,
} from "./rule.ts";
export {
  defaultRuleSet,
  type RuleSet,
  resolveScope,
  ruleSet,
  rules,
  targetsOf,
} from "./rule-set.ts";
export { groupKind, groupOf, type Target, targetOf } from "./targets.ts";
export {
  builtinWorkloadKinds,
  defaultWorkloadKinds,
  parseWorkloadKinds,
  shippedWorkloadKinds,
  type WorkloadKind,
} from "./workload-kinds.ts";
