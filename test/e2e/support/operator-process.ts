// The operator as a child process (`node src/cli/main.ts run`): its JSON logs, /metrics, and signals.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeEach } from "vitest";
import { ManagedProcess } from "../../../tools/cluster/proc.ts";
import { type Metrics, objectWrites, parseMetrics } from "./metrics.ts";

const REPO = resolve(import.meta.dirname, "../../..");

/** One JSON log line of the operator (pino). */
export type LogLine = { level?: string; msg?: string; time?: string; [field: string]: unknown };

export interface OperatorProcessOptions {
  /** Names the process in messages and its log file. */
  readonly name: string;
  readonly kubeconfig: string;
  readonly namespaces: readonly string[];
  /** More environment (RESYNC_PERIOD, LEADER_ELECT, …). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Every operator started by this test file, for failure reports. */
const started: OperatorProcess[] = [];

/** Prints the last lines of every operator process of this file when one of its tests fails. */
export function printOperatorLogsOnFailure(lines = 40): void {
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      for (const op of started) console.error(`----- operator ${op.name} -----\n${op.tail(lines)}`);
    });
  });
}

/** A running (or exited) operator process. Its output is kept in a file for the whole test file. */
export class OperatorProcess {
  readonly name: string;
  readonly logPath: string;
  readonly #dir: string;
  readonly #process: ManagedProcess;
  /** The output, kept once the process is gone and its directory removed. */
  #final: string | undefined;
  #url: string | undefined;
  #exit: { code: number | null } | undefined;

  private constructor(name: string, dir: string, process: ManagedProcess) {
    this.name = name;
    this.#dir = dir;
    this.logPath = join(dir, "output.log");
    this.#process = process;
  }

  /** Spawns the operator and resolves once its endpoints answer and its caches are synced. */
  static async start(options: OperatorProcessOptions): Promise<OperatorProcess> {
    const dir = mkdtempSync(join(tmpdir(), `e2e-operator-${options.name}-`));
    const logPath = join(dir, "output.log");
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      KUBECONFIG: options.kubeconfig,
      WATCH_NAMESPACES: options.namespaces.join(","),
      HTTP_ADDRESS: "127.0.0.1:0",
      // The scenarios scrape /metrics as admin (client certificates, which a TokenReview cannot
      // review): plain HTTP on the loopback HTTP port.
      METRICS_SECURE: "false",
      LOG_LEVEL: "debug",
      POD_NAME: options.name,
      NO_PROXY: "127.0.0.1,localhost",
      ...options.env,
    };
    const managed = new ManagedProcess({
      name: `operator-${options.name}`,
      command: process.execPath,
      args: ["src/cli/main.ts", "run"],
      cwd: REPO,
      env,
      logPath,
    });
    const op = new OperatorProcess(options.name, dir, managed);
    started.push(op);
    await managed.start();
    void managed.exited().then((code) => {
      op.#exit = { code };
    });
    await op.#waitReady();
    return op;
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  get running(): boolean {
    return this.#process.running;
  }

  /** The exit code once it has exited on its own or by a signal; undefined while running. */
  get exit(): { code: number | null } | undefined {
    return this.#exit;
  }

  /** Everything it wrote to stdout and stderr so far. */
  output(): string {
    if (this.#final !== undefined) return this.#final;
    try {
      return readFileSync(this.logPath, "utf8");
    } catch {
      return "";
    }
  }

  /** Its log lines parsed as JSON (lines that are not JSON are skipped). */
  logs(): LogLine[] {
    const lines: LogLine[] = [];
    for (const line of this.output().split("\n")) {
      if (!line.startsWith("{")) continue;
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {}
    }
    return lines;
  }

  /** The last lines of its output, for failure messages. */
  tail(lines = 30): string {
    return this.output().split("\n").slice(-lines).join("\n");
  }

  /** Scrapes /metrics. */
  async metrics(): Promise<Metrics> {
    if (this.#url === undefined) throw new Error(`${this.name}: not started`);
    const res = await fetch(`${this.#url}/metrics`, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) throw new Error(`${this.name}: /metrics answered ${res.status}`);
    return parseMetrics(await res.text());
  }

  /** The HTTP status /readyz answers, or undefined when it does not answer within `timeoutMs`. */
  async readyzStatus(timeoutMs = 10_000): Promise<number | undefined> {
    if (this.#url === undefined) return undefined;
    try {
      return (await fetch(`${this.#url}/readyz`, { signal: AbortSignal.timeout(timeoutMs) }))
        .status;
    } catch {
      return undefined;
    }
  }

  async ready(): Promise<boolean> {
    if (this.#url === undefined) return false;
    try {
      const res = await fetch(`${this.#url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      return res.ok;
    } catch {
      return false;
    }
  }

  /**
   * Watches for `ms`: how many object writes it made meanwhile (Events aside: see
   * `objectWrites`), and its log lines of that time (which name what it applied and why).
   */
  async quietWindow(ms: number): Promise<{ writes: number; log: string[] }> {
    const before = objectWrites(await this.metrics());
    const offset = this.output().length;
    await new Promise((r) => setTimeout(r, ms));
    const after = objectWrites(await this.metrics());
    const log = this.output()
      .slice(offset)
      .split("\n")
      .filter((l) => l.includes('"applied"') || l.includes('"deleted') || l.includes("event"));
    return { writes: after - before, log };
  }

  /** SIGKILL: a crash, no cleanup, no Lease release. */
  async kill(): Promise<void> {
    await this.#process.kill();
    this.#cleanUp();
  }

  /** SIGTERM and wait (SIGKILL after `graceMs`); returns the exit code. */
  async stop(graceMs = 15_000): Promise<number | null> {
    await this.#process.stop(graceMs);
    const code = await this.#process.exited();
    this.#cleanUp();
    return code;
  }

  /** Keeps the output in memory and removes the log directory (E2E_KEEP_LOGS=1 keeps it). */
  #cleanUp(): void {
    if (this.#final !== undefined) return;
    this.#final = this.output();
    if (process.env.E2E_KEEP_LOGS !== "1") rmSync(this.#dir, { recursive: true, force: true });
  }

  async #waitReady(): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (this.#url === undefined) {
        const started = this.logs().find((l) => l.msg === "operator started");
        if (typeof started?.address === "string") this.#url = `http://${started.address}`;
      }
      if (this.#url !== undefined && (await this.ready())) return;
      if (!this.running) {
        throw new Error(`operator ${this.name} exited during start:\n${this.tail()}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`operator ${this.name} not ready after 60 s:\n${this.tail()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
