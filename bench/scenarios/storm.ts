// An update storm (`--only=storm`): N converged apps, then K image changes patched at once; per change, patch → Deployment with the new image, and the writes per change.
import { join } from "node:path";
import { requestJson } from "../../src/runtime/index.ts";
import { trackConvergence } from "../lib/convergence.ts";
import { cpuMeter, cpuSecondsOf, otherLoad } from "../lib/cpu.ts";
import { freshCluster, LOG_DIR } from "../lib/env.ts";
import {
  APPS_PATH,
  appName,
  createApps,
  currentVersion,
  DEPLOYMENTS_PATH,
  sleep,
} from "../lib/kube.ts";
import { OperatorProcess } from "../lib/operator.ts";
import { byLabel, delta, sumOf } from "../lib/prom.ts";
import { forEachConcurrently } from "../lib/spread.ts";
import { type StormChange, type StormLatencies, stormLatencies } from "../lib/storm.ts";
import { watchCollection } from "../lib/watch.ts";
import { type Footprint, footprint, writesIn } from "./convergence.ts";

export interface StormOptions {
  /** Converged apps before the storm. */
  readonly apps: number;
  /** Image changes in the storm (the first `changes` apps; at most `apps`). */
  readonly changes: number;
  /** Patches in flight at once (the benchmark's own request pool holds 32 connections). */
  readonly concurrency: number;
  readonly workers: number;
  readonly verbose: boolean;
  readonly operatorCommand: readonly string[];
  /** One pod per app, as in the convergence runs. @default true */
  readonly pods?: boolean;
  readonly nodeArgs?: readonly string[];
  readonly log: (line: string) => void;
}

export interface StormResult {
  readonly apps: number;
  readonly changes: number;
  readonly concurrency: number;
  /** Operator spawn → every app converged, before the storm (context, not the measure). */
  readonly convergeMs: number;
  readonly latencies: StormLatencies;
  /** The last change written → the last changed app's status at its new generation. */
  readonly lastStatusAfterLastChangeMs: number;
  /** The operator's requests by verb from just before the storm until it is idle again. */
  readonly requests: Record<string, number>;
  readonly requestsPerChange: Record<string, number>;
  readonly writesPerChange: number;
  readonly reconcilesPerChange: number;
  /** The longest event-loop block of the operator from just before the storm until idle (s). */
  readonly maxEventLoopLagS: number;
  /** CPU that other processes on the machine used during the storm, in cores (0: idle machine). */
  readonly otherCores: number;
  /** The operator after the storm (peak: its high-water mark since it started). */
  readonly footprint: Footprint;
}

const NEW_IMAGE = "registry.example.com/bench:2.0.0";
const CREATE_CONCURRENCY = 16;
const STORM_TIMEOUT_MS = 600_000;

const imageOf = (o: unknown) =>
  (o as { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }).spec?.template
    ?.spec?.containers?.[0]?.image;
const generationsOf = (o: unknown) => {
  const x = o as { metadata?: { generation?: number }; status?: { observedGeneration?: number } };
  return { generation: x.metadata?.generation, observed: x.status?.observedGeneration };
};

/** Resolves one promise per name, the first time `seen` is called for it. */
function arrivals(names: readonly string[]) {
  const resolvers = new Map<string, (at: number) => void>();
  const all = names.map((name) => new Promise<number>((resolve) => resolvers.set(name, resolve)));
  return {
    all: Promise.all(all),
    seen(name: string, at: number) {
      const resolve = resolvers.get(name);
      if (resolve === undefined) return;
      resolvers.delete(name);
      resolve(at);
    },
    pending: () => resolvers.size,
  };
}

/** `done`, or an error naming what is still missing after STORM_TIMEOUT_MS. */
async function within<T>(done: Promise<T>, missing: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`storm: ${missing()} not seen in time`)),
      STORM_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([done, late]);
  } finally {
    clearTimeout(timer);
  }
}

const ms = (x: number) => `${(x / 1000).toFixed(2)} s`;

export async function storm(options: StormOptions): Promise<StormResult> {
  const changes = Math.min(options.changes, options.apps);
  const env = await freshCluster(`bench-storm-${options.apps}`, options.verbose);
  const { transport, namespace } = env;
  const names = Array.from({ length: options.apps }, (_, i) => appName(i));
  const pods = options.pods ?? true;
  const createMs = await createApps(
    transport,
    namespace,
    options.apps,
    CREATE_CONCURRENCY,
    undefined,
    {
      pods,
    },
  );
  options.log(
    `  storm: created ${options.apps} apps${pods ? " and a pod of each" : ""} in ${ms(createMs)} (not timed)`,
  );
  await sleep(2000);
  const tracker = await trackConvergence(transport, namespace, names);
  const operator = await OperatorProcess.start({
    command: options.operatorCommand,
    kubeconfigPath: env.cluster.kubeconfigPath,
    namespaces: [namespace],
    workers: options.workers,
    logPath: join(LOG_DIR, `operator-storm-${options.apps}.log`),
    ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
  });
  const watches: { stop(): Promise<void> }[] = [];
  try {
    const convergedAt = await tracker.done;
    const convergeMs = convergedAt - operator.startedAt;
    await tracker.stop();
    await operator.waitIdle(options.apps);
    await sleep(1000);
    const before = (await operator.waitIdle(options.apps)).samples;
    options.log(`  storm: ${options.apps} apps converged in ${ms(convergeMs)}; the storm …`);

    const changed = names.slice(0, changes);
    const deployments = arrivals(changed.map((n) => `${n}-web`));
    const statuses = arrivals(changed);
    const [rvDeployments, rvApps] = await Promise.all([
      currentVersion(transport, DEPLOYMENTS_PATH(namespace)),
      currentVersion(transport, APPS_PATH(namespace)),
    ]);
    watches.push(
      watchCollection(transport, DEPLOYMENTS_PATH(namespace), rvDeployments, (e) => {
        if (imageOf(e.object) === NEW_IMAGE) deployments.seen(e.object.metadata?.name ?? "", e.at);
      }),
      watchCollection(transport, APPS_PATH(namespace), rvApps, (e) => {
        const { generation, observed } = generationsOf(e.object);
        if (generation === 2 && observed === 2) statuses.seen(e.object.metadata?.name ?? "", e.at);
      }),
    );
    // The scrape above reset the operator's event-loop histogram: the maximum from here on.
    operator.takeMaxEventLoopLag();
    const server = cpuMeter({
      apiserver: env.cluster.pid("kube-apiserver"),
      etcd: env.cluster.pid("etcd"),
    });
    const operatorCpuBefore = cpuSecondsOf(operator.pid) ?? Number.NaN;
    const other = otherLoad();

    const sent: { sentAt: number; writtenAt: number }[] = [];
    await forEachConcurrently(changed, options.concurrency, async (name, i) => {
      const sentAt = performance.now();
      await requestJson(transport, {
        method: "PATCH",
        verb: "patch",
        path: `${APPS_PATH(namespace)}/${name}`,
        contentType: "application/merge-patch+json",
        body: JSON.stringify({ spec: { image: NEW_IMAGE } }),
      });
      sent[i] = { sentAt, writtenAt: performance.now() };
    });
    const lastWritten = Math.max(...sent.map((s) => s.writtenAt));
    const applied = await within(
      deployments.all,
      () => `${deployments.pending()} of ${changes} Deployments with the new image`,
    );
    const statusAt = await within(
      statuses.all,
      () => `${statuses.pending()} of ${changes} statuses at generation 2`,
    );
    const s = server.read();
    const operatorCpu = (cpuSecondsOf(operator.pid) ?? Number.NaN) - operatorCpuBefore;
    const load = other.read((s.apiserver ?? 0) + (s.etcd ?? 0) + operatorCpu);
    await operator.waitIdle(0);
    await sleep(1000);
    const after = (await operator.waitIdle(0)).samples;
    const maxEventLoopLagS = operator.takeMaxEventLoopLag();

    const records: StormChange[] = sent.map((s, i) => ({
      ...s,
      appliedAt: applied[i] ?? Number.NaN,
    }));
    const requests = delta(
      byLabel(before, "rest_client_requests_total", "verb"),
      byLabel(after, "rest_client_requests_total", "verb"),
    );
    const reconciles =
      sumOf(after, "controller_runtime_reconcile_total") -
      sumOf(before, "controller_runtime_reconcile_total");
    const result: StormResult = {
      apps: options.apps,
      changes,
      concurrency: options.concurrency,
      convergeMs,
      latencies: stormLatencies(records),
      lastStatusAfterLastChangeMs: Math.max(...statusAt) - lastWritten,
      requests,
      requestsPerChange: Object.fromEntries(
        Object.entries(requests).map(([verb, n]) => [verb, Math.round((n / changes) * 100) / 100]),
      ),
      writesPerChange: writesIn(requests) / changes,
      reconcilesPerChange: reconciles / changes,
      maxEventLoopLagS,
      otherCores:
        Math.round((load.otherCpuSeconds / Math.max(load.windowSeconds, 0.001)) * 100) / 100,
      footprint: footprint(after, operator.pid),
    };
    const l = result.latencies;
    options.log(
      `  storm: ${changes} changes written in ${ms(l.writeWindowMs)}; after the last: p50 ${l.afterLastChangeMs.p50.toFixed(0)} ms, p99 ${l.afterLastChangeMs.p99.toFixed(0)} ms, max ${l.afterLastChangeMs.max.toFixed(0)} ms; ${result.writesPerChange.toFixed(2)} writes per change; event loop blocked up to ${maxEventLoopLagS.toFixed(2)} s; other processes ${result.otherCores} cores`,
    );
    return result;
  } finally {
    await Promise.all(watches.map((w) => w.stop()));
    await tracker.stop();
    await operator.stop();
    await env.stop();
  }
}
