// Child processes that never outlive the runner: process groups, exit handlers and a watchdog.
//
// Each component runs in its own process group (so a signal reaches anything it forks, and a
// Ctrl-C in the terminal reaches only the runner, which then stops the cluster in order).
// Exit and signal handlers kill the groups when the runner exits; for a runner that is killed
// outright (SIGKILL, OOM) a tiny `sh` watchdog holds a pipe from the runner: when the pipe
// closes it kills every group still listed in the runner's pid file.

import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Process group ids of every live child, for the exit handlers and the watchdog. Kept on
 * globalThis: a test runner may load this module more than once in one process (one module
 * graph per vitest project), and all copies must share one pid file and one watchdog.
 */
type Reaper = { liveGroups: Set<number>; installed: boolean };
const reaperKey = Symbol.for("stateless-operator/tools/cluster/proc");
const shared = globalThis as { [reaperKey]?: Reaper };
if (!shared[reaperKey]) shared[reaperKey] = { liveGroups: new Set<number>(), installed: false };
const reaper: Reaper = shared[reaperKey];
const liveGroups = reaper.liveGroups;
const pidFile = join(tmpdir(), `stateless-operator-children-${process.pid}.pids`);

function syncPidFile(): void {
  writeFileSync(pidFile, [...liveGroups].join("\n"));
}

function killAllGroups(signal: NodeJS.Signals): void {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, signal);
    } catch {}
  }
}

function installReaper(): void {
  if (reaper.installed) return;
  reaper.installed = true;
  syncPidFile();
  const watchdog = spawn(
    "sh",
    [
      "-c",
      // `cat` returns when the runner's end of the pipe closes, i.e. when the runner is gone.
      'cat >/dev/null; for g in $(cat "$1" 2>/dev/null); do kill -9 -"$g" 2>/dev/null; done; rm -f "$1"',
      "watchdog",
      pidFile,
    ],
    { detached: true, stdio: ["pipe", "ignore", "ignore"] },
  );
  watchdog.unref();
  (watchdog.stdin as unknown as { unref(): void }).unref();
  process.on("exit", () => {
    killAllGroups("SIGKILL");
    rmSync(pidFile, { force: true });
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      // Someone else handles the signal (vitest, the cluster CLI): let them stop the cluster in
      // order; the exit handler above still kills whatever is left when the process ends.
      if (process.listenerCount(signal) > 1) return;
      // Nobody does: behave as the default (exit on the signal), without leaving children.
      killAllGroups("SIGKILL");
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** How to run one long-lived child. */
export type ProcessSpec = {
  name: string;
  command: string;
  args: string[];
  /** Appended to; stdout and stderr both go here. */
  logPath: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
};

/** One supervised child process that can be stopped, restarted, paused and resumed. */
export class ManagedProcess {
  readonly spec: ProcessSpec;
  #child: ChildProcess | undefined;
  #exited: Promise<number | null> | undefined;
  #stopping = false;
  #onUnexpectedExit: (code: number | null, signal: NodeJS.Signals | null) => void;

  constructor(
    spec: ProcessSpec,
    onUnexpectedExit: (code: number | null, signal: NodeJS.Signals | null) => void = () => {},
  ) {
    this.spec = spec;
    this.#onUnexpectedExit = onUnexpectedExit;
  }

  /** The child's pid (also its process group id) while it runs. */
  get pid(): number | undefined {
    return this.#child?.exitCode === null && this.#child.signalCode === null
      ? this.#child.pid
      : undefined;
  }

  get running(): boolean {
    return this.pid !== undefined;
  }

  /** Starts the process; resolves once it is spawned (not once it is ready). */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.spec.name} is already running`);
    installReaper();
    const fd = openSync(this.spec.logPath, "a");
    let child: ChildProcess;
    try {
      child = spawn(this.spec.command, this.spec.args, {
        cwd: this.spec.cwd,
        env: this.spec.env ?? process.env,
        stdio: ["ignore", fd, fd],
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    const pid = child.pid as number;
    liveGroups.add(pid);
    syncPidFile();
    this.#child = child;
    this.#stopping = false;
    this.#exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        // The group may still hold grandchildren: make sure none survive the leader.
        try {
          process.kill(-pid, "SIGKILL");
        } catch {}
        liveGroups.delete(pid);
        syncPidFile();
        if (!this.#stopping) this.#onUnexpectedExit(code, signal);
        resolve(code);
      });
    });
  }

  /** Sends SIGTERM (after SIGCONT, in case it is paused), then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.#child;
    const pid = this.pid;
    if (!child || pid === undefined || !this.#exited) return;
    this.#stopping = true;
    this.#signal("SIGCONT");
    this.#signal("SIGTERM");
    const timer = setTimeout(() => this.#signal("SIGKILL"), graceMs);
    try {
      await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL without grace (simulates a crash). Resolves when it is gone. */
  async kill(): Promise<void> {
    if (this.pid === undefined || !this.#exited) return;
    this.#stopping = true;
    this.#signal("SIGKILL");
    await this.#exited;
  }

  /** SIGSTOP: the process stays, frozen (a hung component). */
  pause(): void {
    this.#signal("SIGSTOP");
  }

  /** SIGCONT after pause(). */
  resume(): void {
    this.#signal("SIGCONT");
  }

  /** Resolves with the exit code when the process exits. */
  exited(): Promise<number | null> {
    return this.#exited ?? Promise.resolve(null);
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {}
  }
}
