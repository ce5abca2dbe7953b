// Scenarios 3 and 4: kube-apiserver and etcd restarts, and a frozen API server, on a cluster of this file's own.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Cluster, startCluster } from "../../tools/cluster/index.ts";
import {
  type App,
  childProblems,
  redisSecret,
  secretLeaks,
  statelessApp,
  waitConverged,
  webWorkerSpec,
} from "./support/apps.ts";
import { Kube } from "./support/kube.ts";
import { sumOf } from "./support/metrics.ts";
import { startInProcessOperator } from "./support/operator-inprocess.ts";
import {
  type LogLine,
  OperatorProcess,
  printOperatorLogsOnFailure,
} from "./support/operator-process.ts";
import { createNamespace, installCrd, sleep, until } from "./support/setup.ts";
import { reportNote, reportRecovery, seconds, stopwatch } from "./support/summary.ts";

printOperatorLogsOnFailure();

/** How long each component stays down. */
const OUTAGE_MS = 15_000;

let cluster: Cluster;
let kube: Kube;

beforeAll(async () => {
  cluster = await startCluster({
    tier: "e2e",
    // Room for every scenario's pods: the apps of both outage scenarios stay (each User
    // creates apps for as long as the outage lasts, 40 or more pods each), and one fake node
    // holds 110 pods, as a kubelet does. With one node, scenario 4's pods were once left
    // Unschedulable ("Too many pods").
    nodes: 3,
    log: (line) => console.error(`[faults] ${line}`),
    // kwok marks pods Ready once, when they start: a node that turned NotReady while the API
    // server was frozen would leave its pods unready for good. Real kubelets report again.
    extraArgs: { "kube-controller-manager": ["--node-monitor-grace-period=300s"] },
  });
  // Short request timeouts: the user's requests during an outage fail fast and are retried.
  kube = new Kube(cluster.kubeconfigPath, { timeoutMs: 5_000 });
  await installCrd(kube);
}, 180_000);
afterAll(async () => {
  if (cluster === undefined) return;
  if (cluster.unexpectedExits.length > 0) {
    console.error(`components died during the run:\n${cluster.logTails(40)}`);
  }
  await cluster.stop();
});

/**
 * A user who keeps changing apps — creating new ones, or giving existing ones a new image —
 * retrying each change until the API server takes it (as a GitOps tool would).
 */
class User {
  readonly changes: { what: string; firstTriedAt: number; doneAt: number; retries: number }[] = [];
  readonly #ns: string;
  readonly #existing: string[];
  #running = true;
  readonly #done: Promise<void>;

  readonly #mode: "create" | "edit";

  constructor(ns: string, mode: "create" | "edit", existing: readonly string[]) {
    this.#ns = ns;
    this.#mode = mode;
    this.#existing = [...existing];
    this.#done = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }

  async #run(): Promise<void> {
    for (let n = 0; this.#running; n++) {
      const created = `new-${String(n).padStart(2, "0")}`;
      const edited = this.#existing[n % this.#existing.length] ?? "";
      const change =
        this.#mode === "create"
          ? {
              what: `create ${created}`,
              app: statelessApp(this.#ns, created, webWorkerSpec({ web: 1 })),
            }
          : {
              what: `image ${edited}`,
              app: statelessApp(
                this.#ns,
                edited,
                webWorkerSpec({ image: `registry.example.com/shop:${n}.0.0` }),
              ),
            };
      const firstTriedAt = Date.now();
      let retries = 0;
      for (;;) {
        try {
          await kube.apply(change.app);
          break;
        } catch {
          retries++;
          await sleep(500);
        }
      }
      if (this.#mode === "create") this.#existing.push(created);
      this.changes.push({ what: change.what, firstTriedAt, doneAt: Date.now(), retries });
      await sleep(300);
    }
  }
}

async function seed(ns: string, count: number): Promise<string[]> {
  await kube.apply(redisSecret(ns));
  const names = Array.from({ length: count }, (_, i) => `app-${i}`);
  for (const name of names) await kube.apply(statelessApp(ns, name, webWorkerSpec({ web: 1 })));
  await waitConverged(kube, ns, { names });
  return names;
}

/**
 * The delay each reflector chose for its first relist after a 410 Gone (what a restarted API
 * server answers a watch from before the restart).
 */
function firstGoneDelays(logs: readonly LogLine[]): Record<string, number> {
  const delays: Record<string, number> = {};
  for (const l of logs) {
    const expired = typeof l.msg === "string" && l.msg.includes("expired (410); relisting");
    if (expired && typeof l.reflector === "string" && !(l.reflector in delays)) {
      delays[l.reflector] = Number(l.delay);
    }
  }
  return delays;
}

/** Filled by the kube-apiserver restart scenario, checked by 3c. */
let firstRelistDelays: Record<string, number> | undefined;

describe.sequential("control-plane faults", () => {
  for (const component of ["kube-apiserver", "etcd"] as const) {
    test(`3. ${component} stopped for ${OUTAGE_MS / 1000} s while apps are created and edited; the running operator catches up`, {
      timeout: 240_000,
    }, async ({ annotate }) => {
      const ns = await createNamespace(kube, component === "etcd" ? "etcd" : "apiserver");
      const operator = await OperatorProcess.start({
        name: component,
        kubeconfig: cluster.kubeconfigPath,
        namespaces: [ns],
        // No periodic resync to hide a watch that never came back.
        env: { RESYNC_PERIOD: "1h" },
      });
      try {
        const names = await seed(ns, 5);
        const pid = operator.pid;
        const users = [new User(ns, "create", names), new User(ns, "edit", names)];
        await sleep(2_000);

        await cluster.stopComponent(component);
        await sleep(OUTAGE_MS);
        await cluster.startComponent(component);
        const back = stopwatch();
        // Changes after the outage too.
        await sleep(3_000);
        for (const user of users) await user.stop();
        const changes = users.flatMap((u) => u.changes);
        const delayed = changes.filter((c) => c.retries > 0).length;
        expect(delayed).toBeGreaterThan(0);

        // The operator's part: every app's latest generation reconciled. Ready also needs the
        // controller-manager, scheduler and kwok to recover from the same outage.
        await until(
          "the operator to observe every app's latest generation",
          async () => {
            const all = await kube.list<App>("StatelessApp", ns);
            return all.every((a) => a.status?.observedGeneration === a.metadata.generation);
          },
          { timeoutMs: 180_000, intervalMs: 250 },
        );
        await reportRecovery(annotate, "reconciled after restart", back.elapsed());
        const apps = await waitConverged(kube, ns, { timeoutMs: 180_000 });
        await reportRecovery(annotate, "Ready after restart", back.elapsed());
        expect(apps.length).toBe(
          names.length + changes.filter((c) => c.what.startsWith("create")).length,
        );
        expect(await childProblems(kube, ns)).toEqual([]);
        // The last image each edited app was given is what its Deployments run.
        for (const a of apps) {
          const d = await kube.get<{
            spec: { template: { spec: { containers: { image: string }[] } } };
          }>("Deployment", ns, `${a.metadata.name}-web`);
          expect(d?.spec.template.spec.containers[0]?.image, a.metadata.name).toBe(a.spec.image);
        }

        // The same process all along: its watches came back by themselves.
        expect(operator.pid).toBe(pid);
        expect(operator.running).toBe(true);
        const m = await operator.metrics();
        const restarts = sumOf(m, "stateless_operator_informer_watch_restarts_total");
        if (component === "kube-apiserver") {
          // Every watch broke; etcd's outage, by contrast, the API server's watch cache hides.
          expect(restarts).toBeGreaterThan(0);
          expect(
            sumOf(m, "rest_client_requests_total", {
              code: (c) => c === "<error>" || c.startsWith("5"),
            }),
          ).toBeGreaterThan(0);
          // A restarted API server has a fresh watch cache: old resourceVersions are gone (410).
          firstRelistDelays = firstGoneDelays(operator.logs());
          expect(Object.keys(firstRelistDelays).length).toBeGreaterThan(0);
        }
        await reportNote(
          annotate,
          `${changes.length} changes (${delayed} held up by the outage), ${restarts} watch restarts`,
        );
        expect(await secretLeaks(kube, ns, [operator])).toEqual([]);
      } finally {
        await operator.stop();
      }
    });
  }

  // A restarted API server answers every old watch with 410 Gone; the relist must not wait
  // out the backoff the outage grew (it did once: src/runtime/reflector.ts, fixed in e18ca0a).
  test("3c. after the kube-apiserver restart, each watch's first 410 relists at once", ({
    expect,
  }) => {
    const delays = firstRelistDelays ?? {};
    expect(Object.keys(delays).length).toBeGreaterThan(0);
    expect(delays).toEqual(Object.fromEntries(Object.keys(delays).map((r) => [r, 0])));
  });

  // Over HTTP/2 (the default) the connection's PING finds the frozen server first (30 s + 15 s);
  // over HTTP/1.1 (WATCH_HTTP2=false) each watch's inactivity timeout does.
  const stalls = [
    {
      over: "HTTP/2",
      watchHttp2: true,
      // Above the PING interval plus its timeout.
      frozenMs: 55_000,
      reason: "error",
      says: "did not answer an HTTP/2 PING within 15000 ms",
    },
    {
      over: "HTTP/1.1",
      watchHttp2: false,
      // Above the inactivity timeout below.
      frozenMs: 75_000,
      reason: "stalled",
      says: "watch silent past the inactivity timeout",
    },
  ] as const;
  for (const stall of stalls)
    test(`4. watch stall over ${stall.over}: kube-apiserver frozen (SIGSTOP); the operator notices (${stall.reason === "error" ? "an unanswered PING" : "the inactivity timeout"}), reconnects, catches up`, {
      timeout: 240_000,
    }, async ({ annotate }) => {
      // Above the API server's bookmark interval (about 60 s), so a healthy idle watch never
      // trips it.
      const inactivityTimeoutMs = 65_000;
      const ns = await createNamespace(kube, `stall-${stall.watchHttp2 ? "h2" : "h1"}`);
      const operator = await startInProcessOperator({
        name: `stall-${stall.watchHttp2 ? "h2" : "h1"}`,
        kubeconfig: cluster.kubeconfigPath,
        namespaces: [ns],
        reflector: { inactivityTimeoutMs },
        watchHttp2: stall.watchHttp2,
      });
      try {
        const names = await seed(ns, 3);
        const restarted = async () =>
          sumOf(await operator.metrics(), "stateless_operator_informer_watch_restarts_total", {
            reason: stall.reason,
          });
        expect(await restarted()).toBe(0);

        cluster.pauseComponent("kube-apiserver");
        const frozen = stopwatch();
        await sleep(stall.frozenMs);
        cluster.resumeComponent("kube-apiserver");
        const frozenMs = frozen.elapsed();
        const back = stopwatch();

        // Every watch noticed (one per watched resource, more with retries).
        const reflectors = operator.operator.controller.reflectors.length;
        const noticed = await restarted();
        expect(noticed).toBeGreaterThanOrEqual(reflectors);
        expect(operator.output()).toContain(stall.says);

        await kube.apply(
          statelessApp(
            ns,
            names[0] ?? "",
            webWorkerSpec({ web: 2, image: "registry.example.com/shop:9.0.0" }),
          ),
        );
        await kube.apply(statelessApp(ns, "after-stall", webWorkerSpec({ web: 1 })));
        const apps = await waitConverged(kube, ns, { names: [...names, "after-stall"] });
        await reportRecovery(annotate, "change reconciled after resume", back.elapsed());
        expect(apps.find((a: App) => a.metadata.name === names[0])?.metadata.generation).toBe(2);
        expect(await childProblems(kube, ns)).toEqual([]);
        await reportNote(
          annotate,
          `frozen ${seconds(frozenMs)}, ${noticed} watches restarted (${stall.reason})`,
        );
        expect(await secretLeaks(kube, ns, [operator])).toEqual([]);
      } finally {
        await operator.stop();
      }
    });
});
