// The operator's periodic PolicyReports (off by default): opted-in namespaces, by the leader only.
import { type Clock, type HttpTransport, type Logger, realClock } from "../../runtime/index.ts";
import { ENFORCE_LABEL } from "../policies/index.ts";
import { defaultRuleSet, type JsonObject, type RuleSet } from "../rules/index.ts";
import { type Inventory, readInventory } from "./inventory.ts";
import { renderPolicyReports } from "./policy-report.ts";
import { ReportApiMissingError, type WriteOutcome, writePolicyReports } from "./write.ts";

export interface ReportRun extends WriteOutcome {
  /** The namespaces reported on. */
  readonly namespaces: string[];
}

const namespaceOf = (o: JsonObject) =>
  (o.metadata as { namespace?: unknown } | undefined)?.namespace;

/**
 * Writes the reports of an inventory: one per namespace of `namespaces` (all the inventory's
 * namespaces with objects when absent), and deletes stale ones in `scope` (all when absent).
 */
export async function reportInventory(
  transport: HttpTransport,
  inventory: Inventory,
  options: {
    readonly set?: RuleSet;
    readonly namespaces?: ReadonlySet<string>;
    readonly scope?: readonly string[];
    readonly now: Date;
  },
): Promise<ReportRun> {
  const objects = inventory.objects.filter(
    (o) => options.namespaces === undefined || options.namespaces.has(String(namespaceOf(o))),
  );
  const reports = renderPolicyReports({
    objects,
    set: options.set ?? defaultRuleSet,
    namespaces: inventory.namespaces,
    now: options.now,
  });
  const outcome = await writePolicyReports(
    transport,
    reports,
    options.scope === undefined ? {} : { namespaces: options.scope },
  );
  return {
    ...outcome,
    problems: [...inventory.problems, ...outcome.problems],
    namespaces: [...new Set(reports.map((r) => r.metadata.namespace))],
  };
}

export interface PolicyReportingOptions {
  readonly transport: HttpTransport;
  /** Time between runs; the first run starts at once. */
  readonly intervalMs: number;
  /** The operator's namespaces (WATCH_NAMESPACES); all when empty. */
  readonly namespaces: readonly string[];
  readonly logger: Logger;
  /** Only the leader writes; the others wait their turn. */
  readonly isLeader: () => boolean;
  readonly set?: RuleSet;
  readonly clock?: Clock;
}

/**
 * One run: reads the operator's namespaces, keeps those labelled twelvefactor.dev/enforce (any
 * mode: `audit` namespaces are the ones a report makes visible), and writes their reports.
 */
export async function reportOnce(options: PolicyReportingOptions, now: Date): Promise<ReportRun> {
  const set = options.set ?? defaultRuleSet;
  const reads =
    options.namespaces.length === 0
      ? [await readInventory(options.transport, set)]
      : await Promise.all(
          options.namespaces.map((namespace) =>
            readInventory(options.transport, set, { namespace }),
          ),
        );
  const inventory: Inventory = {
    objects: reads.flatMap((r) => r.objects),
    namespaces: new Map(reads.flatMap((r) => [...r.namespaces])),
    problems: reads.flatMap((r) => r.problems),
    reachable: reads.every((r) => r.reachable),
  };
  // A watched Namespace the operator may not read (a namespace-scoped install) is reported too:
  // the admin scoped the operator to it and turned reports on.
  const optedIn = new Set([
    ...[...inventory.namespaces.values()]
      .filter((n) => n.labels[ENFORCE_LABEL] !== undefined)
      .map((n) => n.name),
    ...options.namespaces.filter((n) => !inventory.namespaces.has(n)),
  ]);
  return reportInventory(options.transport, inventory, {
    set,
    namespaces: optedIn,
    ...(options.namespaces.length === 0 ? {} : { scope: options.namespaces }),
    now,
  });
}

/** Starts the periodic runs; `stop()` waits for a run in flight. */
export function startPolicyReporting(options: PolicyReportingOptions): { stop(): Promise<void> } {
  const clock = options.clock ?? realClock;
  const logger = options.logger.child({ component: "policy-reports" });
  const stopping = new AbortController();
  const loop = async () => {
    while (!stopping.signal.aborted) {
      if (options.isLeader()) {
        try {
          const run = await reportOnce(options, new Date(clock.now()));
          logger.info(
            { namespaces: run.namespaces, written: run.written, deleted: run.deleted },
            "policy reports written",
          );
          for (const problem of run.problems) logger.warn({ problem }, "policy reports incomplete");
        } catch (error) {
          const missing = error instanceof ReportApiMissingError;
          logger.warn(
            { err: error instanceof Error ? error.message : String(error) },
            missing ? "policy reports not written" : "policy report run failed",
          );
        }
      }
      await clock.sleep(options.intervalMs, stopping.signal);
    }
  };
  const done = loop();
  return {
    stop: async () => {
      stopping.abort();
      await done;
    },
  };
}
