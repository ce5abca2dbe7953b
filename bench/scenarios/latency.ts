// Create → Deployment latency over sequential creates on an idle cluster, and the requests per new app and per spec change.
import { join } from "node:path";
import type { KubeObject } from "../../src/runtime/index.ts";
import { requestJson } from "../../src/runtime/index.ts";
import { freshCluster, LOG_DIR } from "../lib/env.ts";
import {
  APPS_PATH,
  appName,
  createApp,
  currentVersion,
  DEPLOYMENTS_PATH,
  sleep,
} from "../lib/kube.ts";
import { OperatorProcess } from "../lib/operator.ts";
import { byLabel, delta, type Sample, sumOf } from "../lib/prom.ts";
import { type Summary, summarize } from "../lib/stats.ts";
import { watchCollection } from "../lib/watch.ts";
import { writesIn } from "./convergence.ts";

export interface LatencyOptions {
  readonly creates: number;
  readonly specChanges: number;
  readonly workers: number;
  readonly verbose: boolean;
  readonly operatorCommand: readonly string[];
  readonly log: (line: string) => void;
}

export interface LatencyResult {
  readonly creates: number;
  /** Before the create request is sent → the Deployment's ADDED event arrives at a watch. */
  readonly createToDeploymentMs: Summary;
  /** The create request alone (API server round trip), for comparison. */
  readonly createRequestMs: Summary;
  /** Before the create → the app's status shows observedGeneration (Service applied too). */
  readonly createToStatusMs: Summary;
  /** Spec change (image) sent → the Deployment's MODIFIED event with the new image. */
  readonly specChangeToDeploymentMs: Summary;
  /** Requests by verb per new app (averaged over the creates, including the follow-up reconciles). */
  readonly requestsPerApp: Record<string, number>;
  readonly writesPerApp: number;
  readonly reconcilesPerApp: number;
  readonly requestsPerSpecChange: Record<string, number>;
  readonly writesPerSpecChange: number;
  /** Writes in a quiet period after everything settled (must be 0). */
  readonly idleWrites: number;
}

const WARMUP = 5;

type Waiter = { readonly test: (o: KubeObject) => boolean; readonly resolve: (at: number) => void };

/** Promises resolved by the first watch event (after the call) whose object passes a test. */
class Arrivals {
  readonly #waiters = new Map<string, Waiter[]>();
  wait(name: string, test: (o: KubeObject) => boolean): Promise<number> {
    return new Promise((resolve) => {
      this.#waiters.set(name, [...(this.#waiters.get(name) ?? []), { test, resolve }]);
    });
  }
  seen(object: KubeObject, at: number): void {
    const name = object.metadata?.name ?? "";
    const list = this.#waiters.get(name);
    if (list === undefined) return;
    const rest = list.filter((w) => {
      if (!w.test(object)) return true;
      w.resolve(at);
      return false;
    });
    if (rest.length === 0) this.#waiters.delete(name);
    else this.#waiters.set(name, rest);
  }
}

const image = (o: KubeObject) =>
  (o as { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }).spec?.template
    ?.spec?.containers?.[0]?.image;
const observedGeneration = (o: KubeObject) =>
  (o as { status?: { observedGeneration?: number } }).status?.observedGeneration;

function perApp(before: readonly Sample[], after: readonly Sample[], count: number) {
  const requests = delta(
    byLabel(before, "rest_client_requests_total", "verb"),
    byLabel(after, "rest_client_requests_total", "verb"),
  );
  const per = Object.fromEntries(
    Object.entries(requests).map(([verb, n]) => [verb, Math.round((n / count) * 100) / 100]),
  );
  const reconciles =
    sumOf(after, "controller_runtime_reconcile_total") -
    sumOf(before, "controller_runtime_reconcile_total");
  return { per, writes: writesIn(requests) / count, reconciles: reconciles / count };
}

export async function latency(options: LatencyOptions): Promise<LatencyResult> {
  const env = await freshCluster("bench-latency", options.verbose);
  const { transport, namespace } = env;
  const operator = await OperatorProcess.start({
    command: options.operatorCommand,
    kubeconfigPath: env.cluster.kubeconfigPath,
    namespaces: [namespace],
    workers: options.workers,
    logPath: join(LOG_DIR, "operator-latency.log"),
  });
  const deployments = new Arrivals();
  const apps = new Arrivals();
  const [rvApps, rvDeployments] = await Promise.all([
    currentVersion(transport, APPS_PATH(namespace)),
    currentVersion(transport, DEPLOYMENTS_PATH(namespace)),
  ]);
  const watches = [
    watchCollection(transport, DEPLOYMENTS_PATH(namespace), rvDeployments, (e) =>
      deployments.seen(e.object, e.at),
    ),
    watchCollection(transport, APPS_PATH(namespace), rvApps, (e) => apps.seen(e.object, e.at)),
  ];
  try {
    await operator.waitReady();
    await operator.waitIdle(0);
    const createOne = async (i: number) => {
      const name = appName(i);
      const deployment = deployments.wait(`${name}-web`, () => true);
      const status = apps.wait(name, (o) => observedGeneration(o) === o.metadata?.generation);
      const started = performance.now();
      await createApp(transport, namespace, name);
      const created = performance.now();
      return {
        request: created - started,
        deployment: (await deployment) - started,
        status: (await status) - started,
      };
    };
    // The API server's first object of a new CRD and first applies take seconds (storage and
    // schema set up once): a few apps first, not counted.
    for (let i = 0; i < WARMUP; i++) await createOne(i);
    await operator.waitIdle(0);
    await sleep(1000);
    const before = (await operator.waitIdle(0)).samples;
    const samples = [];
    for (let i = WARMUP; i < WARMUP + options.creates; i++) {
      samples.push(await createOne(i));
      if ((i - WARMUP + 1) % 50 === 0)
        options.log(`  latency: ${i - WARMUP + 1}/${options.creates} creates`);
    }
    await operator.waitIdle(0);
    await sleep(1000);
    const afterCreates = (await operator.waitIdle(0)).samples;

    const changes: number[] = [];
    for (let i = WARMUP; i < WARMUP + options.specChanges; i++) {
      const name = appName(i);
      const next = "registry.example.com/bench:2.0.0";
      const deployment = deployments.wait(`${name}-web`, (o) => image(o) === next);
      const status = apps.wait(name, (o) => observedGeneration(o) === 2);
      const started = performance.now();
      await requestJson(transport, {
        method: "PATCH",
        verb: "patch",
        path: `${APPS_PATH(namespace)}/${name}`,
        contentType: "application/merge-patch+json",
        body: JSON.stringify({ spec: { image: next } }),
      });
      changes.push((await deployment) - started);
      await status;
    }
    await operator.waitIdle(0);
    await sleep(1000);
    const afterChanges = (await operator.waitIdle(0)).samples;
    await sleep(3000);
    const quiet = (await operator.waitIdle(0)).samples;

    const create = perApp(before, afterCreates, options.creates);
    const change = perApp(afterCreates, afterChanges, options.specChanges);
    return {
      creates: options.creates,
      createToDeploymentMs: summarize(samples.map((s) => s.deployment)),
      createRequestMs: summarize(samples.map((s) => s.request)),
      createToStatusMs: summarize(samples.map((s) => s.status)),
      specChangeToDeploymentMs: summarize(changes),
      requestsPerApp: create.per,
      writesPerApp: create.writes,
      reconcilesPerApp: create.reconciles,
      requestsPerSpecChange: change.per,
      writesPerSpecChange: change.writes,
      idleWrites: writesIn(
        delta(
          byLabel(afterChanges, "rest_client_requests_total", "verb"),
          byLabel(quiet, "rest_client_requests_total", "verb"),
        ),
      ),
    };
  } finally {
    await Promise.all(watches.map((w) => w.stop()));
    await operator.stop();
    await env.stop();
  }
}
