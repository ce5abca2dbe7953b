// Convergence of N apps (operator vs baseline), and for the operator: footprint, restart and a no-op resync.
import { spawn } from "node:child_process";
import { dirname, extname, join } from "node:path";
import { type Convergence, trackConvergence } from "../lib/convergence.ts";
import { cpuMeter, cpuSecondsOf, memoryOf, otherLoad } from "../lib/cpu.ts";
import { freshCluster, LOG_DIR, REPO_ROOT } from "../lib/env.ts";
import { appName, createApps, sleep } from "../lib/kube.ts";
import { OperatorProcess } from "../lib/operator.ts";
import { byLabel, delta, type Sample, sumOf } from "../lib/prom.ts";

/** Request verbs that change something (leases and Events excluded: none are written here). */
export const WRITE_VERBS = ["apply", "apply-status", "patch", "create", "update", "delete"];

export const writesIn = (requests: Readonly<Record<string, number>>) =>
  WRITE_VERBS.reduce((n, v) => n + (requests[v] ?? 0), 0);

/** The V8 flag a memory-limited pod would want: a small young generation (see docs/performance.md). */
export const TUNED_NODE_ARGS = ["--max-semi-space-size=2"];

export interface ConvergenceOptions {
  readonly n: number;
  readonly workers: number;
  readonly verbose: boolean;
  readonly operatorCommand: readonly string[];
  /** One pod per app (Pending: the tier has no kubelet), as the ReplicaSet controller would create. @default true */
  readonly pods?: boolean;
  /** Extra Node flags for the operator (profiling). */
  readonly nodeArgs?: readonly string[];
  readonly log: (line: string) => void;
}

export interface Footprint {
  readonly rssBytes: number;
  /** The process's RSS high-water mark (VmHWM) so far. */
  readonly peakRssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly cpuSeconds: number;
}

/** CPU seconds spent from the spawn to the last app converged. */
export interface RunCpu {
  readonly apiserver: number;
  readonly etcd: number;
  /** The operator or the baseline process. */
  readonly client: number;
  /** Everything else on the machine in the same window (other people's work: noise). */
  readonly otherOnMachine: number;
  readonly windowSeconds: number;
}

/** One timed operator convergence (what every repetition measures). */
export interface OperatorRun {
  readonly n: number;
  /** Creating the N apps before the operator starts: not part of wallMs. */
  readonly createMs: number;
  /** Operator process spawned → the last app converged (seen by the benchmark's watches). */
  readonly wallMs: number;
  /** Operator process spawned → /readyz ok (caches synced). */
  readonly readyMs: number;
  readonly cpu: RunCpu;
  /** Requests by verb from spawn until idle after convergence. */
  readonly requests: Record<string, number>;
  readonly writes: number;
  readonly reconciles: number;
  readonly applies: Record<string, number>;
  /** Right after convergence (idle queue, a quiet second): caches hold N apps, Deployments and Services. */
  readonly footprint: Footprint;
  /** CPU seconds per 1000 reconciles, start-up and convergence included (first pass writes; later ones are no-ops). */
  readonly cpuSecondsPer1000Reconciles: number;
}

/** The first operator run of an N, with footprint, restart and resync measured after it. */
export interface OperatorConvergence extends OperatorRun {
  /** The same process after 15 s more of idling (V8 shrinks its heap when idle). */
  readonly settled: Footprint;
  readonly restart: Restart;
  /** A second restart with TUNED_NODE_ARGS: start-up and first pass only. */
  readonly tunedRestart: {
    readonly nodeArgs: readonly string[];
    readonly firstPassMs: number;
    readonly writes: number;
    readonly footprint: Footprint;
  };
}

export interface Restart {
  /** Restart spawned → /readyz ok. */
  readonly readyMs: number;
  /** Restart spawned → every app reconciled once and the queue idle. */
  readonly firstPassMs: number;
  readonly firstPassWrites: number;
  /** A periodic resync (RESYNC_PERIOD) of every app afterwards. */
  readonly resyncReconciles: number;
  readonly resyncWrites: number;
  readonly resyncRequests: Record<string, number>;
  /** CPU seconds per 1000 reconciles of unchanged apps (the resync pass). */
  readonly cpuSecondsPer1000NoopReconciles: number;
  /** Longest event-loop delay during start-up and the first pass, and during the resync (s). */
  readonly maxEventLoopLagS: { readonly firstPass: number; readonly resync: number };
  readonly footprint: Footprint;
}

export interface BaselineConvergence {
  readonly n: number;
  readonly createMs: number;
  /** Baseline process spawned → the last app converged. */
  readonly wallMs: number;
  readonly cpu: RunCpu;
  readonly requests: Record<string, number>;
  readonly writes: number;
}

const CREATE_CONCURRENCY = 16;

/** Where the baseline loads the operator's code: the tree the operator's CLI entry belongs to. */
/** The baseline process on `namespaces`, with the operator's library (compiled or source); its report on stdout. */
export function spawnBaseline(
  kubeconfigPath: string,
  namespaces: readonly string[],
  options: { readonly operatorCommand: readonly string[]; readonly workers: number },
) {
  return spawn(process.execPath, [join(REPO_ROOT, "bench", "baseline.ts")], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      KUBECONFIG: kubeconfigPath,
      BENCH_NAMESPACE: namespaces.join(","),
      ...libraryOf(options.operatorCommand),
      WORKERS: String(options.workers),
      NO_PROXY: "127.0.0.1,localhost",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
}

function libraryOf(command: readonly string[]): Record<string, string> {
  const entry = command[command.length - 1];
  if (entry === undefined) return {};
  return { BENCH_LIB_ROOT: dirname(dirname(entry)), BENCH_LIB_EXT: extname(entry).slice(1) };
}
const RESYNC_PERIOD_S = 20;
export const SETTLE_MS = 15_000;

/** The process's memory (from /proc, else its /metrics) and its V8 heap and CPU (from /metrics). */
export function footprint(samples: readonly Sample[], pid: number | undefined): Footprint {
  const mem = memoryOf(pid);
  return {
    rssBytes: mem?.rss ?? sumOf(samples, "process_resident_memory_bytes"),
    peakRssBytes: mem?.peak ?? Number.NaN,
    heapUsedBytes: sumOf(samples, "nodejs_heap_size_used_bytes"),
    heapTotalBytes: sumOf(samples, "nodejs_heap_size_total_bytes"),
    cpuSeconds: sumOf(samples, "process_cpu_seconds_total"),
  };
}

const requestsOf = (samples: readonly Sample[]) =>
  byLabel(samples, "rest_client_requests_total", "verb");

const ms = (x: number) => `${(x / 1000).toFixed(2)} s`;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

/** Fresh cluster, N apps created, and a watch that times the convergence from here on. */
async function prepare(mode: string, options: ConvergenceOptions) {
  const env = await freshCluster(`bench-${mode}-${options.n}`, options.verbose);
  const apps = Array.from({ length: options.n }, (_, i) => appName(i));
  const pods = options.pods ?? true;
  const createMs = await createApps(
    env.transport,
    env.namespace,
    options.n,
    CREATE_CONCURRENCY,
    undefined,
    { pods },
  );
  options.log(
    `  ${mode} N=${options.n}: created ${options.n} apps${pods ? " and a pod of each" : ""} in ${ms(createMs)} (not timed)`,
  );
  // Let the API server finish with the creates (watch cache, etcd) before the clock starts.
  await sleep(2000);
  const tracker = await trackConvergence(env.transport, env.namespace, apps);
  return { env, tracker, createMs, cpu: runCpuFrom(env.cluster) };
}

/**
 * Starts the clock of a run's CPU: the API server's, etcd's and the rest of the machine's from
 * now. The result gives the window's figures so far, given the client's CPU seconds.
 */
export function runCpuFrom(cluster: {
  pid(name: "kube-apiserver" | "etcd"): number | undefined;
}): (client: number) => RunCpu {
  const server = cpuMeter({
    apiserver: cluster.pid("kube-apiserver"),
    etcd: cluster.pid("etcd"),
  });
  const other = otherLoad();
  return (client) => {
    const s = server.read();
    const apiserver = s.apiserver ?? Number.NaN;
    const etcd = s.etcd ?? Number.NaN;
    const o = other.read(apiserver + etcd + client);
    return {
      apiserver,
      etcd,
      client: Math.round(client * 100) / 100,
      otherOnMachine: o.otherCpuSeconds,
      windowSeconds: o.windowSeconds,
    };
  };
}

/** Logs `report()` every 15 s until `done` settles. */
export async function progressUntil<T>(
  done: Promise<T>,
  report: () => string,
  log: (line: string) => void,
): Promise<T> {
  const timer = setInterval(() => log(`    … ${report()}`), 15_000);
  try {
    return await done;
  } finally {
    clearInterval(timer);
  }
}

/** What the baseline process prints when it is done. */
export interface BaselineReport {
  readonly requests: Record<string, number>;
  readonly cpuSeconds: number;
}

/**
 * Runs the baseline over `namespaces` (none: every namespace) until `tracker` sees every app
 * converged and the process exits 0: the wall time from its spawn to the last app, and its report.
 */
export async function baselineRun(
  kubeconfigPath: string,
  namespaces: readonly string[],
  tracker: Convergence,
  options: {
    readonly operatorCommand: readonly string[];
    readonly workers: number;
    readonly log: (line: string) => void;
  },
): Promise<{ wallMs: number; report: BaselineReport }> {
  const started = performance.now();
  const child = spawnBaseline(kubeconfigPath, namespaces, options);
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const finished = await progressUntil(
    Promise.race([
      tracker.done,
      exited.then((code) => {
        throw new Error(`the baseline exited (${code}) before every app converged`);
      }),
    ]),
    () => JSON.stringify(tracker.counts()),
    options.log,
  );
  const code = await exited;
  if (code !== 0) throw new Error(`the baseline exited with ${code}`);
  return { wallMs: finished - started, report: JSON.parse(out) as BaselineReport };
}

export async function baselineConvergence(
  options: ConvergenceOptions,
): Promise<BaselineConvergence> {
  const { env, tracker, createMs, cpu: cpuSoFar } = await prepare("baseline", options);
  try {
    const { wallMs, report } = await baselineRun(
      env.cluster.kubeconfigPath,
      [env.namespace],
      tracker,
      options,
    );
    const cpu = cpuSoFar(report.cpuSeconds);
    options.log(
      `  baseline N=${options.n}: converged in ${ms(wallMs)}; CPU s ${JSON.stringify(cpu)}`,
    );
    return {
      n: options.n,
      createMs,
      wallMs,
      cpu,
      requests: report.requests,
      writes: writesIn(report.requests),
    };
  } finally {
    await tracker.stop();
    await env.stop();
  }
}

/**
 * A just-started operator against `n` converged apps: spawn → /readyz, → every app reconciled
 * once with an idle queue, then one periodic resync (the operator's RESYNC_PERIOD must be longer
 * than the first pass); writes and the longest event-loop block of each phase.
 */
export async function restartAndResync(operator: OperatorProcess, n: number): Promise<Restart> {
  const readyAt = await operator.waitReady();
  const firstPass = await operator.waitIdle(n);
  const firstRequests = requestsOf(firstPass.samples);
  const firstReconciles = sumOf(firstPass.samples, "controller_runtime_reconcile_total");
  const firstCpu = sumOf(firstPass.samples, "process_cpu_seconds_total");
  const firstPassLag = operator.takeMaxEventLoopLag();
  const resync = await operator.waitIdle(firstReconciles + n, 300_000 + n * 30, 200);
  const resyncRequests = delta(firstRequests, requestsOf(resync.samples));
  const resyncReconciles =
    sumOf(resync.samples, "controller_runtime_reconcile_total") - firstReconciles;
  return {
    readyMs: readyAt - operator.startedAt,
    firstPassMs: firstPass.at - operator.startedAt,
    firstPassWrites: writesIn(firstRequests),
    resyncReconciles,
    resyncWrites: writesIn(resyncRequests),
    resyncRequests,
    cpuSecondsPer1000NoopReconciles:
      ((sumOf(resync.samples, "process_cpu_seconds_total") - firstCpu) / resyncReconciles) * 1000,
    maxEventLoopLagS: { firstPass: firstPassLag, resync: operator.takeMaxEventLoopLag() },
    footprint: footprint(resync.samples, operator.pid),
  };
}

/** Times one operator convergence only (the repetitions after the first). */
export async function operatorRun(options: ConvergenceOptions): Promise<OperatorRun> {
  return (await operatorMeasure(options, false)).run;
}

/** Times one operator convergence, then measures footprint, restart, resync and a tuned restart. */
export async function operatorConvergence(
  options: ConvergenceOptions,
): Promise<OperatorConvergence> {
  const { run, details } = await operatorMeasure(options, true);
  if (details === undefined) throw new Error("operator details were not measured");
  return { ...run, ...details };
}

async function operatorMeasure(
  options: ConvergenceOptions,
  withDetails: boolean,
): Promise<{
  run: OperatorRun;
  details?: Pick<OperatorConvergence, "settled" | "restart" | "tunedRestart">;
}> {
  const { env, tracker, createMs, cpu: cpuSoFar } = await prepare("operator", options);
  const start = (label: string, resyncPeriod: string, nodeArgs = options.nodeArgs) =>
    OperatorProcess.start({
      command: options.operatorCommand,
      kubeconfigPath: env.cluster.kubeconfigPath,
      namespaces: [env.namespace],
      workers: options.workers,
      resyncPeriod,
      logPath: join(LOG_DIR, `operator-${options.n}-${label}.log`),
      ...(nodeArgs ? { nodeArgs } : {}),
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
    const cpu = cpuSoFar(cpuSecondsOf(operator.pid) ?? Number.NaN);
    await tracker.stop();
    // Idle: every event the convergence caused has been reconciled; then a quiet second.
    await operator.waitIdle(options.n);
    await sleep(1000);
    const { samples } = await operator.waitIdle(options.n);
    const requests = requestsOf(samples);
    const reconciles = sumOf(samples, "controller_runtime_reconcile_total");
    const fp = footprint(samples, operator.pid);
    const converged: OperatorRun = {
      n: options.n,
      createMs,
      wallMs,
      readyMs: (readyAt ?? Number.NaN) - operator.startedAt,
      cpu,
      requests,
      writes: writesIn(requests),
      reconciles,
      applies: byLabel(samples, "stateless_operator_apply_total", "outcome"),
      footprint: fp,
      cpuSecondsPer1000Reconciles: (fp.cpuSeconds / reconciles) * 1000,
    };
    if (!withDetails) {
      options.log(
        `  operator N=${options.n}: converged in ${ms(wallMs)}, ${reconciles} reconciles; CPU s ${JSON.stringify(cpu)}`,
      );
      return { run: converged };
    }
    await sleep(SETTLE_MS);
    const settled = footprint((await operator.waitIdle(options.n)).samples, operator.pid);
    options.log(
      `  operator N=${options.n}: converged in ${ms(wallMs)}, ${reconciles} reconciles; RSS ${mib(fp.rssBytes)} (peak ${mib(fp.peakRssBytes)}, settled ${mib(settled.rssBytes)}); CPU s ${JSON.stringify(cpu)}`,
    );
    if (options.nodeArgs?.some((a) => a.startsWith("--heapsnapshot-signal"))) {
      operator.signal("SIGUSR2");
      await sleep(10_000 + options.n * 4);
    }
    await operator.stop();

    // Restart against N converged apps: start-up, the first pass and a periodic resync, all without writes.
    operator = await start("restart", `${RESYNC_PERIOD_S}s`);
    const restart = await restartAndResync(operator, options.n);
    await operator.stop();
    options.log(
      `  operator N=${options.n}: restart ready in ${ms(restart.readyMs)}, first pass done in ${ms(restart.firstPassMs)} with ${restart.firstPassWrites} writes; resync of ${restart.resyncReconciles} apps: ${restart.resyncWrites} writes, event loop blocked up to ${restart.maxEventLoopLagS.resync.toFixed(2)} s; RSS ${mib(restart.footprint.rssBytes)} (peak ${mib(restart.footprint.peakRssBytes)})`,
    );

    // The same restart with a small young generation, as a memory-limited pod would run it.
    const tunedArgs = [...(options.nodeArgs ?? []), ...TUNED_NODE_ARGS];
    operator = await start("restart-tuned", "10m", tunedArgs);
    await operator.waitReady();
    const tunedPass = await operator.waitIdle(options.n);
    await sleep(SETTLE_MS);
    const tuned = {
      nodeArgs: TUNED_NODE_ARGS,
      firstPassMs: tunedPass.at - operator.startedAt,
      writes: writesIn(requestsOf(tunedPass.samples)),
      footprint: footprint((await operator.waitIdle(options.n)).samples, operator.pid),
    };
    options.log(
      `  operator N=${options.n}: restart with ${TUNED_NODE_ARGS.join(" ")}: RSS ${mib(tuned.footprint.rssBytes)} (peak ${mib(tuned.footprint.peakRssBytes)}), heap used ${mib(tuned.footprint.heapUsedBytes)}`,
    );
    return { run: converged, details: { settled, restart, tunedRestart: tuned } };
  } finally {
    await operator.stop();
    await tracker.stop();
    await env.stop();
  }
}
