// The StatelessApp API: schema, types, parser and CRD. Pure; no I/O.

export { parseQuantity } from "../lib/quantity.ts";
export {
  formatPath,
  formatProblem,
  MAX_CHILD_NAME_LENGTH,
  type Problem,
  parseStatelessApp,
  type StatelessApp,
  statelessApp,
} from "./app.ts";
export type { EnvVar, Probe, ResourceRequirements } from "./core.ts";
export { CRD_NAME, renderCrd } from "./crd.ts";
export { parseDuration } from "./formats.ts";
export {
  API_VERSION,
  CATEGORIES,
  FIELD_MANAGER,
  GROUP,
  KIND,
  LIST_KIND,
  PLURAL,
  SERVICE_BINDING_ROOT,
  SHORT_NAMES,
  SINGULAR,
  VERSION,
} from "./group.ts";
export { type JsonSchema, toStructuralSchema } from "./openapi.ts";
export { err, ok, type Result } from "./result.ts";
export type { CelValidation, CrossFieldRule } from "./rules.ts";
export {
  type Autoscale,
  type BackingService,
  MIN_POD_LIFETIME,
  type Process,
  type ProcessPort,
  type ScratchVolume,
  type StatelessAppSpec,
  statelessAppSpec,
} from "./spec.ts";
export type { BindingStatus, Condition, ProcessStatus, StatelessAppStatus } from "./status.ts";
