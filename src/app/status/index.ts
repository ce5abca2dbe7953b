// The StatelessApp status, computed purely from what reconcile saw and did.
export {
  type BindingOutcome,
  computeStatus,
  processRolledOut,
  type StatusInput,
  summarize,
} from "./compute.ts";
export {
  type ConditionDraft,
  ConditionType,
  conditionMessage,
  conditionTime,
  settleConditions,
} from "./conditions.ts";
export { type PodFailure, podFailure, processFailure, trimPod } from "./pod-failures.ts";
