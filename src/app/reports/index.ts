// PolicyReports of the processes rules, and the read-only cluster inventory they (and audit) check.
export {
  discoverTargets,
  type Inventory,
  type InventoryOptions,
  listServed,
  ownedByWorkload,
  readInventory,
  type ServedTarget,
} from "./inventory.ts";
export {
  type PolicyReportingOptions,
  type ReportRun,
  reportInventory,
  reportOnce,
  startPolicyReporting,
} from "./periodic.ts";
export {
  POLICY_REPORT,
  type PolicyReport,
  type PolicyReportResult,
  REPORT_BYTES,
  REPORT_LABEL_SELECTOR,
  REPORT_LABELS,
  REPORT_NAME,
  REPORT_SOURCE,
  RESULTS_PER_REPORT,
  renderPolicyReports,
} from "./policy-report.ts";
export { policyReportRules, type ReportPolicyRule } from "./rbac.ts";
export {
  ensureReportApi,
  ReportApiMissingError,
  type WriteOutcome,
  type WriteScope,
  writePolicyReports,
} from "./write.ts";
