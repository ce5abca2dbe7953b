// The install manifests, documentation and their generated files (used by scripts/generated.ts and tests).
export { CHART_DIR, chartDefaults, chartFiles } from "./chart.ts";
export { CRD_RETENTION_ANNOTATIONS, renderInstallCrd } from "./crd.ts";
export {
  type InstallFile,
  installFiles,
  installObjects,
  namespacedObjects,
  policyObjects,
} from "./files.ts";
export { IMAGE, IMAGE_NAME, NAME, NAMESPACE, SERVICE_ACCOUNT, VERSION } from "./names.ts";
export { leaseRules, operatorRules, type PolicyRule } from "./rbac.ts";
