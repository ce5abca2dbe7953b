// The scale run's targets (#22) and tables: convergence against the baseline, restart, resync, event loop and memory.
import type { ScaleResult, ScaleSide } from "../scenarios/scale.ts";
import {
  PEAK_OVER_SETTLED,
  SETTLED_RSS_TARGET_MIB,
  type Table,
  type Target,
  verbs,
} from "./report.ts";

/** The targets of #22 for 20 000 apps over 2 000 namespaces. */
export const SCALE_TARGETS = {
  convergenceRatio: 1.15,
  restartFirstPassMs: 15_000,
  eventLoopBlockMs: 100,
} as const;

const MiB = 2 ** 20;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mib = (b: number) => `${(b / MiB).toFixed(0)} MiB`;
const lagMs = (seconds: number) => `${(seconds * 1000).toFixed(0)} ms`;
const cores = (side: ScaleSide) =>
  side.cpu.otherOnMachine / Math.max(side.cpu.windowSeconds, 0.001);
const cpuTotal = (side: ScaleSide) => side.cpu.apiserver + side.cpu.etcd + side.cpu.client;

/** operator / baseline wall time, when both were measured. */
export const scaleRatio = (r: ScaleResult): number | undefined =>
  r.baseline === undefined ? undefined : r.operator.wallMs / r.baseline.wallMs;

export function scaleTargets(r: ScaleResult): Target[] {
  const o = r.operator;
  const out: Target[] = [];
  const ratio = scaleRatio(r);
  if (r.baseline !== undefined && ratio !== undefined) {
    out.push({
      name: "convergence, operator / baseline",
      target: `≤ ${SCALE_TARGETS.convergenceRatio} ×`,
      value: `${ratio.toFixed(2)} × (${s(o.wallMs)} / ${s(r.baseline.wallMs)}; CPU ${(cpuTotal(r.baseline) > 0 ? cpuTotal(o) / cpuTotal(r.baseline) : Number.NaN).toFixed(2)} ×; other processes ${cores(r.baseline).toFixed(2)} / ${cores(o).toFixed(2)} cores)`,
      met: ratio <= SCALE_TARGETS.convergenceRatio,
    });
  }
  out.push({
    name: "restart → every app reconciled, no write",
    target: `≤ ${s(SCALE_TARGETS.restartFirstPassMs)}, 0 writes`,
    value: `${s(o.restart.firstPassMs)} (${(o.restart.firstPassMs / SCALE_TARGETS.restartFirstPassMs).toFixed(2)} × the target), ${o.restart.firstPassWrites} writes`,
    met:
      o.restart.firstPassMs <= SCALE_TARGETS.restartFirstPassMs && o.restart.firstPassWrites === 0,
  });
  out.push({
    name: "a full resync, no write",
    target: `every app reconciled, 0 writes`,
    value: `${o.restart.resyncReconciles} reconciles, ${o.restart.resyncWrites} writes`,
    met: o.restart.resyncReconciles >= r.apps && o.restart.resyncWrites === 0,
  });
  for (const [phase, seconds] of [
    ["start-up (restart)", o.restart.maxEventLoopLagS.firstPass],
    ["resync", o.restart.maxEventLoopLagS.resync],
  ] as const) {
    out.push({
      name: `longest event-loop block, ${phase}`,
      target: `≤ ${SCALE_TARGETS.eventLoopBlockMs} ms`,
      value: `${lagMs(seconds)} (${((seconds * 1000) / SCALE_TARGETS.eventLoopBlockMs).toFixed(2)} × the target)`,
      met: seconds * 1000 <= SCALE_TARGETS.eventLoopBlockMs,
    });
  }
  const settledTarget = SETTLED_RSS_TARGET_MIB[r.apps];
  if (settledTarget !== undefined) {
    out.push({
      name: `RSS settled, N = ${r.apps}`,
      target: `≤ ${settledTarget} MiB`,
      value: `${mib(o.settled.rssBytes)} (${(o.settled.rssBytes / (settledTarget * MiB)).toFixed(2)} × the target)`,
      met: o.settled.rssBytes <= settledTarget * MiB,
    });
  }
  const peak = o.footprint.peakRssBytes;
  out.push({
    name: "peak RSS while converging",
    target: `≤ ${PEAK_OVER_SETTLED} × settled`,
    value: `${mib(peak)} (${(peak / o.settled.rssBytes).toFixed(2)} × settled ${mib(o.settled.rssBytes)})`,
    met: peak <= o.settled.rssBytes * PEAK_OVER_SETTLED,
  });
  return out;
}

export function scaleTables(r: ScaleResult): Table[] {
  const o = r.operator;
  const b = r.baseline;
  const both = (f: (side: ScaleSide) => string): [string, string] => [
    b === undefined ? "not run" : f(b),
    f(o),
  ];
  const ratio = scaleRatio(r);
  return [
    {
      title: `Scale: ${r.apps} apps spread over ${r.namespaces} namespaces, the operator with a cluster-wide watch (WATCH_NAMESPACES empty), the baseline with one list across all namespaces; WORKERS=${r.workers}; each side on a fresh cluster`,
      head: ["", "baseline", "operator"],
      rows: [
        ["apps created in (not timed)", ...both((x) => s(x.createMs))],
        ["spawn → the last app converged", ...both((x) => s(x.wallMs))],
        ["operator / baseline", "", ratio === undefined ? "—" : `${ratio.toFixed(2)} ×`],
        [
          "CPU s: apiserver + etcd / the process",
          ...both(
            (x) => `${(x.cpu.apiserver + x.cpu.etcd).toFixed(1)} / ${x.cpu.client.toFixed(1)}`,
          ),
        ],
        ["other processes on the machine", ...both((x) => `${cores(x).toFixed(2)} cores`)],
        ["requests by verb", ...both((x) => verbs(x.requests))],
        ["writes", ...both((x) => String(x.writes))],
      ],
    },
    {
      title: "Scale: the operator's start-up, restart, resync, event loop and memory",
      head: ["measure", "value"],
      rows: [
        ["spawn → /readyz (converging)", s(o.readyMs)],
        ["reconciles while converging", String(o.reconciles)],
        ["longest event-loop block, spawn → converged", lagMs(o.maxEventLoopLagS)],
        [
          "RSS right after convergence (peak while converging)",
          `${mib(o.footprint.rssBytes)} (${mib(o.footprint.peakRssBytes)})`,
        ],
        [`RSS settled (heap used)`, `${mib(o.settled.rssBytes)} (${mib(o.settled.heapUsedBytes)})`],
        [
          "restart: spawn → /readyz / → every app reconciled",
          `${s(o.restart.readyMs)} / ${s(o.restart.firstPassMs)}`,
        ],
        ["restart: writes in the first pass", String(o.restart.firstPassWrites)],
        [
          `resync (RESYNC_PERIOD=${o.resyncPeriodS}s): reconciles / writes`,
          `${o.restart.resyncReconciles} / ${o.restart.resyncWrites}`,
        ],
        ["resync requests", verbs(o.restart.resyncRequests)],
        [
          "longest event-loop block: start-up / resync",
          `${lagMs(o.restart.maxEventLoopLagS.firstPass)} / ${lagMs(o.restart.maxEventLoopLagS.resync)}`,
        ],
        [
          "CPU s per 1000 no-op reconciles (resync)",
          o.restart.cpuSecondsPer1000NoopReconciles.toFixed(2),
        ],
        [
          "RSS after the resync (peak since the restart)",
          `${mib(o.restart.footprint.rssBytes)} (${mib(o.restart.footprint.peakRssBytes)})`,
        ],
      ],
    },
    {
      title: `Scale targets (#22; set for 20000 apps over 2000 namespaces${r.apps === 20_000 ? "" : `, this run: ${r.apps} over ${r.namespaces}`})`,
      head: ["target", "wanted", "measured", "met"],
      rows: scaleTargets(r).map((t) => [t.name, t.target, t.value, t.met ? "yes" : "NO"]),
    },
  ];
}
