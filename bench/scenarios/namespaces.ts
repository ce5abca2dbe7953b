// Many watched namespaces (`--only=namespaces`): M namespaces × K apps, the operator with WATCH_NAMESPACES naming every one against the baseline; lists, watches, sockets and convergence.
import { readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { type Convergence, trackConvergence } from "../lib/convergence.ts";
import { freshCluster, LOG_DIR } from "../lib/env.ts";
import { appName, createApp, createNamespace, sleep } from "../lib/kube.ts";
import { OperatorProcess } from "../lib/operator.ts";
import { byLabel, sumOf } from "../lib/prom.ts";
import { spawnBaseline } from "./convergence.ts";

export interface NamespacesOptions {
  readonly namespaces: number;
  readonly appsPerNamespace: number;
  readonly workers: number;
  readonly verbose: boolean;
  readonly operatorCommand: readonly string[];
  readonly log: (line: string) => void;
  /** Measure the baseline side too. @default true */
  readonly baseline?: boolean;
  /** Node flags for the operator (`--node-args`, `--profile`). */
  readonly nodeArgs?: readonly string[];
}

export interface NamespacesSide {
  /** From the process's spawn to the last app converged. */
  readonly wallMs: number;
  /** Requests by verb until convergence (the operator's from /metrics, the baseline's own count). */
  readonly requests: Record<string, number>;
  /** Open sockets of the process at convergence (its /proc fds). */
  readonly sockets: number;
  /** The operator only: connections in use by pool at convergence, and requests that starved. */
  readonly pools?: Record<string, number>;
  readonly connectionWaitTimeouts?: number;
  /** The operator only: from its spawn to the first app with a current status. */
  readonly firstStatusMs?: number;
}

export interface NamespacesResult {
  readonly namespaces: number;
  readonly appsPerNamespace: number;
  readonly baseline?: NamespacesSide;
  readonly operator: NamespacesSide;
}

const socketsOf = (pid: number | undefined): number => {
  if (pid === undefined) return Number.NaN;
  try {
    const dir = `/proc/${pid}/fd`;
    return readdirSync(dir).filter((fd) => {
      try {
        return readlinkSync(join(dir, fd)).startsWith("socket:");
      } catch {
        return false;
      }
    }).length;
  } catch {
    return Number.NaN;
  }
};

const ms = (x: number) => `${(x / 1000).toFixed(2)} s`;

/** A fresh cluster with M namespaces of K apps each, and trackers started on every namespace. */
async function prepare(mode: string, options: NamespacesOptions) {
  const env = await freshCluster(`bench-ns-${mode}-0`, options.verbose);
  const namespaces = Array.from({ length: options.namespaces }, (_, i) => `bench-ns-${mode}-${i}`);
  for (const ns of namespaces.slice(1)) await createNamespace(env.transport, ns);
  const started = performance.now();
  const apps = Array.from({ length: options.appsPerNamespace }, (_, i) => appName(i));
  let next = 0;
  const jobs = namespaces.flatMap((ns) => apps.map((name) => ({ ns, name })));
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++];
        if (job !== undefined) await createApp(env.transport, job.ns, job.name);
      }
    }),
  );
  options.log(
    `  ${mode}: created ${jobs.length} apps in ${options.namespaces} namespaces in ${ms(performance.now() - started)} (not timed)`,
  );
  await sleep(2000);
  const trackers: Convergence[] = [];
  for (const ns of namespaces) trackers.push(await trackConvergence(env.transport, ns, apps));
  const done = Promise.all(trackers.map((t) => t.done)).then((ats) => Math.max(...ats));
  const statuses = () => trackers.reduce((n, t) => n + t.counts().statuses, 0);
  const stop = async () => {
    await Promise.all(trackers.map((t) => t.stop()));
    await env.stop();
  };
  return { env, namespaces, done, statuses, stop };
}

async function baselineSide(options: NamespacesOptions): Promise<NamespacesSide> {
  const { env, namespaces, done, stop } = await prepare("baseline", options);
  try {
    const started = performance.now();
    const child = spawnBaseline(env.cluster.kubeconfigPath, namespaces, options);
    let out = "";
    let sockets = 0;
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const sampler = setInterval(() => {
      sockets = Math.max(sockets, socketsOf(child.pid) || 0);
    }, 200);
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    const finished = await done;
    clearInterval(sampler);
    if ((await exited) !== 0) throw new Error("the baseline failed");
    const report = JSON.parse(out) as { requests: Record<string, number> };
    return { wallMs: finished - started, requests: report.requests, sockets };
  } finally {
    await stop();
  }
}

async function operatorSide(options: NamespacesOptions): Promise<NamespacesSide> {
  const { env, namespaces, done, statuses, stop } = await prepare("operator", options);
  const operator = await OperatorProcess.start({
    command: options.operatorCommand,
    kubeconfigPath: env.cluster.kubeconfigPath,
    namespaces,
    workers: options.workers,
    resyncPeriod: "10m",
    logPath: join(LOG_DIR, `operator-namespaces-${options.namespaces}.log`),
    ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
  });
  try {
    // A process that exits at start fails the run here instead of leaving it waiting.
    await operator.waitReady();
    let firstStatusMs: number | undefined;
    const first = setInterval(() => {
      if (firstStatusMs === undefined && statuses() > 0)
        firstStatusMs = performance.now() - operator.startedAt;
    }, 50);
    const progress = setInterval(() => options.log(`    … ${statuses()} statuses written`), 15_000);
    const finished = await done;
    clearInterval(first);
    clearInterval(progress);
    const sockets = socketsOf(operator.pid);
    const samples = await operator.metrics();
    const pools: Record<string, number> = {};
    for (const pool of ["watch", "request", "lease"])
      pools[pool] = sumOf(samples, "stateless_operator_api_connections", {
        pool,
        state: "in_use",
      });
    return {
      wallMs: finished - operator.startedAt,
      requests: byLabel(samples, "rest_client_requests_total", "verb"),
      sockets,
      pools,
      connectionWaitTimeouts: sumOf(
        samples,
        "stateless_operator_api_connection_wait_timeouts_total",
      ),
      ...(firstStatusMs === undefined ? {} : { firstStatusMs }),
    };
  } finally {
    await operator.stop();
    await stop();
  }
}

/** The baseline, then the operator, each on a fresh cluster of M namespaces × K apps. */
export async function namespacesRun(options: NamespacesOptions): Promise<NamespacesResult> {
  const what = `${options.namespaces} namespaces × ${options.appsPerNamespace} apps`;
  let baseline: NamespacesSide | undefined;
  if (options.baseline !== false) {
    options.log(`bench: many namespaces, ${what}: baseline …`);
    baseline = await baselineSide(options);
    options.log(
      `  baseline: converged in ${ms(baseline.wallMs)}, ${JSON.stringify(baseline.requests)}, sockets ${baseline.sockets}`,
    );
  }
  options.log(`bench: many namespaces, ${what}: operator …`);
  const operator = await operatorSide(options);
  options.log(
    `  operator: converged in ${ms(operator.wallMs)}, first status after ${ms(operator.firstStatusMs ?? Number.NaN)}, ${JSON.stringify(operator.requests)}, sockets ${operator.sockets}, pools ${JSON.stringify(operator.pools)}, connection wait timeouts ${operator.connectionWaitTimeouts}`,
  );
  return {
    namespaces: options.namespaces,
    appsPerNamespace: options.appsPerNamespace,
    ...(baseline === undefined ? {} : { baseline }),
    operator,
  };
}

/** The run as a Markdown table, for docs/performance.md. */
export function formatNamespaces(r: NamespacesResult): string {
  const v = (side: NamespacesSide, verb: string) => side.requests[verb] ?? 0;
  const rows: [string, (s: NamespacesSide) => string][] = [
    ["converged", (s) => ms(s.wallMs)],
    ["first status", (s) => (s.firstStatusMs === undefined ? "—" : ms(s.firstStatusMs))],
    ["lists", (s) => String(v(s, "list"))],
    ["watches", (s) => String(v(s, "watch"))],
    ["applies (children + status)", (s) => String(v(s, "apply") + v(s, "apply-status"))],
    ["open sockets", (s) => String(s.sockets)],
    [
      "connections in use: watch / request / lease",
      (s) =>
        s.pools === undefined ? "—" : `${s.pools.watch} / ${s.pools.request} / ${s.pools.lease}`,
    ],
    ["connection wait timeouts", (s) => String(s.connectionWaitTimeouts ?? "—")],
  ];
  return [
    `${r.namespaces} namespaces × ${r.appsPerNamespace} apps (${r.namespaces * r.appsPerNamespace}):`,
    "",
    "| | baseline | operator |",
    "| --- | --- | --- |",
    ...rows.map(
      ([name, f]) =>
        `| ${name} | ${r.baseline === undefined ? "not run" : f(r.baseline)} | ${f(r.operator)} |`,
    ),
  ].join("\n");
}
