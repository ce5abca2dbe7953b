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
export {
  clipLine,
  lastLogLine,
  RELEASE_LOG_LIMIT_BYTES,
  RELEASE_LOG_TAIL_LINES,
  type ReleaseLog,
  releaseLogPhrase,
  sanitizeLogLine,
} from "./release-log.ts";
