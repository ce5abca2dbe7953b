// Backing-service bindings: resolve the source Secret, normalize it to Service Binding entries, hash them. Pure.
export { type Endpoint, formatEndpoint, formatHost } from "./endpoint.ts";
export { bindingsHash } from "./hash.ts";
export { type NormalizeContext, normalizeBinding, SOURCE_KEYS } from "./normalize.ts";
export {
  BINDING_PROBLEM_REASONS,
  type BindingProblem,
  type BindingProblemReason,
} from "./problem.ts";
export { bindingSecretName, normalizedSecretName } from "./secret-names.ts";
export type { BindingType, NormalizedBinding, ProvisionedService, SourceSecret } from "./types.ts";
export {
  DEFAULT_PORTS,
  formatServiceUri,
  parseServiceUri,
  percentEncode,
  type ServiceUri,
  type UriFault,
} from "./uri.ts";
