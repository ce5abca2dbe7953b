// The machine-wide side of the node tier: a lock, the pod-network bridge, the sysctls the kubelet
// and CNI change, and a teardown that leaves nothing behind (processes, mounts, network
// namespaces, cgroups, iptables rules, the bridge), also after a run that was killed.
//
// A real kubelet, kube-proxy and CNI change global state: iptables, sysctls, a bridge, cgroups.
// Two node tiers at once would break each other, so one machine runs one at a time (the lock).
// The state a teardown needs is written next to the lock before anything changes, so the next
// start (or `npm run cluster:down`) cleans up after a run that died without tearing down.

import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { findCommand, systemCommand } from "../provision/provision.ts";

/** The pod network: a bridge of our own, its gateway (the host), and the pods' subnet. */
export const podNetwork = {
  bridge: "sopr0",
  gateway: "10.244.0.1",
  subnet: "10.244.0.0/16",
  prefix: 16,
} as const;

/** The sandbox ("pause") image containerd runs for every pod; built locally (tools/images). */
export const sandboxImage = "registry.k8s.io/pause:3.10";

/**
 * Sysctls the node tier changes: the kubelet's kernel tunables (kernel.panic 10,
 * kernel.panic_on_oops 1, vm.overcommit_memory 1, vm.panic_on_oom 0, the root key quotas), the
 * bridge plugin's ip_forward, and what kube-proxy may touch. Saved before start, restored after.
 */
export const savedSysctls = [
  "kernel/panic",
  "kernel/panic_on_oops",
  "kernel/keys/root_maxkeys",
  "kernel/keys/root_maxbytes",
  "vm/overcommit_memory",
  "vm/panic_on_oom",
  "net/ipv4/ip_forward",
  "net/ipv4/conf/all/forwarding",
  "net/ipv4/conf/all/route_localnet",
  "net/ipv6/conf/all/forwarding",
  "net/bridge/bridge-nf-call-iptables",
  "net/bridge/bridge-nf-call-ip6tables",
  "net/netfilter/nf_conntrack_max",
] as const;

/** Where the machine-wide lock and the teardown state live (root's runtime directory). */
export const lockDir = process.env.STATELESS_OPERATOR_NODE_LOCK_DIR ?? "/run/stateless-operator";
const lockPath = join(lockDir, "node.lock");
const statePath = join(lockDir, "node-state.json");

/** What a teardown needs to undo one node tier's changes to the machine. */
export type NodeHostState = {
  /** The runner that holds the lock. */
  pid: number;
  /** The cluster's directory: every mount, socket and data file of its runtime is below it. */
  clusterDir: string;
  /** sysctl values before start (absent keys did not exist). */
  sysctls: Record<string, string>;
  /** Network namespaces under /run/netns before start. */
  netnsBefore: string[];
  /** Which of these directories existed before start (the others are removed). */
  dirsBefore: Record<string, boolean>;
  /** Entries of /run/containerd/s (containerd 1.6's shim sockets, not configurable) before start. */
  shimSocketsBefore: string[];
};

/** Where containerd 1.6 puts its shims' sockets, whatever its configuration says. */
const shimSocketDir = "/run/containerd/s";

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).map((n) => join(dir, n));
  } catch {
    return [];
  }
}

const runtimeDirs = ["/run/netns", "/run/containerd", "/var/run/netns"];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs a system command; returns its output, or throws with its stderr. */
function sys(command: string, args: readonly string[], input?: string): string {
  const r = spawnSync(systemCommand(command), args, { encoding: "utf8", input });
  if (r.error || r.status !== 0) {
    throw new Error(`${command} ${args.join(" ")}: ${r.error?.message ?? r.stderr.trim()}`);
  }
  return r.stdout;
}

/** An Essential tool (mount's umount): looked up, not provisioned. */
function essential(command: string, args: readonly string[]): { ok: boolean; err: string } {
  const path = findCommand(command);
  if (!path) return { ok: false, err: `${command} not found` };
  const r = spawnSync(path, args, { encoding: "utf8" });
  return { ok: !r.error && r.status === 0, err: r.error?.message ?? r.stderr.trim() };
}

function readSysctl(key: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${key}`, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** The current values of savedSysctls (keys that do not exist are left out). */
export function readSysctls(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of savedSysctls) {
    const value = readSysctl(key);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function listNetns(): string[] {
  return ["/run/netns", "/var/run/netns"].flatMap(listDir);
}

/**
 * Takes the machine-wide lock of the node tier and records the state a teardown needs. A lock
 * whose holder is gone is taken over after cleaning up what that run left. A live holder is
 * waited for (up to `waitMs`), with a line saying who holds it.
 */
export async function acquireNodeHost(
  clusterDir: string,
  opts: { log: (line: string) => void; waitMs?: number },
): Promise<NodeHostState> {
  if (process.getuid?.() !== 0) {
    throw new Error(
      "the node tier runs a real kubelet, containerd and iptables: it needs root (run as root, or use the e2e tier)",
    );
  }
  mkdirSync(lockDir, { recursive: true, mode: 0o700 });
  const deadline = Date.now() + (opts.waitMs ?? 15 * 60_000);
  let told = false;
  for (;;) {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: "wx" });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
    if (!Number.isFinite(holder) || !alive(holder)) {
      opts.log(`cluster: the node tier of pid ${holder} did not tear down: cleaning up after it`);
      const problems = await recoverNodeHost();
      if (problems.length > 0) opts.log(`cluster: left over: ${problems.join("; ")}`);
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`the node tier is in use by pid ${holder} (lock ${lockPath})`);
    }
    if (!told) {
      opts.log(`cluster: waiting for the node tier of pid ${holder} to stop (one per machine)`);
      told = true;
    }
    await sleep(2000);
  }
  const state: NodeHostState = {
    pid: process.pid,
    clusterDir,
    sysctls: readSysctls(),
    netnsBefore: listNetns(),
    dirsBefore: Object.fromEntries(runtimeDirs.map((d) => [d, existsSync(d)])),
    shimSocketsBefore: listDir(shimSocketDir),
  };
  writeFileSync(statePath, JSON.stringify(state, null, 2));
  watchOverHost();
  return state;
}

/**
 * A detached watchdog that holds a pipe from this process: when the pipe closes (this process
 * ended, even by SIGKILL) it runs the recovery, which does nothing if stop() already tore down.
 */
function watchOverHost(): void {
  const log = join(lockDir, "recover.log");
  const watchdog = spawn(
    "sh",
    [
      "-c",
      'cat >/dev/null; exec "$0" "$1" recover >>"$2" 2>&1',
      process.execPath,
      import.meta.filename,
      log,
    ],
    { detached: true, stdio: ["pipe", "ignore", "ignore"] },
  );
  watchdog.unref();
  (watchdog.stdin as unknown as { unref(): void }).unref();
}

/** Creates the pod-network bridge with the gateway address the API server also listens on. */
export function createBridge(): void {
  const { bridge, gateway, prefix } = podNetwork;
  sys("ip", ["link", "add", bridge, "type", "bridge"]);
  sys("ip", ["addr", "add", `${gateway}/${prefix}`, "dev", bridge]);
  sys("ip", ["link", "set", bridge, "up"]);
}

/** Whether a network interface exists. */
function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** Directories of every cgroup named kubepods* (v1 hierarchies and the unified one), deepest first. */
function kubepodsCgroups(): string[] {
  const roots = readdirSync("/sys/fs/cgroup", { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => join("/sys/fs/cgroup", e.name));
  if (existsSync("/sys/fs/cgroup/cgroup.procs")) roots.push("/sys/fs/cgroup");
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return;
    }
    for (const name of entries) walk(join(dir, name));
    out.push(dir);
  };
  for (const root of roots) {
    let top: string[];
    try {
      top = readdirSync(root).filter((n) => n.startsWith("kubepods"));
    } catch {
      continue;
    }
    for (const name of top) walk(join(root, name));
  }
  return out;
}

function cgroupPids(dir: string): number[] {
  try {
    return readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Pids of containerd shims serving this cluster's containerd (their -address is below its dir). */
function shimPids(clusterDir: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (
        (cmdline[0] ?? "").includes("containerd-shim") &&
        cmdline.some((a) => a.startsWith(clusterDir))
      ) {
        out.push(Number(entry));
      }
    } catch {}
  }
  return out;
}

/** Mount points below `dir` (or equal to it), deepest first, from /proc/self/mountinfo. */
function mountsBelow(prefixes: readonly string[]): string[] {
  const points = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => (line.split(" ")[4] ?? "").replace(/\\040/g, " "))
    .filter((p) => prefixes.some((d) => p === d || p.startsWith(`${d}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** The KUBE-* / CNI-* lines of iptables-save, per binary and table. */
function ourIptables(): { binary: string; table: string; text: string; ours: string[] }[] {
  const out: { binary: string; table: string; text: string; ours: string[] }[] = [];
  for (const [save, binary] of [
    ["iptables-save", "iptables"],
    ["ip6tables-save", "ip6tables"],
  ] as const) {
    if (!findCommand(save)) continue;
    const text = sys(save, []);
    let table = "";
    const byTable = new Map<string, string[]>();
    for (const line of text.split("\n")) {
      if (line.startsWith("*")) table = line.slice(1);
      if (/^:(KUBE|CNI)-|(-A|-j|-g) (KUBE|CNI)-/.test(line)) {
        byTable.set(table, [...(byTable.get(table) ?? []), line]);
      }
    }
    for (const [t, ours] of byTable) {
      out.push({ binary, table: t, text: sys(save, ["-t", t]), ours });
    }
  }
  return out;
}

/** Restores each table that has KUBE-/CNI- chains to its content without them. */
function removeOurIptables(): void {
  for (const { binary, text } of ourIptables()) {
    const kept = text
      .split("\n")
      .filter((line) => !/^:(KUBE|CNI)-|(-A|-j|-g) (KUBE|CNI)-/.test(line))
      .join("\n");
    sys(`${binary}-restore`, ["-w"], kept.endsWith("\n") ? kept : `${kept}\n`);
  }
}

/**
 * Undoes what a node tier changed on the machine, whatever state it is in: kills every process in
 * the kubepods cgroups and this cluster's shims, unmounts what is mounted below the cluster's
 * directory and the new network namespaces, removes the kubepods cgroups, every KUBE-/CNI-
 * iptables chain and rule, the bridge, the runtime directories it created, and restores the
 * sysctls. Returns what could not be removed (empty when the machine is as it was).
 */
export async function cleanupNodeHost(state: NodeHostState): Promise<string[]> {
  const problems: string[] = [];
  const attempt = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  // 1. Processes: the containers (and pause sandboxes) are in kubepods cgroups; shims re-parent
  //    to init, outside every process group we started.
  for (let round = 0; round < 50; round++) {
    const pids = [
      ...new Set([...kubepodsCgroups().flatMap(cgroupPids), ...shimPids(state.clusterDir)]),
    ];
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    await sleep(100);
  }
  // 2. Mounts: the kubelet's root (bind-mounted onto itself), volumes, containerd's snapshots and
  //    shm, and the sandboxes' network namespaces.
  const newNetns = listNetns().filter((n) => !state.netnsBefore.includes(n));
  for (const point of mountsBelow([state.clusterDir, ...newNetns])) {
    const r = essential("umount", ["-l", point]);
    if (!r.ok && mountsBelow([point]).includes(point)) problems.push(`umount ${point}: ${r.err}`);
  }
  for (const ns of newNetns) attempt(`remove ${ns}`, () => rmSync(ns, { force: true }));
  // 3. cgroups, deepest first (empty now).
  for (const dir of kubepodsCgroups()) {
    attempt(`rmdir ${dir}`, () => rmdirSync(dir));
  }
  // 4. iptables: kube-proxy's and the kubelet's chains (KUBE-*), the CNI plugins' (CNI-*).
  attempt("iptables", removeOurIptables);
  // 5. The bridge (its veths went with the network namespaces).
  if (linkExists(podNetwork.bridge)) {
    attempt(`ip link del ${podNetwork.bridge}`, () =>
      sys("ip", ["link", "del", podNetwork.bridge]),
    );
  }
  // 6. The shims' sockets, and the runtime directories the run created (nothing is mounted
  //    there any more: step 2).
  for (const socket of listDir(shimSocketDir)) {
    if (!state.shimSocketsBefore.includes(socket))
      attempt(`remove ${socket}`, () => rmSync(socket));
  }
  for (const dir of runtimeDirs) {
    if (state.dirsBefore[dir] || !existsSync(dir)) continue;
    if (mountsBelow([dir]).length > 0) problems.push(`${dir}: still has mounts`);
    else attempt(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  }
  // 7. sysctls.
  for (const [key, value] of Object.entries(state.sysctls)) {
    if (readSysctl(key) === value) continue;
    attempt(`sysctl ${key}`, () => writeFileSync(`/proc/sys/${key}`, value));
  }
  return [...problems, ...nodeHostLeftovers(state)];
}

/** What of a node tier is still on the machine (empty when nothing). */
export function nodeHostLeftovers(state: NodeHostState): string[] {
  const out: string[] = [];
  const pods = kubepodsCgroups();
  if (pods.length > 0)
    out.push(`cgroups: ${pods.slice(0, 3).join(", ")}${pods.length > 3 ? ", …" : ""}`);
  const shims = shimPids(state.clusterDir);
  if (shims.length > 0) out.push(`containerd shims: pids ${shims.join(", ")}`);
  const newNetns = listNetns().filter((n) => !state.netnsBefore.includes(n));
  if (newNetns.length > 0) out.push(`network namespaces: ${newNetns.join(", ")}`);
  const mounts = mountsBelow([state.clusterDir]);
  if (mounts.length > 0) out.push(`mounts: ${mounts.join(", ")}`);
  try {
    for (const { binary, table, ours } of ourIptables()) {
      out.push(`${binary} ${table}: ${ours.length} KUBE-/CNI- lines (${ours[0]})`);
    }
  } catch (err) {
    out.push(`iptables-save: ${(err as Error).message}`);
  }
  if (linkExists(podNetwork.bridge)) out.push(`interface ${podNetwork.bridge}`);
  for (const dir of runtimeDirs) {
    if (!state.dirsBefore[dir] && existsSync(dir)) out.push(`directory ${dir}`);
  }
  const sockets = listDir(shimSocketDir).filter((s) => !state.shimSocketsBefore.includes(s));
  if (sockets.length > 0) out.push(`shim sockets: ${sockets.length} in ${shimSocketDir}`);
  for (const [key, value] of Object.entries(state.sysctls)) {
    const now = readSysctl(key);
    if (now !== value) out.push(`sysctl ${key.replaceAll("/", ".")} = ${now} (was ${value})`);
  }
  return out;
}

/** Releases the lock (after a teardown). */
export function releaseNodeHost(): void {
  rmSync(statePath, { force: true });
  rmSync(lockPath, { force: true });
}

/**
 * Cleans up after a node tier whose runner died without tearing down (its pid no longer runs):
 * the recorded state's cleanup, then the lock is released. Returns what could not be removed.
 * Does nothing when no state is recorded or its runner is alive.
 */
export async function recoverNodeHost(): Promise<string[]> {
  let state: NodeHostState | undefined;
  try {
    state = JSON.parse(readFileSync(statePath, "utf8")) as NodeHostState;
  } catch {
    state = undefined;
  }
  if (state && alive(state.pid) && state.pid !== process.pid) return [];
  const problems = state ? await cleanupNodeHost(state) : [];
  if (state && existsSync(state.clusterDir) && statSync(state.clusterDir).isDirectory()) {
    try {
      rmSync(state.clusterDir, { recursive: true, force: true });
    } catch (err) {
      problems.push(`remove ${state.clusterDir}: ${(err as Error).message}`);
    }
  }
  releaseNodeHost();
  return problems;
}

if (import.meta.main && process.argv[2] === "recover") {
  const problems = await recoverNodeHost();
  if (problems.length > 0) console.error(`node tier recovery left: ${problems.join("; ")}`);
}
