// Scenario 2: SIGKILL the operator process while it reconciles 200 apps; a restart converges them all.

import { afterAll, beforeAll, expect, test } from "vitest";
import { printClusterLogsOnFailure, providedCluster } from "../support/cluster.ts";
import {
  type App,
  childProblems,
  livePods,
  redisSecret,
  secretLeaks,
  statelessApp,
  waitConverged,
} from "./support/apps.ts";
import { Kube } from "./support/kube.ts";
import {
  appliesWritten,
  idle,
  type Metrics,
  objectWrites,
  reconciles,
  sumOf,
  writes,
} from "./support/metrics.ts";
import { OperatorProcess, printOperatorLogsOnFailure } from "./support/operator-process.ts";
import { createNamespace, installCrd, mapLimit, until } from "./support/setup.ts";
import { reportNote, reportRecovery, stopwatch } from "./support/summary.ts";

printClusterLogsOnFailure();
printOperatorLogsOnFailure();

const APPS = 200;
const kube = new Kube(providedCluster().kubeconfig);
let ns: string;
const operators: OperatorProcess[] = [];

beforeAll(async () => {
  await installCrd(kube);
  ns = await createNamespace(kube, "crash");
  await kube.apply(redisSecret(ns));
});
afterAll(async () => {
  for (const op of operators) await op.stop();
  if (ns !== undefined) await kube.delete("Namespace", undefined, ns);
});

async function startOperator(name: string, env: Record<string, string> = {}) {
  const op = await OperatorProcess.start({
    name,
    kubeconfig: kube.kubeconfigPath,
    namespaces: [ns],
    env: { WORKERS: "4", ...env },
  });
  operators.push(op);
  return op;
}

const appName = (i: number) => `app-${String(i).padStart(3, "0")}`;

/**
 * Every tenth app runs a process and has a port (a Service); the others are scaled to zero, so
 * the shared cluster's node (110 pods, as a kubelet) keeps room for the other scenarios. All
 * bind the Redis Secret.
 */
const running = (i: number) => i % 10 === 0;
const app = (i: number, image = "registry.example.com/crash:1.0.0") =>
  statelessApp(ns, appName(i), {
    image,
    processes: [
      {
        name: "web",
        replicas: running(i) ? 1 : 0,
        ...(running(i) ? { ports: [{ name: "http", containerPort: 8080 }] } : {}),
      },
    ],
    backingServices: [{ name: "sessions", type: "redis", secretRef: { name: "redis" } }],
  });

/** Waits until the operator has reconciled everything it was told about and has nothing left to do. */
async function settle(op: OperatorProcess, atLeast: number): Promise<Metrics> {
  return until(
    `${op.name} to reconcile ${atLeast} times and go idle`,
    async () => {
      const m = await op.metrics();
      return reconciles(m) >= atLeast && idle(m) ? m : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
}

test("2. operator crash: SIGKILL mid-reconcile of 200 apps, restart, converge, zero-write resync", {
  timeout: 420_000,
}, async ({ annotate }) => {
  const first = await startOperator("first");
  const indexes = Array.from({ length: APPS }, (_, i) => i);
  // Create the apps while the operator works through them; kill it halfway.
  const creating = mapLimit(indexes, 8, (i) => kube.apply(app(i)));
  const atKill = await until(
    "the operator to be halfway through the apps",
    async () => {
      const m = await first.metrics();
      const done = sumOf(m, "stateless_operator_apply_total", {
        kind: "Deployment",
        outcome: "written",
      });
      return done >= APPS / 4 && sumOf(m, "controller_runtime_active_workers") > 0 ? m : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 50 },
  );
  await first.kill();
  expect(first.exit?.code ?? null).toBeNull();
  await creating;
  const deploymentsAtKill = sumOf(atKill, "stateless_operator_apply_total", {
    kind: "Deployment",
    outcome: "written",
  });
  expect(deploymentsAtKill).toBeLessThan(APPS);
  await reportNote(
    annotate,
    `killed after ${deploymentsAtKill}/${APPS} Deployments, ${sumOf(atKill, "controller_runtime_active_workers")} reconciles in flight`,
  );

  // While it is down: new images for twenty apps, five apps deleted.
  for (const i of indexes.slice(0, 20)) {
    await kube.apply(app(i, "registry.example.com/crash:2.0.0"));
  }
  // Among them one that runs a process: its pod must go too.
  const deleted = indexes.slice(APPS - 10, APPS - 5).map(appName);
  for (const name of deleted) await kube.delete("StatelessApp", ns, name);

  const recovery = stopwatch();
  const second = await startOperator("second", { RESYNC_PERIOD: "20s" });
  await waitConverged(kube, ns, { count: APPS - 5, timeoutMs: 240_000 });
  await reportRecovery(annotate, "all converged after restart", recovery.elapsed());

  // Exactly the children the apps want, owned by them; one pod per app; the deleted apps' gone.
  expect(await childProblems(kube, ns)).toEqual([]);
  const apps = await kube.list<App>("StatelessApp", ns);
  expect(apps.map((a) => a.metadata.name).filter((n) => deleted.includes(n))).toEqual([]);
  await until(
    "one live pod per running app, none left of the deleted apps",
    async () => {
      const pods = await kube.list<{
        metadata: { labels?: Record<string, string>; deletionTimestamp?: string };
      }>("Pod", ns);
      const perApp = new Map<string, number>();
      for (const p of pods) {
        if (p.metadata.deletionTimestamp !== undefined) continue;
        const instance = p.metadata.labels?.["app.kubernetes.io/instance"] ?? "";
        perApp.set(instance, (perApp.get(instance) ?? 0) + 1);
      }
      return (
        apps.every((a) => (perApp.get(a.metadata.name) ?? 0) === a.spec.processes[0]?.replicas) &&
        deleted.every((n) => !perApp.has(n))
      );
    },
    { timeoutMs: 120_000, intervalMs: 1_000 },
  );
  const edited = await livePods(kube, ns, appName(0), "web");
  expect(edited).toHaveLength(1);

  // A periodic full resync of the converged apps writes nothing.
  const before = await settle(second, APPS - 5);
  const after = await settle(second, reconciles(before) + (APPS - 5));
  // (Events aside: a series count the recorder still owes may land in this window.)
  expect(objectWrites(after) - objectWrites(before)).toBe(0);

  // Nor does a fresh process, which knows nothing of what it wrote before: only managedFields.
  expect(await second.stop()).toBe(0);
  const third = await startOperator("third");
  const fresh = await settle(third, APPS - 5);
  expect({ writes: writes(fresh), applies: appliesWritten(fresh) }).toEqual({
    writes: 0,
    applies: 0,
  });
  await reportNote(annotate, `resyncs of ${APPS - 5} converged apps wrote 0 times`);

  expect(await secretLeaks(kube, ns, operators)).toEqual([]);
});
