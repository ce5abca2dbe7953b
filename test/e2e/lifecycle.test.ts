// Scenario 1: a StatelessApp's whole life on the full control plane, and maxPodLifetime recycling.

import { afterAll, beforeAll, describe, test } from "vitest";
import { printClusterLogsOnFailure, providedCluster } from "../support/cluster.ts";
import {
  type App,
  childProblems,
  condition,
  livePods,
  MANAGED_BY,
  secretLeaks,
  statelessApp,
  webWorkerSpec,
} from "./support/apps.ts";
import { Kube, Recorder } from "./support/kube.ts";
import { type OperatorProcess, printOperatorLogsOnFailure } from "./support/operator-process.ts";
import { startScenario, stopScenario } from "./support/scenario.ts";
import { kubectl, until } from "./support/setup.ts";
import { reportNote, reportRecovery, stopwatch } from "./support/summary.ts";

printClusterLogsOnFailure();
printOperatorLogsOnFailure();

type Deployment = {
  metadata: { name: string; generation: number };
  spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    readyReplicas?: number;
  };
};
type Pod = {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string; containers: { image: string }[] };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
};

const kube = new Kube(providedCluster().kubeconfig);
let ns: string;
let operator: OperatorProcess;

beforeAll(async () => {
  ({ ns, operator } = await startScenario(kube, "lifecycle"));
});
afterAll(() => stopScenario(kube, { ns, operator }));

/** A Deployment finished rolling out its current spec (what `kubectl rollout status` checks). */
const rolledOut = (d: Deployment | undefined): boolean =>
  d !== undefined &&
  (d.status?.observedGeneration ?? 0) >= d.metadata.generation &&
  d.status?.updatedReplicas === d.spec.replicas &&
  d.status?.replicas === d.spec.replicas &&
  d.status?.availableReplicas === d.spec.replicas;

async function deploymentRolledOut(name: string): Promise<Deployment> {
  return until(`Deployment ${name} to roll out`, async () => {
    const d = await kube.get<Deployment>("Deployment", ns, name);
    return rolledOut(d) ? d : undefined;
  });
}

/** The app at its current generation, with `check` true. */
async function appWhere(name: string, check: (a: App) => boolean): Promise<App> {
  return until(`StatelessApp ${name}`, async () => {
    const a = await kube.get<App>("StatelessApp", ns, name);
    return a !== undefined && a.status?.observedGeneration === a.metadata.generation && check(a)
      ? a
      : undefined;
  });
}

const isReady = (a: App) => condition(a, "Ready")?.status === "True";

describe.concurrent("lifecycle", () => {
  test("1. lifecycle: create, wait Ready, new image, scale, remove a process type, delete", {
    timeout: 180_000,
  }, async ({ expect, annotate }) => {
    const app = (spec: Parameters<typeof webWorkerSpec>[0]) =>
      statelessApp(ns, "shop", webWorkerSpec(spec));
    const timer = stopwatch();
    await kube.apply(app({ web: 2, worker: 1 }));

    const wait = await kubectl(kube, [
      "wait",
      "--for=condition=Ready",
      "statelessapp/shop",
      `--namespace=${ns}`,
      "--timeout=120s",
    ]);
    expect(wait, wait.stderr).toMatchObject({ code: 0 });
    expect(wait.stdout).toContain("condition met");
    await reportRecovery(annotate, "Ready after create", timer.elapsed());

    const ready = await appWhere("shop", isReady);
    expect(ready.status?.summary).toBe("web 2/2, worker 1/1");
    expect(condition(ready, "BindingsReady")?.status).toBe("True");
    for (const [process, replicas] of [
      ["web", 2],
      ["worker", 1],
    ] as const) {
      await deploymentRolledOut(`shop-${process}`);
      const pods = (await livePods(kube, ns, "shop", process)) as unknown as Pod[];
      expect(pods).toHaveLength(replicas);
      for (const pod of pods) {
        expect(pod.status?.phase).toBe("Running");
        expect(pod.spec.nodeName).toMatch(/^kwok-node-/);
        expect(pod.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
      }
    }
    expect(await childProblems(kube, ns)).toEqual([]);
    expect(await kube.get("Service", ns, "shop-web")).toBeDefined();
    expect(await kube.get("PodDisruptionBudget", ns, "shop-web")).toBeDefined();
    expect(await kube.get("Secret", ns, "shop-binding-sessions")).toBeDefined();

    // A new image: the Deployments roll every pod onto it and the status follows the generation.
    await kube.apply(app({ image: "registry.example.com/shop:2.0.0", web: 2, worker: 1 }));
    const updated = await appWhere("shop", (a) => a.metadata.generation === 2 && isReady(a));
    expect(updated.status?.observedGeneration).toBe(2);
    expect(condition(updated, "Ready")?.observedGeneration).toBe(2);
    for (const process of ["web", "worker"]) {
      const d = await deploymentRolledOut(`shop-${process}`);
      expect(d.spec.template.spec.containers[0]?.image).toBe("registry.example.com/shop:2.0.0");
      const pods = await until(`shop-${process} pods on the new image`, async () => {
        const live = (await livePods(kube, ns, "shop", process)) as unknown as Pod[];
        return live.length === d.spec.replicas &&
          live.every((p) => p.spec.containers[0]?.image === "registry.example.com/shop:2.0.0")
          ? live
          : undefined;
      });
      expect(pods).toHaveLength(d.spec.replicas);
    }

    // Scale the worker: three processes, and now a disruption budget too.
    await kube.apply(app({ image: "registry.example.com/shop:2.0.0", web: 2, worker: 3 }));
    const scaled = await appWhere("shop", (a) => a.metadata.generation === 3 && isReady(a));
    expect(scaled.status?.summary).toBe("web 2/2, worker 3/3");
    expect((await deploymentRolledOut("shop-worker")).spec.replicas).toBe(3);
    expect(await livePods(kube, ns, "shop", "worker")).toHaveLength(3);
    expect(await kube.get("PodDisruptionBudget", ns, "shop-worker")).toBeDefined();
    expect(await childProblems(kube, ns)).toEqual([]);

    // Remove the web process type: its Deployment, Service and budget go, and with them its pods.
    const workerOnly = webWorkerSpec({ image: "registry.example.com/shop:2.0.0", worker: 3 });
    workerOnly.processes = workerOnly.processes.filter((p) => p.name === "worker");
    await kube.apply(statelessApp(ns, "shop", workerOnly));
    await appWhere("shop", (a) => a.metadata.generation === 4 && isReady(a));
    await until("shop-web's Deployment, Service, budget and pods to go", async () => {
      const [d, s, pdb, pods] = await Promise.all([
        kube.get("Deployment", ns, "shop-web"),
        kube.get("Service", ns, "shop-web"),
        kube.get("PodDisruptionBudget", ns, "shop-web"),
        kube.list("Pod", ns, "app.kubernetes.io/instance=shop,app.kubernetes.io/component=web"),
      ]);
      return d === undefined && s === undefined && pdb === undefined && pods.length === 0;
    });
    expect(await childProblems(kube, ns)).toEqual([]);

    // Delete the app: the garbage collector takes every child, and theirs.
    const descendants = async () => {
      const remaining: string[] = [];
      for (const kind of ["Deployment", "ReplicaSet", "Pod", "PodDisruptionBudget", "Secret"]) {
        for (const o of await kube.list(kind, ns, "app.kubernetes.io/instance=shop")) {
          remaining.push(`${kind}/${o.metadata?.name}`);
        }
      }
      return remaining;
    };
    const before = await descendants();
    for (const kind of ["Deployment/", "ReplicaSet/", "Pod/", "PodDisruptionBudget/", "Secret/"]) {
      expect(
        before.some((id) => id.startsWith(kind)),
        `${kind} before the delete`,
      ).toBe(true);
    }
    const deleted = stopwatch();
    await kube.delete("StatelessApp", ns, "shop");
    await until(
      "every child of shop to be garbage-collected",
      async () => (await descendants()).length === 0,
      { timeoutMs: 90_000 },
    );
    await reportRecovery(annotate, "children collected", deleted.elapsed());
    // Nothing the operator made is left in the namespace, and the user's Secret is untouched.
    const managed = await kube.list("Deployment", ns, MANAGED_BY);
    expect(managed.filter((d) => d.metadata?.name?.startsWith("shop-"))).toEqual([]);
    expect(await kube.get("Secret", ns, "shop-binding-sessions")).toBeUndefined();
    expect(await kube.get("Secret", ns, "redis")).toBeDefined();

    expect(operator.running).toBe(true);
    expect(await secretLeaks(kube, ns, [operator])).toEqual([]);
  });

  test("1b. maxPodLifetime: pods replaced one at a time, available never below replicas - 1", async ({
    expect,
    annotate,
  }) => {
    const replicas = 3;
    await kube.apply(
      statelessApp(ns, "recycled", {
        image: "registry.example.com/recycled:1.0.0",
        processes: [{ name: "web", replicas }],
        maxPodLifetime: "1m",
        backingServices: [{ name: "cache", type: "redis", secretRef: { name: "redis" } }],
      }),
    );
    await appWhere("recycled", isReady);
    const first = (await livePods(kube, ns, "recycled", "web")) as unknown as Pod[];
    expect(first).toHaveLength(replicas);
    expect(await kube.get("PodDisruptionBudget", ns, "recycled-web")).toMatchObject({
      spec: { maxUnavailable: 1 },
    });

    // Watch the Deployment and its pods from now on: every availability the cluster reports.
    const deployments = new Recorder<Deployment & { kind?: string }>(kube, "Deployment", ns);
    const pods = new Recorder<Pod & { kind?: string }>(kube, "Pod", ns, {
      labelSelector: "app.kubernetes.io/instance=recycled",
    });
    const originals = new Set(first.map((p) => p.metadata.uid));
    const started = stopwatch();
    try {
      await until(
        "every original pod to be recycled (deleted) and the Deployment fully available again",
        async () => {
          deployments.check();
          pods.check();
          const live = [...pods.latest().values()].filter(
            (p) => p.metadata.deletionTimestamp === undefined,
          );
          const d = deployments.latest().get("recycled-web");
          // The last original may still be terminating when its replacement is available.
          const gone = new Set(
            pods.events.filter((e) => e.type === "DELETED").map((e) => e.object.metadata.uid),
          );
          return (
            live.length === replicas &&
            live.every((p) => !originals.has(p.metadata.uid)) &&
            [...originals].every((uid) => gone.has(uid)) &&
            d?.status?.availableReplicas === replicas
          );
        },
        { timeoutMs: 150_000, intervalMs: 500 },
      );
    } finally {
      await Promise.all([deployments.stop(), pods.stop()]);
    }
    await reportRecovery(annotate, "all pods recycled", started.elapsed());

    const available = deployments.events
      .filter((e) => e.object.metadata.name === "recycled-web" && e.type !== "DELETED")
      .map((e) => e.object.status?.availableReplicas ?? 0);
    expect(available.length).toBeGreaterThan(0);
    expect(Math.min(...available)).toBeGreaterThanOrEqual(replicas - 1);

    // One at a time: whenever an original pod starts shutting down, no other original is.
    let shuttingDown = 0;
    let mostAtOnce = 0;
    const state = new Map<string, "live" | "terminating" | "gone">();
    for (const e of pods.events) {
      const uid = e.object.metadata.uid;
      if (!originals.has(uid)) continue;
      const next =
        e.type === "DELETED"
          ? "gone"
          : e.object.metadata.deletionTimestamp
            ? "terminating"
            : "live";
      const before = state.get(uid) ?? "live";
      if (before === "live" && next !== "live") shuttingDown++;
      if (before !== "gone" && next === "gone") shuttingDown--;
      if (before === "terminating" && next === "live") shuttingDown--;
      state.set(uid, next);
      mostAtOnce = Math.max(mostAtOnce, shuttingDown);
    }
    expect([...state.values()].filter((s) => s === "gone")).toHaveLength(replicas);
    expect(mostAtOnce).toBe(1);
    const recycledEvents = (
      await kube.list<{ reason?: string; regarding?: { name?: string } }>("EventsV1", ns)
    ).filter((e) => e.reason === "Recycled" && e.regarding?.name === "recycled");
    expect(recycledEvents.length).toBeGreaterThan(0);
    await reportNote(annotate, `min available ${Math.min(...available)}/${replicas}`);
    expect(condition(await appWhere("recycled", isReady), "Ready")?.status).toBe("True");
  });
});
