// Writes PolicyReports by server-side apply and deletes the ones that no longer have results.
import { type HttpTransport, KubeApiError, requestJson } from "../../runtime/index.ts";
import {
  POLICY_REPORT,
  type PolicyReport,
  REPORT_LABEL_SELECTOR,
  REPORT_SOURCE,
} from "./policy-report.ts";

export class ReportApiMissingError extends Error {
  constructor() {
    super(
      `${POLICY_REPORT.kind} (${POLICY_REPORT.group}/${POLICY_REPORT.version}) is not served by this cluster: install its CRD (Kyverno and Policy Reporter ship it; docs/enforcement.md has a link)`,
    );
    this.name = "ReportApiMissingError";
  }
}

export interface WriteScope {
  /** The namespaces whose reports this run owns; every namespace when absent. */
  readonly namespaces?: readonly string[];
}

export interface WriteOutcome {
  readonly written: number;
  readonly deleted: number;
  /** Reports that could not be written or deleted, with the API server's reason. */
  readonly problems: string[];
}

const base = `/apis/${POLICY_REPORT.group}/${POLICY_REPORT.version}`;
const collection = (namespace?: string) =>
  namespace === undefined
    ? `${base}/${POLICY_REPORT.plural}`
    : `${base}/namespaces/${namespace}/${POLICY_REPORT.plural}`;

const describe = (error: unknown): string =>
  error instanceof KubeApiError
    ? `HTTP ${error.code}${error.status?.message ? `: ${error.status.message}` : ""}`
    : error instanceof Error
      ? error.message
      : String(error);

/** Throws ReportApiMissingError when the cluster does not serve the PolicyReport API. */
export async function ensureReportApi(transport: HttpTransport): Promise<void> {
  try {
    const list = await requestJson<{ resources?: { name?: string }[] }>(transport, {
      method: "GET",
      path: base,
    });
    if (!(list.resources ?? []).some((r) => r.name === POLICY_REPORT.plural))
      throw new ReportApiMissingError();
  } catch (error) {
    if (error instanceof KubeApiError && error.code === 404) throw new ReportApiMissingError();
    throw error;
  }
}

/**
 * Applies `reports` and deletes this tool's other reports in the scope: a namespace whose
 * objects are gone (or now fit in fewer reports) keeps no stale results.
 */
export async function writePolicyReports(
  transport: HttpTransport,
  reports: readonly PolicyReport[],
  scope: WriteScope = {},
): Promise<WriteOutcome> {
  await ensureReportApi(transport);
  const problems: string[] = [];
  let written = 0;
  const keep = new Set<string>();
  for (const report of reports) {
    const { name, namespace } = report.metadata;
    keep.add(`${namespace}/${name}`);
    try {
      await requestJson(transport, {
        method: "PATCH",
        verb: "apply",
        path: `${collection(namespace)}/${name}`,
        query: { fieldManager: REPORT_SOURCE, force: true },
        contentType: "application/apply-patch+yaml",
        body: JSON.stringify(report),
      });
      written++;
    } catch (error) {
      problems.push(`cannot write ${POLICY_REPORT.kind} ${namespace}/${name}: ${describe(error)}`);
    }
  }
  let deleted = 0;
  const namespaces = scope.namespaces ?? [undefined];
  for (const namespace of namespaces) {
    let existing: { metadata?: { name?: string; namespace?: string } }[];
    try {
      existing =
        (
          await requestJson<{ items?: typeof existing }>(transport, {
            method: "GET",
            path: collection(namespace),
            query: { labelSelector: REPORT_LABEL_SELECTOR },
          })
        ).items ?? [];
    } catch (error) {
      problems.push(
        `cannot list ${POLICY_REPORT.plural} in ${namespace ?? "all namespaces"}: ${describe(error)}`,
      );
      continue;
    }
    for (const item of existing) {
      const name = item.metadata?.name;
      const ns = item.metadata?.namespace;
      if (name === undefined || ns === undefined || keep.has(`${ns}/${name}`)) continue;
      try {
        await requestJson(transport, { method: "DELETE", path: `${collection(ns)}/${name}` });
        deleted++;
      } catch (error) {
        if (error instanceof KubeApiError && error.code === 404) continue;
        problems.push(`cannot delete ${POLICY_REPORT.kind} ${ns}/${name}: ${describe(error)}`);
      }
    }
  }
  return { written, deleted, problems };
}
