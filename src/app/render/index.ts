// The pure renderer: a StatelessApp to the objects it owns.
export { DEFAULT_TARGET_CPU_PERCENT, renderAutoscaler } from "./autoscaler.ts";
export {
  type BindingProjection,
  bindingRoot,
  bindingVolumeName,
  projectBindings,
  type RenderWarning,
} from "./bindings.ts";
export { configVolumeName, configVolumes, envFromFor } from "./config.ts";
export { containerSecurityContext, renderDeployment, userEnv } from "./deployment.ts";
export { type Desired, desired, type Observed } from "./desired.ts";
export { minimumReplicas, renderDisruptionBudget } from "./disruption.ts";
export {
  BINDINGS_HASH_ANNOTATION,
  CONFIG_HASH_ANNOTATION,
  childName,
  LABEL_COMPONENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  labelsFor,
  MANAGED_BY,
  metadataFor,
  ownerReferencesFor,
  selectorFor,
} from "./metadata.ts";
export { DEFAULT_SPREAD_TOPOLOGY_KEY, podSettingsFor } from "./pod.ts";
export { formatQuantity } from "./quantity.ts";
export {
  RELEASE_CONTAINER,
  releaseHash,
  releaseJobName,
  renderReleaseJob,
} from "./release.ts";
export { scratchVolumeName, scratchVolumes } from "./scratch.ts";
export { renderBindingSecret } from "./secret.ts";
export { renderService } from "./service.ts";
