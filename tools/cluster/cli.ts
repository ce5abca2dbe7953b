// CLI for people: `npm run cluster:up [-- --tier e2e] [--foreground]`, `npm run cluster:down`.
//
// `up` builds missing binaries (with progress), starts the cluster in a background supervisor
// process, waits until it is ready, prints how to use it and returns. The supervisor owns the
// component processes; `down` asks it to stop them (SIGTERM) and waits. State lives in
// `.cluster/` at the repository root: state.json and a stable copy of the admin kubeconfig.
// With --foreground the cluster runs in this process instead and Ctrl-C stops it.

import { spawn } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { provision } from "../provision/provision.ts";
import { ensureBinaries } from "./binaries.ts";
import { startCluster } from "./cluster.ts";
import { recoverNodeHost } from "./node.ts";
import { parseTier, type Tier, tierBinaries } from "./tiers.ts";
import { etcdVersion, kwokVersion, selectedKubernetesVersion } from "./versions.ts";

const repoRoot = resolve(import.meta.dirname, "../..");
const stateDir = join(repoRoot, ".cluster");
const statePath = join(stateDir, "state.json");
const supervisorLog = join(stateDir, "supervisor.log");
/** Stable path people can export once. */
const stableKubeconfig = join(stateDir, "kubeconfig");
/** The built kubectl, linked where `export PATH=$PWD/.cluster/bin:$PATH` finds it. */
const binDir = join(stateDir, "bin");

/** What the supervisor writes once the cluster is ready. */
type State = {
  pid: number;
  tier: Tier;
  dir: string;
  server: string;
  kubeconfig: string;
  kubectl: string | undefined;
  /** The node tier's containerd (`npm run image:build` imports into it). */
  containerdSocket?: string | undefined;
  pids: Record<string, number>;
};

function readState(): State | undefined {
  try {
    return JSON.parse(readFileSync(statePath, "utf8")) as State;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tierOf(argv: string[]): Tier {
  const i = argv.indexOf("--tier");
  return parseTier(i >= 0 ? argv[i + 1] : undefined, "integration");
}

function printUsage(state: State): void {
  const rel = relative(process.cwd(), stableKubeconfig) || stableKubeconfig;
  const kubectl = state.kubectl ?? "kubectl";
  console.log(
    [
      "",
      `Cluster (${state.tier} tier, Kubernetes ${selectedKubernetesVersion()}, etcd ${etcdVersion}${
        state.tier === "e2e" ? `, kwok ${kwokVersion}` : ""
      }) is running at ${state.server}`,
      `  logs and data: ${state.dir}`,
      "",
      "Point kubectl at it:",
      `  export KUBECONFIG=${stableKubeconfig}`,
      ...(state.kubectl ? [`  export PATH=${binDir}:$PATH    # kubectl: ${kubectl}`] : []),
      "  kubectl get --raw /version; kubectl get nodes,namespaces",
      "",
      `Run the test tiers against it: TEST_KUBECONFIG=${rel} npm test`,
      "Stop it: npm run cluster:down",
      "",
    ].join("\n"),
  );
}

/** Runs the cluster in this process until SIGINT/SIGTERM. */
async function serve(tier: Tier): Promise<void> {
  const cluster = await startCluster({ tier, log: (line) => console.log(line) });
  mkdirSync(stateDir, { recursive: true });
  copyFileSync(cluster.kubeconfigPath, stableKubeconfig);
  rmSync(binDir, { recursive: true, force: true });
  if (cluster.kubectlPath) {
    mkdirSync(binDir, { recursive: true });
    symlinkSync(cluster.kubectlPath, join(binDir, "kubectl"));
  }
  const state: State = {
    pid: process.pid,
    tier,
    dir: cluster.dir,
    server: cluster.serverUrl,
    kubeconfig: cluster.kubeconfigPath,
    kubectl: cluster.kubectlPath,
    containerdSocket: cluster.containerdSocket,
    pids: cluster.pids(),
  };
  await writeFile(statePath, JSON.stringify(state, null, 2));
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`cluster: ${signal}: stopping`);
    let code = 0;
    try {
      await cluster.stop();
    } catch (err) {
      console.log(`cluster: teardown: ${err instanceof Error ? err.message : String(err)}`);
      code = 1;
    }
    removeState();
    console.log("cluster: stopped");
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGHUP", () => void shutdown("SIGHUP"));
  if (process.argv.includes("--foreground")) {
    printUsage(state);
    console.log("Press Ctrl-C to stop.");
  }
}

async function up(argv: string[]): Promise<void> {
  const tier = tierOf(argv);
  const running = readState();
  if (running && alive(running.pid)) {
    console.log(
      `cluster: already running (supervisor pid ${running.pid}); stop it first to change tier`,
    );
    printUsage(running);
    return;
  }
  rmSync(statePath, { force: true });
  provision(tier, { log: (line) => console.log(`cluster: ${line}`) });
  await ensureBinaries(tierBinaries[tier]);
  if (argv.includes("--foreground")) return serve(tier);

  mkdirSync(stateDir, { recursive: true });
  const fd = openSync(supervisorLog, "w");
  const child = spawn(process.execPath, [import.meta.filename, "serve", "--tier", tier], {
    detached: true,
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  child.unref();
  console.log(
    `cluster: starting the ${tier} tier (supervisor pid ${child.pid}, log ${supervisorLog})`,
  );
  const exited = new Promise<number | null>((r) => child.once("exit", r));
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const deadline = Date.now() + 180_000;
  while (!readState()) {
    await new Promise((r) => setTimeout(r, 200));
    if (done || Date.now() > deadline) {
      if (!done) process.kill(-(child.pid as number), "SIGTERM");
      throw new Error(`the cluster did not start:\n${readFileSync(supervisorLog, "utf8")}`);
    }
  }
  const state = readState() as State;
  printUsage(state);
}

async function down(): Promise<void> {
  const state = readState();
  if (!state || !alive(state.pid)) {
    // A node tier whose supervisor died leaves machine state: undo it.
    const problems = await recoverNodeHost();
    console.log("cluster: no cluster is running");
    for (const p of problems) console.log(`cluster: left over: ${p}`);
    removeState();
    return;
  }
  process.kill(state.pid, "SIGTERM");
  const deadline = Date.now() + 30_000;
  while (alive(state.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(state.pid)) {
    process.kill(state.pid, "SIGKILL"); // its watchdog then kills the components
    console.log("cluster: supervisor did not stop in 30 s; killed it");
  }
  for (const [name, pid] of Object.entries(state.pids)) {
    if (alive(pid)) console.log(`cluster: warning: ${name} (pid ${pid}) is still running`);
  }
  // What the supervisor's teardown could not undo (the node tier's machine state).
  for (const line of readFileSync(supervisorLog, "utf8").split("\n")) {
    if (line.startsWith("cluster: teardown:")) {
      console.log(line);
      process.exitCode = 1;
    }
  }
  removeState();
  console.log("cluster: stopped");
}

/** Removes what the supervisor wrote to `.cluster/` (its log stays). */
function removeState(): void {
  rmSync(statePath, { force: true });
  rmSync(stableKubeconfig, { force: true });
  rmSync(binDir, { recursive: true, force: true });
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "up":
      return up(rest);
    case "serve":
      return serve(tierOf(rest));
    case "down":
      return down();
    case "status": {
      const state = readState();
      if (state && alive(state.pid)) printUsage(state);
      else console.log("cluster: no cluster is running");
      return;
    }
    default:
      console.error(
        "usage: node tools/cluster/cli.ts up [--tier integration|e2e|node] [--foreground] | down | status",
      );
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`cluster: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
