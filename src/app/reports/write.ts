// Writes PolicyReports by server-side apply and deletes the ones that no longer have results.
import {
  apiVersionOf,
  type Client,
  type HttpTransport,
  httpClient,
  KubeApiError,
  type KubeObject,
  type ResourceType,
} from "../../runtime/index.ts";
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

const REPORT_TYPE: ResourceType = { ...POLICY_REPORT, namespaced: true };

const describe = (error: unknown): string =>
  error instanceof KubeApiError
    ? `HTTP ${error.code}${error.status?.message ? `: ${error.status.message}` : ""}`
    : error instanceof Error
      ? error.message
      : String(error);

/** Throws ReportApiMissingError when the cluster does not serve the PolicyReport API. */
export async function ensureReportApi(transport: HttpTransport | Client): Promise<void> {
  const client = typeof transport === "function" ? httpClient(transport) : transport;
  const resources = await client.discover(apiVersionOf(REPORT_TYPE));
  if (!(resources ?? []).some((r) => r.name === POLICY_REPORT.plural))
    throw new ReportApiMissingError();
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
  const client = httpClient(transport);
  await ensureReportApi(client);
  const problems: string[] = [];
  let written = 0;
  const keep = new Set<string>();
  for (const report of reports) {
    const { name, namespace } = report.metadata;
    keep.add(`${namespace}/${name}`);
    try {
      await client.apply(REPORT_TYPE, report as unknown as KubeObject, {
        fieldManager: REPORT_SOURCE,
        force: true,
      });
      written++;
    } catch (error) {
      problems.push(`cannot write ${POLICY_REPORT.kind} ${namespace}/${name}: ${describe(error)}`);
    }
  }
  let deleted = 0;
  const namespaces = scope.namespaces ?? [undefined];
  for (const namespace of namespaces) {
    let existing: KubeObject[];
    try {
      existing = await client.list(REPORT_TYPE, {
        namespace,
        labelSelector: REPORT_LABEL_SELECTOR,
      });
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
        if (await client.delete(REPORT_TYPE, { namespace: ns, name })) deleted++;
      } catch (error) {
        problems.push(`cannot delete ${POLICY_REPORT.kind} ${ns}/${name}: ${describe(error)}`);
      }
    }
  }
  return { written, deleted, problems };
}
