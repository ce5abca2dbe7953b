// Convergence of N apps (operator vs baseline), and for the operator: footprint, restart and a no-op resync.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { trackConvergence } from "../lib/convergence.ts";
import { type BenchCluster, freshCluster, LOG_DIR } from "../lib/env.ts";
import { appName, createApps, sleep } from "../lib/kube.ts";
import { OperatorProcess, REPO_ROOT } from "../lib/operator.ts";
import { byLabel, delta, type Sample, sumOf } from "../lib/prom.ts";

/** Request verbs that change something (leases and Events excluded: none are written here). */
export const WRITE_VERBS = ["apply", "apply-status", "patch", "create", "update", "delete"];

export const writesIn = (requests: Readonly<Record<string, number>>) =>
  WRITE_VERBS.reduce((n, v) => n + (requests[v] ?? 0), 0);

export interface ConvergenceOptions {
  readonly n: number;
  readonly workers: number;
  readonly verbose: boolean;
  readonly operatorCommand: readonly string[];
  /** Extra Node flags for the operator (profiling). */
  readonly nodeArgs?: readonly string[];
  readonly log: (line: string) => void;
}

export interface Footprint {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly cpuSeconds: number;
}

export interface OperatorConvergence {
  readonly n: number;
  /** Creating the N apps before the operator starts: not part of wallMs. */
  readonly createMs: number;
  /** Operator process spawned → the last app converged (seen by the benchmark's watches). */
  readonly wallMs: number;
  /** Operator process spawned → /readyz ok (caches synced). */
  readonly readyMs: number;
  /** Requests by verb from spawn until idle after convergence. */
  readonly requests: Record<string, number>;
  readonly writes: number;
  readonly reconciles: number;
  readonly applies: Record<string, number>;
  /** After convergence and a quiet second: caches hold N apps, Deployments and Services. */
  readonly footprint: Footprint;
  /** CPU seconds per 1000 reconciles during convergence (the first pass writes; later ones are no-ops). */
  readonly cpuSecondsPer1000Reconciles: number;
  readonly restart: Restart;
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
  readonly footprint: Footprint;
}

export interface BaselineConvergence {
  readonly n: number;
  readonly createMs: number;
  /** Baseline process spawned → the last app converged. */
  readonly wallMs: number;
  readonly requests: Record<string, number>;
  readonly writes: number;
}

const CREATE_CONCURRENCY = 16;
const RESYNC_PERIOD_S = 20;

function footprint(samples: readonly Sample[]): Footprint {
  return {
    rssBytes: sumOf(samples, "process_resident_memory_bytes"),
    heapUsedBytes: sumOf(samples, "nodejs_heap_size_used_bytes"),
    heapTotalBytes: sumOf(samples, "nodejs_heap_size_total_bytes"),
    cpuSeconds: sumOf(samples, "process_cpu_seconds_total"),
  };
}

const requestsOf = (samples: readonly Sample[]) =>
  byLabel(samples, "rest_client_requests_total", "method");

/** Fresh cluster, N apps created, and a watch that times the convergence from here on. */
async function prepare(mode: string, options: ConvergenceOptions) {
  const env = await freshCluster(`bench-${mode}-${options.n}`, options.verbose);
  const apps = Array.from({ length: options.n }, (_, i) => appName(i));
  const createMs = await createApps(env.transport, env.namespace, options.n, CREATE_CONCURRENCY);
  options.log(
    `  ${mode} N=${options.n}: created ${options.n} apps in ${ms(createMs)} (not measured)`,
  );
  // Let the API server finish with the creates (watch cache, etcd) before the clock starts.
  await sleep(2000);
  const tracker = await trackConvergence(env.transport, env.namespace, apps);
  return { env, tracker, createMs };
}

const ms = (x: number) => `${(x / 1000).toFixed(2)} s`;

async function progressUntil<T>(
  done: Promise<T>,
  report: () => string,
  log: (line: string) => void,
): Promise<T> {
  const timer = setInterval(() => log(`    … ${report()}`), 10_000);
  try {
    return await done;
  } finally {
    clearInterval(timer);
  }
}

export async function baselineConvergence(
  options: ConvergenceOptions,
): Promise<BaselineConvergence> {
  const { env, tracker, createMs } = await prepare("baseline", options);
  try {
    const started = performance.now();
    const child = spawn(process.execPath, [join(REPO_ROOT, "bench", "baseline.ts")], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        KUBECONFIG: env.cluster.kubeconfigPath,
        BENCH_NAMESPACE: env.namespace,
        WORKERS: String(options.workers),
        NO_PROXY: "127.0.0.1,localhost",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
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
    const report = JSON.parse(out) as { requests: Record<string, number> };
    return {
      n: options.n,
      createMs,
      wallMs: finished - started,
      requests: report.requests,
      writes: writesIn(report.requests),
    };
  } finally {
    await tracker.stop();
    await env.stop();
  }
}

export async function operatorConvergence(
  options: ConvergenceOptions,
): Promise<OperatorConvergence> {
  const { env, tracker, createMs } = await prepare("operator", options);
  const start = (resyncPeriod: string, label: string) =>
    OperatorProcess.start({
      command: options.operatorCommand,
      kubeconfigPath: env.cluster.kubeconfigPath,
      namespaces: [env.namespace],
      workers: options.workers,
      resyncPeriod,
      logPath: join(LOG_DIR, `operator-${options.n}-${label}.log`),
      ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
    });
  let operator = await start("10m", "converge");
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
    await tracker.stop();
    // Idle: every event the convergence caused has been reconciled; then a quiet second.
    await operator.waitIdle(options.n);
    await sleep(1000);
    const after = await operator.waitIdle(options.n);
    const samples = after.samples;
    const requests = requestsOf(samples);
    const reconciles = sumOf(samples, "controller_runtime_reconcile_total");
    const fp = footprint(samples);
    options.log(
      `  operator N=${options.n}: converged in ${ms(wallMs)}, ${reconciles} reconciles, RSS ${(fp.rssBytes / 2 ** 20).toFixed(0)} MiB`,
    );
    if (options.nodeArgs?.some((a) => a.startsWith("--heapsnapshot-signal"))) {
      operator.signal("SIGUSR2");
      await sleep(5000 + options.n * 2);
    }
    const converged = {
      n: options.n,
      createMs,
      wallMs,
      readyMs: (readyAt ?? Number.NaN) - operator.startedAt,
      requests,
      writes: writesIn(requests),
      reconciles,
      applies: byLabel(samples, "stateless_operator_apply_total", "outcome"),
      footprint: fp,
      cpuSecondsPer1000Reconciles: (fp.cpuSeconds / reconciles) * 1000,
    };
    await operator.stop();

    // Restart against N converged apps: start-up, the first pass and a periodic resync, all without writes.
    operator = await start(`${RESYNC_PERIOD_S}s`, "restart");
    const readyAt2 = await operator.waitReady();
    const firstPass = await operator.waitIdle(options.n);
    const firstRequests = requestsOf(firstPass.samples);
    const firstReconciles = sumOf(firstPass.samples, "controller_runtime_reconcile_total");
    const firstCpu = sumOf(firstPass.samples, "process_cpu_seconds_total");
    const resync = await operator.waitIdle(firstReconciles + options.n, 300_000, 200);
    const resyncRequests = delta(firstRequests, requestsOf(resync.samples));
    const resyncReconciles =
      sumOf(resync.samples, "controller_runtime_reconcile_total") - firstReconciles;
    const restart: Restart = {
      readyMs: readyAt2 - operator.startedAt,
      firstPassMs: firstPass.at - operator.startedAt,
      firstPassWrites: writesIn(firstRequests),
      resyncReconciles,
      resyncWrites: writesIn(resyncRequests),
      resyncRequests,
      cpuSecondsPer1000NoopReconciles:
        ((sumOf(resync.samples, "process_cpu_seconds_total") - firstCpu) / resyncReconciles) * 1000,
      footprint: footprint(resync.samples),
    };
    options.log(
      `  operator N=${options.n}: restart ready in ${ms(restart.readyMs)}, first pass done in ${ms(restart.firstPassMs)} with ${restart.firstPassWrites} writes; resync of ${resyncReconciles} apps: ${restart.resyncWrites} writes`,
    );
    return { ...converged, restart };
  } finally {
    await operator.stop();
    await tracker.stop();
    await env.stop();
  }
}

export type { BenchCluster };
