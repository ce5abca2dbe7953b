// The operator as its own process (`node src/cli/main.ts run`), with its /readyz and /metrics read over loopback.

import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:net";
import { OPERATOR_NODE_FLAGS } from "../../src/platform/node-flags.ts";
import { REPO_ROOT, stopOnInterrupt } from "./env.ts";
import { sleep } from "./kube.ts";
import { parseMetrics, type Sample, sumOf } from "./prom.ts";

export interface OperatorProcessOptions {
  /** The Node arguments that run the CLI, without `run`: e.g. [".../dist/cli/main.js"]. */
  readonly command: readonly string[];
  readonly kubeconfigPath: string;
  readonly namespaces: readonly string[];
  readonly workers: number;
  /** @default "10m" (the operator's default) */
  readonly resyncPeriod?: string;
  /** @default "info" (the operator's default) */
  readonly logLevel?: string;
  /** Where its JSON log goes. */
  readonly logPath: string;
  /** Extra Node flags, e.g. --cpu-prof. */
  readonly nodeArgs?: readonly string[];
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port")),
      );
    });
  });
}

export class OperatorProcess {
  /** performance.now() just before the process was spawned. */
  readonly startedAt: number;
  readonly #child: ChildProcess;
  readonly #base: string;
  readonly #exited: Promise<number | null>;
  #maxLagSeconds = 0;

  private constructor(child: ChildProcess, port: number, startedAt: number) {
    this.#child = child;
    this.#base = `http://127.0.0.1:${port}`;
    this.startedAt = startedAt;
    this.#exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  static async start(options: OperatorProcessOptions): Promise<OperatorProcess> {
    const port = await freePort();
    const log = createWriteStream(options.logPath);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) delete env[key];
    Object.assign(env, {
      KUBECONFIG: options.kubeconfigPath,
      WATCH_NAMESPACES: options.namespaces.join(","),
      WORKERS: String(options.workers),
      RESYNC_PERIOD: options.resyncPeriod ?? "10m",
      LOG_LEVEL: options.logLevel ?? "info",
      HTTP_ADDRESS: `127.0.0.1:${port}`,
      // Read over loopback by the benchmark itself: plain HTTP, as in a local run.
      METRICS_SECURE: "false",
      LEADER_ELECT: "false",
      NO_PROXY: "127.0.0.1,localhost",
    });
    const startedAt = performance.now();
    const child = spawn(
      process.execPath,
      // The operator as its image runs it (the Dockerfile's ENTRYPOINT flags), then any extras.
      [...OPERATOR_NODE_FLAGS, ...(options.nodeArgs ?? []), ...options.command, "run"],
      { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const forget = stopOnInterrupt(async () => child.kill("SIGKILL"));
    child.once("exit", forget);
    return new OperatorProcess(child, port, startedAt);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Sends a signal (e.g. SIGUSR2 for a heap snapshot with --heapsnapshot-signal). */
  signal(sig: NodeJS.Signals): void {
    this.#child.kill(sig);
  }

  async metrics(): Promise<Sample[]> {
    const res = await fetch(`${this.#base}/metrics`);
    const samples = parseMetrics(await res.text());
    // prom-client resets its event-loop delay histogram on every scrape: keep the maximum seen.
    const lag = sumOf(samples, "nodejs_eventloop_lag_max_seconds");
    if (Number.isFinite(lag)) this.#maxLagSeconds = Math.max(this.#maxLagSeconds, lag);
    return samples;
  }

  /** The longest event-loop delay seen in the scrapes since the last call (seconds). */
  takeMaxEventLoopLag(): number {
    const lag = this.#maxLagSeconds;
    this.#maxLagSeconds = 0;
    return lag;
  }

  /** Polls /readyz until it answers 200; returns performance.now() then. */
  async waitReady(timeoutMs = 300_000): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.#child.exitCode !== null) throw new Error("the operator exited before it was ready");
      try {
        const res = await fetch(`${this.#base}/readyz`);
        await res.text();
        if (res.status === 200) return performance.now();
      } catch {
        // not listening yet
      }
      if (performance.now() > deadline) throw new Error("the operator did not become ready");
      await sleep(10);
    }
  }

  /**
   * Polls /metrics until at least `reconciles` reconciles finished and the queue is empty with no
   * reconcile in flight; returns performance.now() at that poll and the samples.
   */
  async waitIdle(
    reconciles: number,
    timeoutMs = 1_200_000,
    everyMs = 50,
  ): Promise<{ at: number; samples: Sample[] }> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const samples = await this.metrics();
      const at = performance.now();
      if (
        sumOf(samples, "controller_runtime_reconcile_total") >= reconciles &&
        sumOf(samples, "workqueue_depth") === 0 &&
        sumOf(samples, "controller_runtime_active_workers") === 0
      ) {
        return { at, samples };
      }
      if (at > deadline) throw new Error(`the operator did not finish ${reconciles} reconciles`);
      await sleep(everyMs);
    }
  }

  /** SIGTERM, and wait for the exit. */
  async stop(): Promise<number | null> {
    if (this.#child.exitCode === null) this.#child.kill("SIGTERM");
    return this.#exited;
  }
}
