// The benchmark's result: its JSON shape, the targets, and the text and Markdown tables printed from it.
import type { BaselineConvergence, OperatorConvergence, RunCpu } from "../scenarios/convergence.ts";
import type { LatencyResult } from "../scenarios/latency.ts";
import type { StormResult } from "../scenarios/storm.ts";

export interface BenchResult {
  readonly meta: {
    readonly date: string;
    readonly commit: string;
    readonly node: string;
    readonly kubernetes: string;
    readonly etcd: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryGiB: number;
    readonly loadAverageBefore: readonly number[];
    readonly loadAverageAfter: readonly number[];
    readonly workers: number;
    /** "compiled", "source", or the entry point given with --operator. */
    readonly operatorBuild: string;
    readonly durationS: number;
    readonly method: readonly string[];
  };
  readonly latency?: LatencyResult;
  /** The update storm (`--only=storm`). */
  readonly storm?: StormResult;
  readonly convergence: readonly ({
    readonly n: number;
    /** The first baseline run, in full. */
    readonly baseline?: BaselineConvergence;
    /** The first operator run, with footprint, restart and resync. */
    readonly operator?: OperatorConvergence;
  } & RunsSummary)[];
  readonly targets: readonly Target[];
}

/** One repetition: both sides on fresh clusters, back to back. */
export interface ConvergenceRun {
  readonly order: "baseline first" | "operator first";
  /** Other processes used at most QUIET_CORES in both windows. */
  readonly undisturbed?: boolean;
  readonly baselineMs?: number;
  readonly operatorMs?: number;
  readonly baselineCpu?: RunCpu;
  readonly operatorCpu?: RunCpu;
}

/** Above this many cores of other processes' CPU, a run is disturbed. */
export const QUIET_CORES = 0.3;

export const isUndisturbed = (cpu: RunCpu | undefined): boolean =>
  cpu === undefined || cpu.otherOnMachine / Math.max(cpu.windowSeconds, 0.001) <= QUIET_CORES;

export interface RunsSummary {
  readonly runs: readonly ConvergenceRun[];
  /** How many runs the medians use (the undisturbed ones, when there are any). */
  readonly used?: number;
  readonly baselineMedianMs?: number;
  readonly operatorMedianMs?: number;
  /** Median over runs of operator wall time / baseline wall time. */
  readonly ratio?: number;
  readonly ratioMin?: number;
  readonly ratioMax?: number;
  /** Median over runs of (apiserver + etcd + client CPU) operator / baseline. */
  readonly cpuRatio?: number;
}

const median = (xs: readonly number[]): number | undefined => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

const cpuTotal = (c: RunCpu) => c.apiserver + c.etcd + c.client;

export function summarizeRuns(all: readonly ConvergenceRun[]): RunsSummary {
  const quiet = all.filter((r) => r.undisturbed === true);
  const runs = quiet.length > 0 ? quiet : all;
  const ratios = runs.flatMap((r) =>
    r.baselineMs !== undefined && r.operatorMs !== undefined ? [r.operatorMs / r.baselineMs] : [],
  );
  const cpuRatios = runs.flatMap((r) =>
    r.baselineCpu !== undefined && r.operatorCpu !== undefined
      ? [cpuTotal(r.operatorCpu) / cpuTotal(r.baselineCpu)]
      : [],
  );
  const b = median(runs.flatMap((r) => (r.baselineMs === undefined ? [] : [r.baselineMs])));
  const o = median(runs.flatMap((r) => (r.operatorMs === undefined ? [] : [r.operatorMs])));
  const ratio = median(ratios);
  const cpuRatio = median(cpuRatios);
  return {
    runs: all,
    used: runs.length,
    ...(b === undefined ? {} : { baselineMedianMs: b }),
    ...(o === undefined ? {} : { operatorMedianMs: o }),
    ...(ratio === undefined
      ? {}
      : { ratio, ratioMin: Math.min(...ratios), ratioMax: Math.max(...ratios) }),
    ...(cpuRatio === undefined ? {} : { cpuRatio }),
  };
}

export interface Target {
  readonly name: string;
  readonly target: string;
  readonly value: string;
  readonly met: boolean;
}

const MiB = 2 ** 20;
const s = (ms: number | undefined) => (ms === undefined ? "—" : `${(ms / 1000).toFixed(2)} s`);
const mib = (b: number | undefined) => (b === undefined ? "—" : `${(b / MiB).toFixed(0)} MiB`);
const fixed = (x: number | undefined, d = 2) => (x === undefined ? "—" : x.toFixed(d));
export const verbs = (r: Readonly<Record<string, number>>) =>
  Object.entries(r)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${Number(v.toFixed(2))}`)
    .join(", ") || "none";

/** Memory targets (a Go controller-runtime operator doing the same holds about 70 MiB at N = 1000). */
const IDLE_RSS_TARGET_MIB = 60;
export const SETTLED_RSS_TARGET_MIB: Readonly<Record<number, number>> = {
  1000: 70,
  5000: 120,
  20000: 300,
};
export const PEAK_OVER_SETTLED = 1.3;
/** An update storm: p99 of (last change written → Deployment with the new image), on an idle cluster. */
export const STORM_P99_AFTER_LAST_TARGET_MS = 1000;
export const STORM_WRITES_PER_CHANGE_TARGET = 2;

/** The storm's targets (#22): how far the operator trails the storm's end, and its writes per change. */
export function stormTargets(st: StormResult): Target[] {
  const after = st.latencies.afterLastChangeMs;
  return [
    {
      name: `storm: p99 last change written → Deployment (${st.changes} changes)`,
      target: `≤ ${STORM_P99_AFTER_LAST_TARGET_MS} ms (idle cluster)`,
      value: `${after.p99.toFixed(0)} ms (${(after.p99 / STORM_P99_AFTER_LAST_TARGET_MS).toFixed(2)} × the target; max ${after.max.toFixed(0)} ms; other processes ${st.otherCores.toFixed(2)} cores)`,
      met: after.p99 <= STORM_P99_AFTER_LAST_TARGET_MS,
    },
    {
      name: "storm: writes per change",
      target: `≤ ${STORM_WRITES_PER_CHANGE_TARGET}`,
      value: `${st.writesPerChange.toFixed(2)} (${verbs(st.requestsPerChange)})`,
      met: st.writesPerChange <= STORM_WRITES_PER_CHANGE_TARGET,
    },
  ];
}

export function evaluateTargets(result: Omit<BenchResult, "targets">): Target[] {
  const targets: Target[] = [];
  for (const c of result.convergence) {
    if (c.n < 1000 || c.ratio === undefined) continue;
    targets.push({
      name: `convergence N=${c.n}`,
      target: "≤ 1.25 × baseline",
      value: `${c.ratio.toFixed(2)} × (median of ${c.used ?? c.runs.length}; ${(c.ratioMin ?? c.ratio).toFixed(2)}–${(c.ratioMax ?? c.ratio).toFixed(2)}; CPU ${c.cpuRatio?.toFixed(2) ?? "—"} ×)`,
      met: c.ratio <= 1.25,
    });
  }
  const l = result.latency;
  if (l !== undefined) {
    targets.push({
      name: "writes per new app",
      target: "≤ 3",
      value: fixed(l.writesPerApp),
      met: l.writesPerApp <= 3,
    });
    targets.push({
      name: "p99 create → Deployment (idle)",
      target: "≤ 100 ms",
      value: `${l.createToDeploymentMs.p99.toFixed(0)} ms`,
      met: l.createToDeploymentMs.p99 <= 100,
    });
  }
  for (const c of result.convergence) {
    const o = c.operator;
    if (o === undefined) continue;
    targets.push({
      name: `no-op restart + resync N=${c.n}`,
      target: "0 writes",
      value: `${o.restart.firstPassWrites} + ${o.restart.resyncWrites} writes (${o.restart.resyncReconciles} resync reconciles)`,
      met: o.restart.firstPassWrites === 0 && o.restart.resyncWrites === 0,
    });
    const settledTarget = SETTLED_RSS_TARGET_MIB[c.n];
    if (settledTarget !== undefined) {
      const rss = o.settled.rssBytes;
      targets.push({
        name: `RSS settled N=${c.n}`,
        target: `≤ ${settledTarget} MiB`,
        value: `${mib(rss)} (${o.tunedRestart.nodeArgs.join(" ")}: ${mib(o.tunedRestart.footprint.rssBytes)})`,
        met: rss <= settledTarget * MiB,
      });
      const peak = o.footprint.peakRssBytes;
      targets.push({
        name: `peak RSS while converging N=${c.n}`,
        target: `≤ ${PEAK_OVER_SETTLED} × settled`,
        value: `${mib(peak)} (${(peak / rss).toFixed(2)} ×)`,
        met: peak <= rss * PEAK_OVER_SETTLED,
      });
    }
  }
  if (result.storm !== undefined) targets.push(...stormTargets(result.storm));
  const idle = result.latency?.idle;
  if (idle !== undefined) {
    targets.push({
      name: "RSS idle (synced, no apps)",
      target: `≤ ${IDLE_RSS_TARGET_MIB} MiB`,
      value: `${mib(idle.rssBytes)} (heap used ${mib(idle.heapUsedBytes)})`,
      met: idle.rssBytes <= IDLE_RSS_TARGET_MIB * MiB,
    });
  }
  return targets;
}

export type Table = { readonly title: string; readonly head: string[]; readonly rows: string[][] };

/** The convergence runs: medians, every run, and the CPU over the same windows. */
function convergenceTables(result: BenchResult): Table[] {
  const out: Table[] = [];
  out.push({
    title:
      "Convergence: N apps created while nothing runs, then the operator (or the baseline) is started; wall time from its process spawn to the last app having its Deployment, Service and status.observedGeneration (medians of the runs)",
    head: [
      "N",
      "runs used",
      "baseline",
      "operator",
      "ratio (range)",
      "CPU ratio",
      "operator ready",
      "operator writes",
      "reconciles",
    ],
    rows: result.convergence.map((c) => [
      String(c.n),
      `${c.used ?? c.runs.length} of ${c.runs.length}`,
      s(c.baselineMedianMs),
      s(c.operatorMedianMs),
      c.ratio === undefined
        ? "—"
        : `${c.ratio.toFixed(2)} × (${(c.ratioMin ?? c.ratio).toFixed(2)}–${(c.ratioMax ?? c.ratio).toFixed(2)})`,
      c.cpuRatio === undefined ? "—" : `${c.cpuRatio.toFixed(2)} ×`,
      s(c.operator?.readyMs),
      c.operator === undefined
        ? "—"
        : `${c.operator.writes} (baseline ${c.baseline?.writes ?? "—"})`,
      String(c.operator?.reconciles ?? "—"),
    ]),
  });
  out.push({
    title:
      "Every convergence run (fresh cluster each): wall time, and in brackets the CPU that other processes on the machine used in the same window, in cores",
    head: ["N", "run", "order", "baseline", "operator", "ratio", "used"],
    rows: result.convergence.flatMap((c) =>
      c.runs.map((r, i) => {
        const load = (cpu: RunCpu | undefined) =>
          cpu === undefined
            ? ""
            : ` (${(cpu.otherOnMachine / Math.max(cpu.windowSeconds, 0.001)).toFixed(2)})`;
        return [
          String(c.n),
          String(i + 1),
          r.order,
          `${s(r.baselineMs)}${load(r.baselineCpu)}`,
          `${s(r.operatorMs)}${load(r.operatorCpu)}`,
          r.baselineMs !== undefined && r.operatorMs !== undefined
            ? `${(r.operatorMs / r.baselineMs).toFixed(2)} ×`
            : "—",
          r.undisturbed === false ? "no: disturbed" : "yes",
        ];
      }),
    ),
  });
  out.push({
    title:
      "CPU seconds over the same windows (spawn → converged; first run of each N): the cost side, less sensitive than wall time to other load on the machine",
    head: [
      "N",
      "apiserver+etcd (baseline)",
      "apiserver+etcd (operator)",
      "baseline process",
      "operator process",
      "total ratio",
      "other load on the machine (baseline / operator)",
    ],
    rows: result.convergence.map((c) => {
      const b = c.baseline?.cpu;
      const o = c.operator?.cpu;
      const server = (x: typeof b) => (x === undefined ? undefined : x.apiserver + x.etcd);
      const total = (x: typeof b) =>
        x === undefined ? undefined : x.apiserver + x.etcd + x.client;
      const load = (x: typeof b) =>
        x === undefined
          ? "—"
          : `${(x.otherOnMachine / Math.max(x.windowSeconds, 0.001)).toFixed(2)} cores`;
      const tb = total(b);
      const to = total(o);
      return [
        String(c.n),
        fixed(server(b), 1),
        fixed(server(o), 1),
        fixed(b?.client, 1),
        fixed(o?.client, 1),
        tb !== undefined && to !== undefined ? `${(to / tb).toFixed(2)} ×` : "—",
        `${load(b)} / ${load(o)}`,
      ];
    }),
  });
  return out;
}

export function tables(result: BenchResult): Table[] {
  const out: Table[] = [];
  if (result.convergence.length > 0) out.push(...convergenceTables(result));
  const l = result.latency;
  if (l !== undefined) {
    out.push({
      title: `Latency over ${l.creates} sequential creates on an idle cluster (ms)`,
      head: ["from → to", "p50", "p90", "p99", "max"],
      rows: [
        ["create sent → Deployment ADDED seen", l.createToDeploymentMs],
        ["create request alone", l.createRequestMs],
        ["create sent → status observedGeneration", l.createToStatusMs],
        ["image change sent → Deployment MODIFIED", l.specChangeToDeploymentMs],
      ].map(([name, v]) => {
        const x = v as LatencyResult["createToDeploymentMs"];
        return [name as string, ...[x.p50, x.p90, x.p99, x.max].map((n) => n.toFixed(1))];
      }),
    });
    out.push({
      title: "API requests by the operator (Events and the Lease excluded: none written here)",
      head: ["what", "requests by verb", "writes", "reconciles"],
      rows: [
        [
          "one new app (mean)",
          verbs(l.requestsPerApp),
          fixed(l.writesPerApp),
          fixed(l.reconcilesPerApp),
        ],
        [
          "one spec change (mean)",
          verbs(l.requestsPerSpecChange),
          fixed(l.writesPerSpecChange),
          "—",
        ],
        ["3 s idle afterwards", "—", String(l.idleWrites), "—"],
      ],
    });
  }
  if (result.storm !== undefined) out.push(...stormTables(result.storm));
  const ops = result.convergence.filter((c) => c.operator !== undefined);
  const idle = result.latency?.idle;
  if (ops.length > 0 || idle !== undefined) {
    out.push({
      title:
        "Operator memory with N apps, Deployments and Services in its caches: right after convergence (peak = RSS high-water mark), after 15 s idle, after a restart, and after a restart with a small young generation; 0 (idle): synced with no apps, 15 s after its caches synced",
      head: [
        "N",
        "RSS",
        "peak RSS",
        "heap used",
        "settled RSS",
        "settled heap used",
        "restart RSS (peak)",
        "tuned restart RSS (peak)",
        "tuned heap used",
      ],
      rows: [
        ...(idle === undefined
          ? []
          : [
              [
                "0 (idle)",
                mib(idle.rssBytes),
                mib(idle.peakRssBytes),
                mib(idle.heapUsedBytes),
                ...Array.from({ length: 5 }, () => "—"),
              ],
            ]),
        ...ops.map(({ n, operator: o }) => [
          String(n),
          mib(o?.footprint.rssBytes),
          mib(o?.footprint.peakRssBytes),
          mib(o?.footprint.heapUsedBytes),
          mib(o?.settled.rssBytes),
          mib(o?.settled.heapUsedBytes),
          `${mib(o?.restart.footprint.rssBytes)} (${mib(o?.restart.footprint.peakRssBytes)})`,
          `${mib(o?.tunedRestart.footprint.rssBytes)} (${mib(o?.tunedRestart.footprint.peakRssBytes)})`,
          mib(o?.tunedRestart.footprint.heapUsedBytes),
        ]),
      ],
    });
    out.push({
      title: "Operator CPU",
      head: [
        "N",
        "CPU s, spawn → converged",
        "reconciles",
        "CPU s / 1000 reconciles (start-up and convergence)",
        "CPU s / 1000 no-op reconciles (resync)",
      ],
      rows: ops.map(({ n, operator: o }) => [
        String(n),
        fixed(o?.cpu.client, 1),
        String(o?.reconciles),
        fixed(o?.cpuSecondsPer1000Reconciles),
        fixed(o?.restart.cpuSecondsPer1000NoopReconciles),
      ]),
    });
    out.push({
      title: "Start-up against N converged apps (restart), and a periodic resync of every app",
      head: [
        "N",
        "spawn → /readyz",
        "spawn → first pass done",
        "first-pass writes",
        "resync reconciles",
        "resync writes",
        "resync requests",
        "longest event-loop block: start-up / resync",
      ],
      rows: ops.map(({ n, operator: o }) => [
        String(n),
        s(o?.restart.readyMs),
        s(o?.restart.firstPassMs),
        String(o?.restart.firstPassWrites),
        String(o?.restart.resyncReconciles),
        String(o?.restart.resyncWrites),
        verbs(o?.restart.resyncRequests ?? {}),
        o === undefined
          ? "—"
          : `${o.restart.maxEventLoopLagS.firstPass.toFixed(2)} s / ${o.restart.maxEventLoopLagS.resync.toFixed(2)} s`,
      ]),
    });
  }
  out.push({
    title: "Targets",
    head: ["target", "wanted", "measured", "met"],
    rows: result.targets.map((t) => [t.name, t.target, t.value, t.met ? "yes" : "NO"]),
  });
  return out;
}

/** The update storm: the latencies, then the operator's requests and event loop over it. */
export function stormTables(st: StormResult): Table[] {
  const l = st.latencies;
  const row = (name: string, x: StormResult["latencies"]["patchToDeploymentMs"]) => [
    name,
    ...[x.p50, x.p90, x.p99, x.max].map((n) => n.toFixed(0)),
  ];
  return [
    {
      title: `Update storm: ${st.apps} converged apps, then ${st.changes} image changes patched at once (${st.concurrency} in flight, written in ${s(l.writeWindowMs)}); per change, in ms`,
      head: ["from → to", "p50", "p90", "p99", "max"],
      rows: [
        row("its patch sent → its Deployment with the new image", l.patchToDeploymentMs),
        row("the last change written → its Deployment (0 if before)", l.afterLastChangeMs),
      ],
    },
    {
      title:
        "Update storm: the operator's requests from just before the storm until idle, and its longest event-loop block",
      head: [
        "changes",
        "requests per change",
        "writes per change",
        "reconciles per change",
        "last status after the last change",
        "longest event-loop block",
        "RSS after (peak)",
        "other processes",
      ],
      rows: [
        [
          String(st.changes),
          verbs(st.requestsPerChange),
          fixed(st.writesPerChange),
          fixed(st.reconcilesPerChange),
          s(st.lastStatusAfterLastChangeMs),
          `${st.maxEventLoopLagS.toFixed(2)} s`,
          `${mib(st.footprint.rssBytes)} (${mib(st.footprint.peakRssBytes)})`,
          `${st.otherCores.toFixed(2)} cores`,
        ],
      ],
    },
  ];
}

export function formatText(t: Table): string {
  const widths = t.head.map((h, i) =>
    Math.max(h.length, ...t.rows.map((r) => (r[i] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ");
  return [
    t.title,
    line(t.head),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...t.rows.map(line),
  ].join("\n");
}

export function formatMarkdown(t: Table): string {
  const row = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [`**${t.title}**`, "", row(t.head), row(t.head.map(() => "---")), ...t.rows.map(row)].join(
    "\n",
  );
}
