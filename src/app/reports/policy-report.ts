// The findings as PolicyReports (wgpolicyk8s.io/v1alpha2): one result per rule and object. Pure.
import { policyNameOf } from "../policies/index.ts";
import {
  checkObject,
  type ExemptionContext,
  type Finding,
  formatPath,
  isObject,
  isViolation,
  type JsonObject,
  type NamespaceFacts,
  type RuleSet,
  resolveScope,
  type Severity,
  targetOf,
} from "../rules/index.ts";

/** The report API: the one Kyverno writes by default and Policy Reporter reads (see docs). */
export const POLICY_REPORT = {
  group: "wgpolicyk8s.io",
  version: "v1alpha2",
  kind: "PolicyReport",
  plural: "policyreports",
} as const;

/** `source` of every result, and the field manager of the writes. */
export const REPORT_SOURCE = "stateless-operator";
/** The report of a namespace; more results than fit in one go to `<name>-2`, `<name>-3`, … */
export const REPORT_NAME = "twelvefactor-processes";
/** On every report the operator or audit writes, so stale ones can be found and deleted. */
export const REPORT_LABELS = {
  "app.kubernetes.io/managed-by": REPORT_SOURCE,
  "app.kubernetes.io/component": "policy-report",
} as const;
export const REPORT_LABEL_SELECTOR = Object.entries(REPORT_LABELS)
  .map(([k, v]) => `${k}=${v}`)
  .join(",");

/** Results per report at most; fewer when they are large (see REPORT_BYTES). */
export const RESULTS_PER_REPORT = 1000;
/** Serialized results per report at most: well under etcd's 1.5 MiB object size limit. */
export const REPORT_BYTES = 800_000;

const CATEGORY = "Twelve-Factor processes";

type Result = "pass" | "fail" | "warn" | "skip";
const failing: Record<Severity, Result> = { error: "fail", warning: "warn", info: "warn" };
const reportSeverity: Record<Severity, string> = { error: "high", warning: "medium", info: "info" };

export interface PolicyReportResult {
  readonly source: string;
  readonly policy: string;
  readonly rule: string;
  readonly category: string;
  readonly severity: string;
  readonly result: Result;
  readonly scored: boolean;
  readonly message: string;
  readonly timestamp: { readonly seconds: number; readonly nanos: number };
  readonly resources: readonly Record<string, string>[];
  readonly properties?: Readonly<Record<string, string>>;
}

export interface PolicyReport {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
  };
  readonly summary: Readonly<Record<"pass" | "fail" | "warn" | "error" | "skip", number>>;
  readonly results: readonly PolicyReportResult[];
}

export interface ReportInput {
  /** The objects to report on (workload-owned pods and ReplicaSets already left out). */
  readonly objects: readonly JsonObject[];
  readonly set: RuleSet;
  /** The objects' Namespaces: their labels decide objects' exemptions, their annotations grant some. */
  readonly namespaces: ReadonlyMap<string, NamespaceFacts>;
  readonly now: Date;
}

const text = (value: unknown): string | undefined =>
  typeof value === "string" ? value : undefined;

/**
 * Messages and reasons hold what an object's author wrote (an exemption reason, annotation
 * keys): bounded, so that one object cannot make its namespace's report too large to store.
 */
const MAX_TEXT = 1024;
const bounded = (s: string): string => (s.length <= MAX_TEXT ? s : `${s.slice(0, MAX_TEXT - 1)}…`);

function resourceOf(object: JsonObject): Record<string, string> {
  const metadata = isObject(object.metadata) ? object.metadata : {};
  const fields: [string, unknown][] = [
    ["apiVersion", object.apiVersion],
    ["kind", object.kind],
    ["namespace", metadata.namespace],
    ["name", metadata.name],
    ["uid", metadata.uid],
  ];
  return Object.fromEntries(fields.filter((f): f is [string, string] => typeof f[1] === "string"));
}

/** One result per rule that applies to the object: pass, its findings, or its exemption. */
function resultsOf(
  object: JsonObject,
  input: ReportInput,
  timestamp: PolicyReportResult["timestamp"],
): PolicyReportResult[] {
  const namespace = input.namespaces.get(text((object.metadata as JsonObject)?.namespace) ?? "");
  const context: ExemptionContext = namespace === undefined ? {} : { namespace };
  const findings = checkObject(object, input.set, context);
  const resources = [resourceOf(object)];
  return input.set.rules
    .filter((rule) => targetOf(object, resolveScope(rule.targets, input.set)) !== undefined)
    .map((rule): PolicyReportResult => {
      const own: Finding[] = findings.filter((f) => f.ruleId === rule.id);
      const base = {
        source: REPORT_SOURCE,
        policy: policyNameOf(rule.severity),
        rule: rule.id,
        category: CATEGORY,
        severity: reportSeverity[rule.severity],
        scored: true,
        timestamp,
        resources,
      };
      if (own.length === 0) return { ...base, result: "pass", message: `no ${rule.title}` };
      const paths = own.map((f) => formatPath(f.path)).join(", ");
      const exemption = own[0]?.exemption;
      if (exemption !== undefined && !own.some(isViolation)) {
        return {
          ...base,
          result: "skip",
          message: bounded(`${rule.title}, exempted by the ${exemption.by}: ${exemption.reason}`),
          properties: {
            paths: bounded(paths),
            exemptedBy: exemption.by,
            exemptReason: bounded(exemption.reason),
          },
        };
      }
      return {
        ...base,
        result: failing[rule.severity],
        message: bounded(`${rule.title}: ${own.map((f) => f.message).join("; ")}`),
        properties: {
          paths: bounded(paths),
          fix: rule.fix,
          ...(exemption?.note === undefined ? {} : { exemption: exemption.note }),
        },
      };
    });
}

const resultKey = (r: PolicyReportResult) =>
  `${r.resources[0]?.kind}/${r.resources[0]?.name}/${r.rule}`;

/** The PolicyReports of the objects' namespaces, results sorted by object and rule. */
export function renderPolicyReports(input: ReportInput): PolicyReport[] {
  const timestamp = { seconds: Math.floor(input.now.getTime() / 1000), nanos: 0 };
  const byNamespace = new Map<string, PolicyReportResult[]>();
  for (const object of input.objects) {
    const namespace = text((object.metadata as JsonObject | undefined)?.namespace);
    if (namespace === undefined) continue; // every target kind is namespaced
    byNamespace.set(namespace, [
      ...(byNamespace.get(namespace) ?? []),
      ...resultsOf(object, input, timestamp),
    ]);
  }
  return [...byNamespace.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([namespace, results]) => {
      const sorted = results.sort((a, b) => resultKey(a).localeCompare(resultKey(b)));
      const chunks: PolicyReportResult[][] = [];
      let chunk: PolicyReportResult[] = [];
      let bytes = 0;
      for (const result of sorted) {
        const size = JSON.stringify(result).length;
        if (
          chunk.length === RESULTS_PER_REPORT ||
          (chunk.length > 0 && bytes + size > REPORT_BYTES)
        ) {
          chunks.push(chunk);
          chunk = [];
          bytes = 0;
        }
        chunk.push(result);
        bytes += size;
      }
      if (chunk.length > 0) chunks.push(chunk);
      return chunks.map((chunk, i) => ({
        apiVersion: `${POLICY_REPORT.group}/${POLICY_REPORT.version}`,
        kind: POLICY_REPORT.kind,
        metadata: {
          name: i === 0 ? REPORT_NAME : `${REPORT_NAME}-${i + 1}`,
          namespace,
          labels: REPORT_LABELS,
        },
        summary: summarize(chunk),
        results: chunk,
      }));
    });
}

function summarize(results: readonly PolicyReportResult[]): PolicyReport["summary"] {
  const summary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const r of results) summary[r.result]++;
  return summary;
}
