// `audit`: the processes rules over manifests or a live cluster, as a table, JSON or SARIF.

import { type Inventory, readInventory, reportInventory } from "../app/reports/index.ts";
import type { NamespaceFacts, RuleSet } from "../app/rules/index.ts";
import { loadConnection, NoClusterError } from "../platform/kube/index.ts";
import { connectionTransport, type HttpTransport } from "../runtime/index.ts";
import { readDocuments } from "./audit/documents.ts";
import { describeError, expandInputs } from "./audit/files.ts";
import { formatJson } from "./audit/format-json.ts";
import { formatSarif } from "./audit/format-sarif.ts";
import { formatTable } from "./audit/format-table.ts";
import { type AuditOptions, type AuditSource, parseAuditArgs, USAGE } from "./audit/options.ts";
import { buildReport, exitCodeOf, type Report } from "./audit/report.ts";
import { withRenderedApps } from "./audit/stateless-apps.ts";
import { type InputError, refOf, type Subject } from "./audit/subject.ts";
import type { Command, CommandIo } from "./io.ts";
import { loadRuleSet } from "./workload-kinds.ts";

/** Above this many files, a progress line every PROGRESS_EVERY files (stderr only). */
const LARGE_INPUT = 100;
const PROGRESS_EVERY = 100;

interface Read {
  readonly subjects: readonly Subject[];
  readonly errors: readonly InputError[];
  /** The cluster's Namespaces, in cluster mode. */
  readonly namespaces?: ReadonlyMap<string, NamespaceFacts>;
  /** In cluster mode: how to reach it, and what was read (for --report). */
  readonly live?: { readonly transport: HttpTransport; readonly inventory: Inventory };
}

export const audit: Command = async (argv, io) => {
  const parsed = parseAuditArgs(argv);
  if (!parsed.ok) {
    io.stderr(`audit: ${parsed.error}\n${USAGE}`);
    return 2;
  }
  const options = parsed.value;
  if (options.help) {
    io.stdout(USAGE);
    return 0;
  }
  const set = await loadRuleSet(options.workloadKinds, io, "audit");
  if (set === undefined) return 2;
  const { source } = options;
  const read =
    source.kind === "files" ? await readFiles(source.inputs, io) : await readLive(source, set, io);
  if (read === undefined) return 2;
  const expanded = withRenderedApps(read.subjects);
  for (const note of expanded.notes) io.stderr(`audit: ${note}\n`);
  for (const e of read.errors) io.stderr(`audit: ${formatInputError(e)}\n`);
  const report = buildReport(expanded.subjects, read.errors, {
    failOn: options.failOn,
    set,
    allowObjectExemptions: options.allowExemptions,
    ...(read.namespaces === undefined ? {} : { namespaces: read.namespaces }),
  });
  io.stdout(render(report, options));
  if (source.kind === "cluster" && source.report && read.live !== undefined) {
    const written = await writeReports(read.live, set, source.namespace, io);
    if (!written) return 2;
  }
  return exitCodeOf(report);
};

/** `--report`: the findings as PolicyReports in the cluster; false when they could not all be written. */
async function writeReports(
  read: NonNullable<Read["live"]>,
  set: RuleSet,
  namespace: string | undefined,
  io: CommandIo,
): Promise<boolean> {
  if (!read.inventory.reachable) return false;
  try {
    const run = await reportInventory(read.transport, read.inventory, {
      set,
      ...(namespace === undefined ? {} : { scope: [namespace] }),
      now: new Date(),
    });
    const problems = run.problems.filter((p) => !read.inventory.problems.includes(p));
    for (const problem of problems) io.stderr(`audit: ${problem}\n`);
    io.stderr(
      `audit: wrote ${run.written} PolicyReport${run.written === 1 ? "" : "s"} (${run.namespaces.join(", ") || "no namespace had objects"}), deleted ${run.deleted} stale\n`,
    );
    return problems.length === 0;
  } catch (error) {
    io.stderr(`audit: --report: ${error instanceof Error ? error.message : String(error)}\n`);
    return false;
  }
}

function render(report: Report, options: AuditOptions): string {
  if (options.output === "json") return formatJson(report);
  if (options.output === "sarif") return formatSarif(report, { cwd: process.cwd() });
  return formatTable(report);
}

export function formatInputError(e: InputError): string {
  const file = e.file === "-" ? "<stdin>" : e.file;
  const at = e.position === undefined ? "" : `:${e.position.line}:${e.position.column}`;
  return `${file}${at}: ${e.message}`;
}

async function readFiles(inputs: readonly string[], io: CommandIo): Promise<Read> {
  const expanded = await expandInputs(inputs);
  for (const note of expanded.notes) io.stderr(`audit: ${note}\n`);
  const subjects: Subject[] = [];
  const errors: InputError[] = expanded.unreadable.map((u) => ({
    file: u.file,
    message: u.message,
  }));
  const large = expanded.files.length > LARGE_INPUT;
  for (const [i, file] of expanded.files.entries()) {
    let text: string;
    try {
      text = await io.readInput(file);
    } catch (error) {
      errors.push({ file, message: describeError(error) });
      continue;
    }
    const result = readDocuments(text, file);
    subjects.push(...result.subjects);
    errors.push(...result.errors);
    if (large && (i + 1) % PROGRESS_EVERY === 0)
      io.stderr(
        `audit: read ${i + 1}/${expanded.files.length} files, ${subjects.length} objects\n`,
      );
  }
  if (large) io.stderr(`audit: read ${expanded.files.length} files, ${subjects.length} objects\n`);
  return { subjects, errors };
}

async function readLive(
  source: Extract<AuditSource, { kind: "cluster" }>,
  set: RuleSet,
  io: CommandIo,
): Promise<Read | undefined> {
  const { namespace, kubeconfig, context } = source;
  let connection: Awaited<ReturnType<typeof loadConnection>>;
  try {
    connection = await loadConnection(process.env, {
      ...(kubeconfig === undefined ? {} : { path: kubeconfig }),
      ...(context === undefined ? {} : { context }),
    });
  } catch (error) {
    if (!(error instanceof NoClusterError)) throw error;
    io.stderr(`audit: ${error.message}\n`);
    return undefined;
  }
  const transport = connectionTransport(connection);
  const inventory = await readInventory(transport, set, {
    ...(namespace === undefined ? {} : { namespace }),
    progress: (line) => io.stderr(`audit: ${line}\n`),
  });
  return {
    live: { transport, inventory },
    subjects: inventory.objects.map((object) => ({
      object,
      ref: refOf(object),
      origin: {},
      locate: () => undefined,
    })),
    errors: inventory.problems.map((message) => ({ file: connection.server, message })),
    namespaces: inventory.namespaces,
  };
}
