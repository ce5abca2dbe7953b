// Many apps across many namespaces with a cluster-wide watch (`--only=scale`): convergence against the baseline, restart, resync, event loop and memory.
import { join } from "node:path";
import { trackConvergenceEverywhere } from "../lib/convergence.ts";
import { cpuSecondsOf } from "../lib/cpu.ts";
import { freshCluster, LOG_DIR } from "../lib/env.ts";
import { appName, createAppsAt, createNamespaces, sleep } from "../lib/kube.ts";
import { OperatorProcess } from "../lib/operator.ts";
import { byLabel, sumOf } from "../lib/prom.ts";
import { namespaceNames, spreadApps } from "../lib/spread.ts";
import {
  baselineRun,
  type Footprint,
  footprint,
  progressUntil,
  type Restart,
  type RunCpu,
  restartAndResync,
  runCpuFrom,
  SETTLE_MS,
  writesIn,
} from "./convergence.ts";

export interface ScaleOptions {
  readonly apps: number;
  readonly namespaces: number;
  readonly workers: number;
  readonly verbose: boolean;
  readonly operatorCommand: readonly string[];
  /** One pod per app, as in the convergence runs. @default true */
  readonly pods?: boolean;
  /** Measure the baseline side too. @default true */
  readonly baseline?: boolean;
  readonly nodeArgs?: readonly string[];
  readonly log: (line: string) => void;
}

export interface ScaleSide {
  /** Creating the apps (and pods) before the process starts: not part of wallMs. */
  readonly createMs: number;
  /** Process spawned → the last app converged (the benchmark's cluster-wide watches). */
  readonly wallMs: number;
  readonly cpu: RunCpu;
  readonly requests: Record<string, number>;
  readonly writes: number;
}

export interface ScaleOperator extends ScaleSide {
  readonly readyMs: number;
  readonly reconciles: number;
  /** The longest event-loop block from the spawn to convergence (s). */
  readonly maxEventLoopLagS: number;
  /** Right after convergence; its peak is the RSS high-water mark while converging. */
  readonly footprint: Footprint;
  /** SETTLE_MS later. */
  readonly settled: Footprint;
  /** A restart against the converged apps, then one periodic resync of every app. */
  readonly restart: Restart;
  readonly resyncPeriodS: number;
}

export interface ScaleResult {
  readonly apps: number;
  readonly namespaces: number;
  readonly workers: number;
  readonly baseline?: ScaleSide;
  readonly operator: ScaleOperator;
}

const CREATE_CONCURRENCY = 16;

const ms = (x: number) => `${(x / 1000).toFixed(2)} s`;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

/** A fresh cluster with the apps spread over the namespaces, and a tracker started on all of them. */
async function prepare(mode: string, options: ScaleOptions) {
  const names = namespaceNames(`bench-scale-${mode}`, options.namespaces);
  const env = await freshCluster(names[0] ?? `bench-scale-${mode}-0`, options.verbose);
  try {
    await createNamespaces(env.transport, names.slice(1), CREATE_CONCURRENCY);
    const apps = spreadApps(options.apps, names, appName);
    const pods = options.pods ?? true;
    const createMs = await createAppsAt(env.transport, apps, CREATE_CONCURRENCY, {
      pods,
      progress: (done) =>
        done % 5000 === 0 ? options.log(`    … ${done} of ${apps.length} apps created`) : undefined,
    });
    options.log(
      `  ${mode}: created ${apps.length} apps${pods ? " and a pod of each" : ""} in ${options.namespaces} namespaces in ${ms(createMs)} (not timed)`,
    );
    // Let the API server finish with the creates (watch cache, etcd) before the clock starts.
    await sleep(Math.min(10_000, 2000 + options.apps / 4));
    const tracker = await trackConvergenceEverywhere(env.transport, apps);
    return { env, tracker, createMs, cpu: runCpuFrom(env.cluster) };
  } catch (error) {
    await env.stop();
    throw error;
  }
}

async function baselineSide(options: ScaleOptions): Promise<ScaleSide> {
  const { env, tracker, createMs, cpu } = await prepare("baseline", options);
  try {
    // No namespace named: the baseline lists the apps of every namespace at once.
    const { wallMs, report } = await baselineRun(env.cluster.kubeconfigPath, [], tracker, options);
    return {
      createMs,
      wallMs,
      cpu: cpu(report.cpuSeconds),
      requests: report.requests,
      writes: writesIn(report.requests),
    };
  } finally {
    await tracker.stop();
    await env.stop();
  }
}

async function operatorSide(options: ScaleOptions): Promise<ScaleOperator> {
  const { env, tracker, createMs, cpu: cpuSoFar } = await prepare("operator", options);
  // Longer than the restart's first pass, so the resync is a pass of its own.
  const resyncPeriodS = Math.max(20, Math.ceil((3 * options.apps) / 1000));
  const start = (label: string, resyncPeriod: string) =>
    OperatorProcess.start({
      command: options.operatorCommand,
      kubeconfigPath: env.cluster.kubeconfigPath,
      namespaces: [], // WATCH_NAMESPACES empty: every namespace, one watch per kind
      workers: options.workers,
      resyncPeriod,
      logPath: join(LOG_DIR, `operator-scale-${options.apps}-${label}.log`),
      ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
    });
  let operator = await start("converge", "10m");
  try {
    let readyAt: number | undefined;
    void operator.waitReady().then((at) => {
      readyAt = at;
    });
    const finished = await progressUntil(
      tracker.done,
      () => JSON.stringify(tracker.counts()),
      options.log,
    );
    const wallMs = finished - operator.startedAt;
    const readyMs = (readyAt ?? Number.NaN) - operator.startedAt;
    const cpu = cpuSoFar(cpuSecondsOf(operator.pid) ?? Number.NaN);
    await tracker.stop();
    await operator.waitIdle(options.apps);
    await sleep(1000);
    const { samples } = await operator.waitIdle(options.apps);
    // The first /metrics scrape came after convergence: its maximum covers start-up and convergence.
    const maxEventLoopLagS = operator.takeMaxEventLoopLag();
    const requests = byLabel(samples, "rest_client_requests_total", "verb");
    const fp = footprint(samples, operator.pid);
    await sleep(SETTLE_MS);
    const settled = footprint((await operator.waitIdle(options.apps)).samples, operator.pid);
    options.log(
      `  operator: converged in ${ms(wallMs)}; RSS ${mib(fp.rssBytes)} (peak ${mib(fp.peakRssBytes)}, settled ${mib(settled.rssBytes)}); event loop blocked up to ${maxEventLoopLagS.toFixed(2)} s`,
    );
    await operator.stop();

    operator = await start("restart", `${resyncPeriodS}s`);
    const restart = await restartAndResync(operator, options.apps);
    options.log(
      `  operator: restart ready in ${ms(restart.readyMs)}, first pass in ${ms(restart.firstPassMs)} with ${restart.firstPassWrites} writes; resync of ${restart.resyncReconciles} apps: ${restart.resyncWrites} writes; event loop blocked up to ${restart.maxEventLoopLagS.firstPass.toFixed(2)} / ${restart.maxEventLoopLagS.resync.toFixed(2)} s`,
    );
    return {
      createMs,
      wallMs,
      cpu,
      requests,
      writes: writesIn(requests),
      readyMs,
      reconciles: sumOf(samples, "controller_runtime_reconcile_total"),
      maxEventLoopLagS,
      footprint: fp,
      settled,
      restart,
      resyncPeriodS,
    };
  } finally {
    await operator.stop();
    await tracker.stop();
    await env.stop();
  }
}

/** The baseline, then the operator, each on a fresh cluster of the same apps and namespaces. */
export async function scaleRun(options: ScaleOptions): Promise<ScaleResult> {
  const what = `${options.apps} apps in ${options.namespaces} namespaces`;
  let baseline: ScaleSide | undefined;
  if (options.baseline !== false) {
    options.log(`bench: scale, ${what}: baseline …`);
    baseline = await baselineSide(options);
    options.log(
      `  baseline: converged in ${ms(baseline.wallMs)}, ${JSON.stringify(baseline.requests)}`,
    );
  }
  options.log(`bench: scale, ${what}: operator (cluster-wide watch) …`);
  const operator = await operatorSide(options);
  return {
    apps: options.apps,
    namespaces: options.namespaces,
    workers: options.workers,
    ...(baseline === undefined ? {} : { baseline }),
    operator,
  };
}
