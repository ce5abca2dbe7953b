// A local Kubernetes control plane made of real processes: start, stop, and fault injection.

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { ensureImages, type ImageName, importIntoContainerd } from "../images/images.ts";
import { systemCommand } from "../provision/provision.ts";
import { formatDuration, locateBinary, requireBinaries } from "./binaries.ts";
import {
  createCertificateAuthority,
  createServiceAccountKeys,
  issueCertificate,
  type KeyPair,
} from "./certs.ts";
import { apiserverHost, type ClusterLayout, componentCommand, serverUrl } from "./components.ts";
import { kwokStagesPath } from "./gomod.ts";
import { type ClientTls, type HttpResponse, httpCall, loadClientTls } from "./http.ts";
import { writeKubeconfig } from "./kubeconfig.ts";
import {
  acquireNodeHost,
  cleanupNodeHost,
  createBridge,
  type NodeHostState,
  releaseNodeHost,
} from "./node.ts";
import {
  cniConfig,
  containerdConfig,
  kubeletConfig,
  kubeProxyConfig,
  type NodeLayout,
} from "./node-config.ts";
import { ManagedProcess } from "./proc.ts";
import { type ComponentName, type Tier, tierBinaries, tierComponents } from "./tiers.ts";

/** Options of startCluster. */
export type StartClusterOptions = {
  tier: Tier;
  /** Parent of the cluster's own directory. @default os.tmpdir() */
  baseDir?: string;
  /** Fake nodes (e2e tier). @default 1 */
  nodes?: number;
  /** Keep the directory (logs, etcd data) after stop(). @default CLUSTER_KEEP_DIR === "1" */
  keepDir?: boolean;
  /** How long each component may take to become ready. @default 60000 */
  readyTimeoutMs?: number;
  /** Extra command-line flags per component (appended; a later flag wins). */
  extraArgs?: Partial<Record<ComponentName, string[]>>;
  /** Progress lines. @default console.error */
  log?: (line: string) => void;
  /** Node tier: images (tools/images) imported into the node's containerd at start. */
  images?: readonly ImageName[];
};

/** A component that exited without being asked to. */
export type UnexpectedExit = {
  component: ComponentName;
  code: number | null;
  signal: string | null;
  at: Date;
};

/** Names of the fake nodes kwok manages. */
/** Resources of each fake node. */
const NODE_RESOURCES = {
  cpu: "32",
  memory: "256Gi",
  pods: "110",
  "ephemeral-storage": "100Gi",
} as const;

export function nodeName(index: number): string {
  return `kwok-node-${index}`;
}

/** A free TCP port on 127.0.0.1 (the OS picks it; it is released before the component binds). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port")),
      );
    });
  });
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Last `lines` lines of a file ("" when it does not exist). */
export function tailFile(path: string, lines = 40): string {
  if (!existsSync(path)) return "";
  const text = readFileSync(path, "utf8");
  return text
    .split("\n")
    .slice(-lines - 1)
    .join("\n");
}

/** Handle on a running cluster. Create it with startCluster(). */
export class Cluster {
  readonly tier: Tier;
  /** The cluster's directory: pki/, kubeconfigs, etcd/ data, logs/<component>.log. */
  readonly dir: string;
  /** Admin (system:masters) kubeconfig. */
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  readonly serverUrl: string;
  /** CA certificate that signs the serving and client certificates. */
  readonly caCertPath: string;
  readonly #layout: ClusterLayout;
  readonly #processes = new Map<ComponentName, ManagedProcess>();
  readonly #adminTls: ClientTls;
  readonly #opts: StartClusterOptions;
  readonly #log: (line: string) => void;
  readonly #unexpectedExits: UnexpectedExit[] = [];
  #stopped = false;
  /** The node tier's hold on the machine (lock, saved sysctls), released by stop(). */
  #host: NodeHostState | undefined;

  constructor(layout: ClusterLayout, adminTls: ClientTls, opts: StartClusterOptions) {
    this.tier = layout.tier;
    this.dir = layout.dir;
    this.kubeconfigPath = layout.kubeconfigs.admin;
    this.serverUrl = serverUrl(layout);
    this.caCertPath = layout.pki.caCert;
    this.#layout = layout;
    this.#adminTls = adminTls;
    this.#opts = opts;
    this.#log = opts.log ?? ((line) => console.error(line));
    for (const name of tierComponents[layout.tier]) {
      const { command, args, env } = componentCommand(name, layout);
      const spec = {
        name,
        command,
        args: [...args, ...(opts.extraArgs?.[name] ?? [])],
        env,
        logPath: this.logPath(name),
      };
      this.#processes.set(
        name,
        new ManagedProcess(spec, (code, signal) => {
          this.#unexpectedExits.push({ component: name, code, signal, at: new Date() });
          this.#log(
            `cluster: ${name} exited unexpectedly (code ${code}, signal ${signal}); last log lines:\n${this.logTail(name, 20)}`,
          );
        }),
      );
    }
  }

  /** Components of this tier, in start order. */
  get components(): readonly ComponentName[] {
    return tierComponents[this.tier];
  }

  /** The real node's name (node tier): the machine's hostname. */
  get nodeName(): string | undefined {
    return this.#layout.node?.name;
  }

  /** The node's containerd socket (node tier), for `ctr --address`. */
  get containerdSocket(): string | undefined {
    return this.#layout.node?.containerdSocket;
  }

  /** Imports image archives (docker-archive, e.g. from tools/images) into the node's containerd. */
  importImages(archives: readonly string[]): void {
    const socket = this.containerdSocket;
    if (!socket) throw new Error(`the ${this.tier} tier has no containerd`);
    importIntoContainerd(socket, archives, this.#log);
  }

  /** Path of the kubectl binary built with the cluster. */
  get kubectlPath(): string | undefined {
    return this.#layout.binaries.kubectl;
  }

  /** Ports of every component (fixed for the cluster's life). */
  get ports(): ClusterLayout["ports"] {
    return { ...this.#layout.ports };
  }

  /** Pid (= process group id) of a component while it runs. */
  pid(name: ComponentName): number | undefined {
    return this.#process(name).pid;
  }

  /** Pids of all running components. */
  pids(): Partial<Record<ComponentName, number>> {
    const out: Partial<Record<ComponentName, number>> = {};
    for (const [name, p] of this.#processes) if (p.pid !== undefined) out[name] = p.pid;
    return out;
  }

  /** Components that died on their own since start. */
  get unexpectedExits(): readonly UnexpectedExit[] {
    return [...this.#unexpectedExits];
  }

  logPath(name: ComponentName): string {
    return join(this.dir, "logs", `${name}.log`);
  }

  logTail(name: ComponentName, lines = 40): string {
    return tailFile(this.logPath(name), lines);
  }

  /** The last lines of every component's log, for a failure report. */
  logTails(lines = 40): string {
    return this.components
      .map((name) => `----- ${name} (${this.logPath(name)}) -----\n${this.logTail(name, lines)}`)
      .join("\n");
  }

  /** A request to the API server as the admin user. */
  api(method: string, path: string, body?: unknown): Promise<HttpResponse> {
    return httpCall(`${this.serverUrl}${path}`, { method, body, tls: this.#adminTls });
  }

  /** Starts every component in order, each ready before the next. */
  async startAll(): Promise<void> {
    for (const name of this.components) await this.startComponent(name);
  }

  /** (Re)starts a stopped component on the same port and data directory; waits until ready. */
  async startComponent(name: ComponentName): Promise<void> {
    const started = Date.now();
    await this.#process(name).start();
    await this.#waitReady(name);
    this.#log(`cluster: ${name} ready in ${formatDuration(Date.now() - started)}`);
  }

  /** SIGTERM (SIGKILL after `graceMs`); resolves when it has exited. */
  async stopComponent(name: ComponentName, opts: { graceMs?: number } = {}): Promise<void> {
    await this.#process(name).stop(opts.graceMs);
  }

  /** SIGKILL: a crash. Resolves when it has exited. */
  async killComponent(name: ComponentName): Promise<void> {
    await this.#process(name).kill();
  }

  /** SIGSTOP: the component hangs (keeps its sockets, answers nothing). */
  pauseComponent(name: ComponentName): void {
    this.#process(name).pause();
  }

  /** SIGCONT after pauseComponent(). */
  resumeComponent(name: ComponentName): void {
    this.#process(name).resume();
  }

  /**
   * Writes a kubeconfig for another user (client certificate signed by the cluster CA), for
   * RBAC tests: CN = user, O = groups.
   */
  async writeUserKubeconfig(user: string, groups: string[] = []): Promise<string> {
    const name = `user-${user.replace(/[^A-Za-z0-9_.-]/g, "_")}`;
    const pki = join(this.dir, "pki");
    const credentials = await issueCertificate(
      { certPath: this.#layout.pki.caCert, keyPath: this.#layout.pki.caKey },
      pki,
      { name, commonName: user, organizations: groups, usage: "client" },
    );
    return writeKubeconfig({
      path: join(this.dir, `${name}.kubeconfig`),
      server: this.serverUrl,
      caCertPath: this.caCertPath,
      user,
      credentials,
    });
  }

  /** Stops every component (reverse order) and removes the directory unless kept. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const name of [...this.components].reverse()) await this.#process(name).stop(5000);
    let leftovers: string[] = [];
    if (this.#host) {
      // kube-proxy's own cleanup first, then whatever any component left on the machine.
      const proxy = this.#layout.binaries["kube-proxy"];
      if (proxy) spawnSync(proxy, ["--cleanup", `--config=${this.#layout.node?.kubeProxyConfig}`]);
      leftovers = await cleanupNodeHost(this.#host);
    }
    const keep = this.#opts.keepDir ?? process.env.CLUSTER_KEEP_DIR === "1";
    // Never delete below a mount that could not be removed (it could be a host directory).
    if (!keep && !leftovers.some((l) => l.startsWith("mounts") || l.startsWith("umount"))) {
      await rm(this.dir, { recursive: true, force: true });
    }
    if (this.#host) {
      releaseNodeHost();
      this.#host = undefined;
      if (leftovers.length > 0) {
        throw new Error(`the node tier's teardown left on the machine: ${leftovers.join("; ")}`);
      }
    }
  }

  /** Takes the node tier's machine-wide lock and prepares the host; before startAll(). */
  async acquireHost(): Promise<void> {
    if (this.tier !== "node") return;
    this.#host = await acquireNodeHost(this.dir, { log: this.#log });
    createBridge();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Creates the fake nodes kwok will manage (e2e). */
  async createNodes(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const name = nodeName(i);
      const res = await this.api("POST", "/api/v1/nodes", {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name,
          annotations: { "node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake" },
          labels: {
            type: "kwok",
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
          },
        },
        spec: {},
        // What kwokctl's node template offers, plus ephemeral-storage: without it, a pod that
        // requests disk (bounded emptyDir scratch) is never scheduled.
        status: { capacity: NODE_RESOURCES, allocatable: NODE_RESOURCES },
      });
      if (res.status !== 201 && res.status !== 409) {
        throw new Error(`creating node ${name}: HTTP ${res.status} ${res.body}`);
      }
    }
  }

  /**
   * The tier's API server authorizes with RBAC only (no Node authorizer): give the system:nodes
   * group the system:node role, as clusters without the Node authorizer do.
   */
  async #bindNodes(): Promise<void> {
    const res = await this.api("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "stateless-operator:nodes" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:node" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:nodes" }],
    });
    if (res.status !== 201 && res.status !== 409) {
      throw new Error(`binding system:node to system:nodes: HTTP ${res.status} ${res.body}`);
    }
  }

  #process(name: ComponentName): ManagedProcess {
    const p = this.#processes.get(name);
    if (!p) throw new Error(`${name} is not part of the ${this.tier} tier`);
    return p;
  }

  /** Polls `check` until it returns true; fails early when the component dies. */
  async #poll(name: ComponentName, what: string, check: () => Promise<boolean>): Promise<void> {
    const p = this.#process(name);
    const deadline = Date.now() + (this.#opts.readyTimeoutMs ?? 60_000);
    let lastError = "";
    for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
      if (!p.running) {
        throw new Error(
          `${name} exited while waiting for ${what}; last log lines:\n${this.logTail(name)}`,
        );
      }
      try {
        if (await check()) return;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${name}: timed out waiting for ${what} (${lastError}); last log lines:\n${this.logTail(name)}`,
        );
      }
      await sleep(delay);
    }
  }

  async #waitReady(name: ComponentName): Promise<void> {
    const l = this.#layout;
    const ok = (r: HttpResponse) => r.status === 200;
    switch (name) {
      case "etcd":
        return this.#poll(name, "/health", async () =>
          ok(await httpCall(`http://127.0.0.1:${l.ports.etcdClient}/health`)),
        );
      case "kube-apiserver":
        await this.#poll(name, "/readyz", async () => ok(await this.api("GET", "/readyz")));
        if (this.tier === "node") await this.#bindNodes();
        return;
      case "kube-controller-manager":
        await this.#poll(name, "/healthz", async () =>
          ok(await httpCall(`https://127.0.0.1:${l.ports.controllerManager}/healthz`)),
        );
        // Its ServiceAccount controller working is what pods need (ServiceAccount admission).
        return this.#poll(name, "the default ServiceAccount", async () =>
          ok(await this.api("GET", "/api/v1/namespaces/default/serviceaccounts/default")),
        );
      case "kube-scheduler":
        return this.#poll(name, "/healthz", async () =>
          ok(await httpCall(`https://127.0.0.1:${l.ports.scheduler}/healthz`)),
        );
      case "containerd": {
        const socket = this.containerdSocket ?? "";
        await this.#poll(name, "its socket", async () => {
          const r = spawnSync(systemCommand("ctr"), ["--address", socket, "version"], {
            encoding: "utf8",
          });
          return r.status === 0;
        });
        const archives = await ensureImages(["pause", ...(this.#opts.images ?? [])], {
          log: this.#log,
        });
        return this.importImages(Object.values(archives));
      }
      case "kubelet":
        return this.#poll(name, `Node ${this.nodeName} Ready`, async () => {
          const res = await this.api("GET", `/api/v1/nodes/${this.nodeName}`);
          if (!ok(res)) return false;
          const node = JSON.parse(res.body) as {
            status?: { conditions?: { type: string; status: string }[] };
          };
          return (
            node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false
          );
        });
      case "kube-proxy":
        return this.#poll(name, "/healthz", async () =>
          ok(await httpCall(`http://127.0.0.1:${l.node?.ports.kubeProxyHealthz}/healthz`)),
        );
      case "kwok":
        await this.#poll(name, "/healthz", async () =>
          ok(await httpCall(`http://127.0.0.1:${l.ports.kwok}/healthz`)),
        );
        await this.createNodes(this.#opts.nodes ?? 1);
        return this.#poll(name, "Ready nodes", async () => {
          const res = await this.api("GET", "/api/v1/nodes?labelSelector=type%3Dkwok");
          if (!ok(res)) return false;
          const nodes = (
            JSON.parse(res.body) as {
              items: { status?: { conditions?: { type: string; status: string }[] } }[];
            }
          ).items;
          return (
            nodes.length >= (this.#opts.nodes ?? 1) &&
            nodes.every((n) =>
              n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
            )
          );
        });
    }
  }
}

/** Creates the directory, ports, certificates and kubeconfigs of a new cluster. */
async function prepareLayout(opts: StartClusterOptions): Promise<ClusterLayout> {
  const binaries = requireBinaries(tierBinaries[opts.tier].filter((b) => b !== "kubectl"));
  // kubectl is for people and tests, not for the cluster: use it when it is there.
  const kubectl = locateBinary("kubectl");
  if (kubectl) binaries.kubectl = kubectl;
  const dir = await mkdtemp(join(opts.baseDir ?? tmpdir(), `stateless-operator-${opts.tier}-`));
  const pki = join(dir, "pki");
  await Promise.all(
    [
      "pki",
      "logs",
      "etcd",
      "kube-apiserver",
      "kube-controller-manager",
      "kube-scheduler",
      "kwok",
      ...(opts.tier === "node" ? ["containerd", "cni/net.d", "kubelet"] : []),
    ].map((d) => mkdir(join(dir, d), { recursive: true, mode: 0o700 })),
  );
  const [etcdClient, etcdPeer, apiserver, controllerManager, scheduler, kwok, ...nodePorts] =
    (await Promise.all(Array.from({ length: 10 }, freePort))) as number[];
  const ports = {
    etcdClient: etcdClient as number,
    etcdPeer: etcdPeer as number,
    apiserver: apiserver as number,
    controllerManager: controllerManager as number,
    scheduler: scheduler as number,
    kwok: kwok as number,
  };
  const ca = await createCertificateAuthority(pki);
  const client = (name: string, user: string, organizations = ["system:masters"]) =>
    issueCertificate(ca, pki, { name, commonName: user, organizations, usage: "client" });
  const host = apiserverHost(opts.tier);
  // The node's name is the machine's hostname: the kubelet registers it so.
  const nodeName = hostname().toLowerCase();
  const isNode = opts.tier === "node";
  const [serving, admin, kcm, sched, kwokUser, kubeletClient, nodeUser, proxyUser, sa] =
    await Promise.all([
      issueCertificate(ca, pki, {
        name: "apiserver",
        commonName: "kube-apiserver",
        hosts: [
          "127.0.0.1",
          "localhost",
          ...(host === "127.0.0.1" ? [] : [host]),
          "10.0.0.1",
          "kubernetes",
          "kubernetes.default",
          "kubernetes.default.svc",
          "kubernetes.default.svc.cluster.local",
        ],
        usage: "server",
      }),
      client("admin", "admin"),
      // Real identities (for audit and logs), in system:masters so no RBAC bootstrapping is needed.
      client("kube-controller-manager", "system:kube-controller-manager"),
      client("kube-scheduler", "system:kube-scheduler"),
      client("kwok", "system:kwok-controller"),
      isNode ? client("apiserver-kubelet-client", "kube-apiserver-kubelet-client") : undefined,
      // The node's identity, as the Node authorizer and NodeRestriction would know it.
      isNode ? client("kubelet", `system:node:${nodeName}`, ["system:nodes"]) : undefined,
      // Bound to system:node-proxier by the default RBAC policy.
      isNode ? client("kube-proxy", "system:kube-proxy", []) : undefined,
      createServiceAccountKeys(pki),
    ]);
  const server = `https://${host}:${ports.apiserver}`;
  const kubeconfig = (name: string, user: string, credentials: KeyPair) =>
    writeKubeconfig({
      path: join(dir, `${name}.kubeconfig`),
      server,
      caCertPath: ca.certPath,
      user,
      credentials,
    });
  const [adminKc, kcmKc, schedKc, kwokKc] = await Promise.all([
    kubeconfig("admin", "admin", admin),
    kubeconfig("kube-controller-manager", "system:kube-controller-manager", kcm),
    kubeconfig("kube-scheduler", "system:kube-scheduler", sched),
    kubeconfig("kwok", "system:kwok-controller", kwokUser),
  ]);
  let node: NodeLayout | undefined;
  if (nodeUser && proxyUser) {
    const [kubeletPort, kubeletHealthz, kubeProxyHealthz, kubeProxyMetrics] = nodePorts;
    node = {
      name: nodeName,
      dir,
      containerdConfig: join(dir, "containerd", "config.toml"),
      containerdSocket: join(dir, "containerd", "containerd.sock"),
      cniConfDir: join(dir, "cni", "net.d"),
      kubeletConfig: join(dir, "kubelet-config.yaml"),
      kubeletKubeconfig: await kubeconfig("kubelet", `system:node:${nodeName}`, nodeUser),
      kubeletRootDir: join(dir, "kubelet"),
      kubeProxyConfig: join(dir, "kube-proxy-config.yaml"),
      kubeProxyKubeconfig: await kubeconfig("kube-proxy", "system:kube-proxy", proxyUser),
      caCert: ca.certPath,
      ports: {
        kubelet: kubeletPort as number,
        kubeletHealthz: kubeletHealthz as number,
        kubeProxyHealthz: kubeProxyHealthz as number,
        kubeProxyMetrics: kubeProxyMetrics as number,
      },
    };
    await Promise.all([
      writeFile(node.containerdConfig, containerdConfig(node)),
      writeFile(join(node.cniConfDir, "10-stateless-operator.conflist"), cniConfig(node)),
      writeFile(node.kubeletConfig, kubeletConfig(node)),
      writeFile(node.kubeProxyConfig, kubeProxyConfig(node)),
    ]);
  }
  return {
    tier: opts.tier,
    dir,
    ports,
    pki: {
      caCert: ca.certPath,
      caKey: ca.keyPath,
      apiserverCert: serving.certPath,
      apiserverKey: serving.keyPath,
      apiserverKubeletClientCert: kubeletClient?.certPath,
      apiserverKubeletClientKey: kubeletClient?.keyPath,
      serviceAccountPublicKey: sa.publicKeyPath,
      serviceAccountPrivateKey: sa.privateKeyPath,
    },
    kubeconfigs: { admin: adminKc, controllerManager: kcmKc, scheduler: schedKc, kwok: kwokKc },
    binaries,
    kwokStagesPath,
    node,
  };
}

/**
 * Starts a cluster of the given tier and resolves once every component is ready (the API
 * server's /readyz is ok; in e2e also the default ServiceAccount exists and the fake nodes are
 * Ready). On failure everything started so far is stopped and the error carries the log tail.
 */
export async function startCluster(opts: StartClusterOptions): Promise<Cluster> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const started = Date.now();
  const layout = await prepareLayout(opts);
  const admin = loadClientTls(
    layout.pki.caCert,
    join(layout.dir, "pki", "admin.crt"),
    join(layout.dir, "pki", "admin.key"),
  );
  const cluster = new Cluster(layout, admin, opts);
  log(`cluster: starting ${opts.tier} tier in ${layout.dir}`);
  try {
    await cluster.acquireHost();
    await cluster.startAll();
  } catch (err) {
    await cluster.stop().catch(() => {});
    throw err;
  }
  log(`cluster: ${opts.tier} tier ready in ${formatDuration(Date.now() - started)}`);
  return cluster;
}
