// Runs `stateless-operator run` as a child process (as the image would), reads its JSON logs, stops it with SIGTERM.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { eventually } from "../../support/cluster.ts";

export interface OperatorProcess {
  readonly child: ChildProcess;
  /** Every output line so far (stdout and stderr). */
  readonly lines: string[];
  /** The JSON log records so far. */
  readonly records: Record<string, unknown>[];
  /** `http://host:port` of /healthz and /readyz, once the operator logged it. */
  endpoint(): Promise<string>;
  /** The URL of /metrics (https:// unless METRICS_SECURE=false), once the operator logged it. */
  metricsUrl(): Promise<string>;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
  /** The last lines, for a failure message. */
  tail(n?: number): string;
}

export interface OperatorProcessOptions {
  /** The program and its arguments after `node`, e.g. ["dist/cli/main.js", "run"]. */
  readonly args: readonly string[];
  readonly cwd: string;
  /** The whole environment: nothing of the test's leaks in unless passed here. */
  readonly env: Record<string, string>;
  readonly uid?: number;
  readonly gid?: number;
  /** The node binary. @default the test's own (process.execPath) */
  readonly node?: string;
}

export function startOperatorProcess(options: OperatorProcessOptions): OperatorProcess {
  const child = spawn(options.node ?? process.execPath, [...options.args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  const lines: string[] = [];
  const records: Record<string, unknown>[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue;
    createInterface({ input: stream }).on("line", (line) => {
      lines.push(line);
      try {
        const parsed: unknown = JSON.parse(line);
        if (typeof parsed === "object" && parsed !== null)
          records.push(parsed as Record<string, unknown>);
      } catch {
        // not a log record (e.g. a Node warning): kept in `lines`
      }
    });
  }
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => resolve(code));
  });
  const tail = (n = 40) => lines.slice(-n).join("\n");
  const started = () =>
    eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`the operator exited:\n${tail()}`);
        return records.find((r) => r.msg === "operator started");
      },
      { what: "the operator to log its address", timeoutMs: 30_000 },
    );
  return {
    child,
    lines,
    records,
    tail,
    endpoint: async () => `http://${String((await started()).address)}`,
    metricsUrl: async () => {
      const record = await started();
      const scheme = record.metricsSecure === true ? "https" : "http";
      return `${scheme}://${String(record.metricsAddress)}/metrics`;
    },
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** The environment a pod would give the operator: no HOME of the test, no KUBECONFIG unless set. */
export function baseEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", ...extra };
  return env;
}
