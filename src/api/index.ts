// The StatelessApp API: schema, types, parser and CRD. Pure; no I/O.

export {
  compareQuantities,
  formatQuantity,
  parseQuantity,
  quantityNanos,
} from "../lib/quantity.ts";
export {
  asApiServerReads,
  formatPath,
  formatProblem,
  MAX_CHILD_NAME_LENGTH,
  type Problem,
  parseStatelessApp,
  RELEASE_HASH_LENGTH,
  RELEASE_JOB_INFIX,
  type StatelessApp,
  statelessApp,
} from "./app.ts";
export {
  aliasConflicts,
  BINDING_TYPES,
  type BindingEnvEntry,
  type BindingType,
  bindingEnv,
  ENTRY_ENV,
  envPrefix,
  TYPE_ALIAS,
} from "./binding-env.ts";
export type { EnvVar, Lifecycle, Probe, ResourceRequirements } from "./core.ts";
export { CRD_NAME, renderCrd } from "./crd.ts";
export { CLEAN_PATH, durationNanos, type Format, parseDuration } from "./formats.ts";
export {
  API_VERSION,
  BUILTIN_API_GROUPS,
  CATEGORIES,
  FIELD_MANAGER,
  FORBIDDEN_BOUND_KINDS,
  GROUP,
  KIND,
  LIST_KIND,
  PLURAL,
  SERVICE_BINDING_ROOT,
  SERVICE_BINDING_ROOT_ENV,
  SHORT_NAMES,
  SINGULAR,
  VERSION,
} from "./group.ts";
export { type JsonSchema, toStructuralSchema } from "./openapi.ts";
export { VALIDATION_OVERVIEW } from "./overview.ts";
export { OPERATOR_LABELS, type PodSettings, podSettings } from "./pod.ts";
export { err, ok, type Result } from "./result.ts";
export type { CelValidation, CrossFieldRule } from "./rules.ts";
export {
  type BackingService,
  type ConfigVolume,
  DEFAULT_PRESTOP_SLEEP_SECONDS,
  DEFAULT_RELEASE_BACKOFF_LIMIT,
  DEFAULT_TERMINATION_GRACE_SECONDS,
  MAX_POD_LIFETIME,
  MAX_PROCESS_ENV,
  MIN_POD_LIFETIME,
  type Process,
  type Release,
  type ScratchVolume,
  type StatelessAppSpec,
  statelessAppSpec,
  terminationGraceOf,
} from "./spec.ts";
export {
  type BindingStatus,
  type Condition,
  type ProcessStatus,
  RELEASE_LOG_LINE_MAX,
  type ReleaseStatus,
  type StatelessAppStatus,
} from "./status.ts";
