// The processes rule set: pure checks of Kubernetes objects, shared by audit and admission.
export { celString, celStrings } from "./cel.ts";
export { checkObject } from "./check-object.ts";
export { type FieldPath, formatPath, type MapKey, type PathSegment } from "./field-path.ts";
export { isObject, type JsonObject } from "./json.ts";
export { podSpecPaths, podTemplateTargets } from "./pod-spec.ts";
export {
  type CelCase,
  type Finding,
  isAtLeast,
  type Rule,
  type Severity,
  severities,
  type Violation,
} from "./rule.ts";
export { rules } from "./rule-set.ts";
export { groupKind, groupOf, type Target, targetOf } from "./targets.ts";
