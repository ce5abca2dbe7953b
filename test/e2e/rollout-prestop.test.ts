// Scenario 13: a rolling update of process types with a preStop hook (issue #16), on kwok nodes.
//
// What kwok can show, and what it cannot. kwok runs no containers: the pod-ready stage marks a
// pod Running and Ready at once, and the pod-delete stage (tools/cluster/kwok-stages.yaml)
// deletes a pod with grace period 0 as soon as it has a deletionTimestamp. So no preStop hook
// runs here, no SIGTERM is sent and no pod waits out its grace period: how long a terminating
// pod lives, and when its process is signalled, is the node tier's to show
// (test/node/rollout-prestop.test.ts). What the control plane does is real: the operator's
// Deployment template (hook and grace period), the pods the ReplicaSet controller creates from
// it, the graceful delete of every old pod (the API server sets deletionGracePeriodSeconds from
// the pod's terminationGracePeriodSeconds and deletionTimestamp = now + that grace, before kwok
// removes it), the surge order (maxSurge 1, maxUnavailable 0) and the app's status.

import type { V1Lifecycle } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, type ExpectStatic, test } from "vitest";
import { parseStatelessApp } from "../../src/api/index.ts";
import { renderDeployment } from "../../src/app/render/index.ts";
import { printClusterLogsOnFailure, providedCluster } from "../support/cluster.ts";
import { type App, type AppSpec, condition, statelessApp } from "./support/apps.ts";
import { Kube, Recorder } from "./support/kube.ts";
import { type OperatorProcess, printOperatorLogsOnFailure } from "./support/operator-process.ts";
import { startScenario, stopScenario } from "./support/scenario.ts";
import { until } from "./support/setup.ts";
import { reportNote, reportRecovery, stopwatch } from "./support/summary.ts";

printClusterLogsOnFailure();
printOperatorLogsOnFailure();

type PodTemplateSpec = {
  terminationGracePeriodSeconds?: number;
  containers: { image: string; lifecycle?: V1Lifecycle }[];
};
type Deployment = {
  metadata: { name: string; generation: number };
  spec: { replicas: number; template: { spec: PodTemplateSpec } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
  };
};
type ReplicaSet = {
  metadata: { name: string };
  spec: { replicas?: number; template: { spec: PodTemplateSpec } };
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number };
};
type Pod = {
  metadata: {
    name: string;
    uid: string;
    resourceVersion?: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string }[];
    labels?: Record<string, string>;
  };
  spec: PodTemplateSpec & { nodeName?: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
};

const OLD_IMAGE = "registry.example.com/drain:1.0.0";
const NEW_IMAGE = "registry.example.com/drain:2.0.0";

const kube = new Kube(providedCluster().kubeconfig);
let ns: string;
let operator: OperatorProcess;

beforeAll(async () => {
  ({ ns, operator } = await startScenario(kube, "rollout-prestop", { redis: false }));
});
afterAll(() => stopScenario(kube, { ns, operator }));

const podReady = (p: Pod) =>
  p.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";

/** What the operator renders for this spec: the same code path, from the parsed object. */
function rendered(name: string, spec: AppSpec, process: string): PodTemplateSpec {
  const parsed = parseStatelessApp({
    apiVersion: "twelvefactor.dev/v1alpha1",
    kind: "StatelessApp",
    metadata: { name, namespace: ns },
    spec,
  });
  if (!parsed.ok) throw new Error(`render refuses the test's app: ${JSON.stringify(parsed.error)}`);
  const proc = parsed.value.spec.processes.find((p) => p.name === process);
  if (proc === undefined) throw new Error(`no process ${process}`);
  const template = renderDeployment(parsed.value, proc).spec?.template.spec;
  if (template === undefined) throw new Error("no pod template");
  return template as PodTemplateSpec;
}

/** The app at its current generation, Ready, with every process type's pods updated. */
async function readyAt(name: string, generation: number): Promise<App> {
  return until(
    `StatelessApp ${name} Ready at generation ${generation}`,
    async () => {
      const a = await kube.get<App>("StatelessApp", ns, name);
      return a?.metadata.generation === generation &&
        a.status?.observedGeneration === generation &&
        condition(a, "Ready")?.status === "True"
        ? a
        : undefined;
    },
    { timeoutMs: 90_000 },
  );
}

type Expected = {
  process: string;
  replicas: number;
  /** The hook on the container, written out (not derived from the render). */
  lifecycle: V1Lifecycle | undefined;
  /** The template's grace period as stored (the API server defaults a missing one to 30). */
  grace: number;
};

/**
 * Applies the app at OLD_IMAGE, waits for Ready, then changes the image while watching its pods,
 * and checks the rollout of every process type against `expected`.
 */
async function rollOut(
  name: string,
  spec: (image: string) => AppSpec,
  expected: readonly Expected[],
  expect: ExpectStatic,
): Promise<{ rollout: number; terminating: number[] }> {
  await kube.apply(statelessApp(ns, name, spec(OLD_IMAGE)));
  await readyAt(name, 1);
  const instance = `app.kubernetes.io/instance=${name}`;
  const originals = new Map<string, string>(); // uid → process
  for (const e of expected) {
    const d = await until(`${name}-${e.process} rolled out`, async () => {
      const d = await kube.get<Deployment>("Deployment", ns, `${name}-${e.process}`);
      return d?.status?.availableReplicas === e.replicas &&
        d.status.updatedReplicas === e.replicas &&
        d.status.replicas === e.replicas
        ? d
        : undefined;
    });
    expect(d.spec.template.spec.containers[0]?.lifecycle, `${e.process} at 1.0.0`).toEqual(
      e.lifecycle,
    );
    const pods = (
      await kube.list<Pod>("Pod", ns, `${instance},app.kubernetes.io/component=${e.process}`)
    ).filter((p) => p.metadata.deletionTimestamp === undefined);
    expect(pods).toHaveLength(e.replicas);
    for (const p of pods) originals.set(p.metadata.uid, e.process);
  }

  const pods = new Recorder<Pod>(kube, "Pod", ns, { labelSelector: instance });
  const timer = stopwatch();
  let rollout = 0;
  let changedAt = 0;
  try {
    // The recorders list first: wait until they hold every original pod before the change.
    await until("the pod watch to list the original pods", async () => {
      pods.check();
      const seen = new Set(pods.events.map((e) => e.object.metadata.uid));
      return [...originals.keys()].every((uid) => seen.has(uid));
    });
    changedAt = pods.events.length;
    await kube.apply(statelessApp(ns, name, spec(NEW_IMAGE)));
    await until(
      `every original pod of ${name} deleted and every Deployment rolled out on ${NEW_IMAGE}`,
      async () => {
        pods.check();
        const gone = new Set(
          pods.events.filter((e) => e.type === "DELETED").map((e) => e.object.metadata.uid),
        );
        if (![...originals.keys()].every((uid) => gone.has(uid))) return false;
        for (const e of expected) {
          const d = await kube.get<Deployment>("Deployment", ns, `${name}-${e.process}`);
          if (
            d?.spec.template.spec.containers[0]?.image !== NEW_IMAGE ||
            (d.status?.observedGeneration ?? 0) < d.metadata.generation ||
            d.status?.updatedReplicas !== e.replicas ||
            d.status.availableReplicas !== e.replicas ||
            d.status.replicas !== e.replicas
          ) {
            return false;
          }
        }
        return true;
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    );
    rollout = timer.elapsed();
  } finally {
    await pods.stop();
  }

  const app = await readyAt(name, 2);
  expect(condition(app, "Ready")?.observedGeneration).toBe(2);
  // The status carries no image of its own (only status.release does, with spec.release): the
  // generation that changed the image is observed, and every process counts its updated pods.
  expect(app.status?.processes).toEqual(
    expect.arrayContaining(
      expected.map((e) =>
        expect.objectContaining({
          name: e.process,
          replicas: e.replicas,
          readyReplicas: e.replicas,
          updatedReplicas: e.replicas,
        }),
      ),
    ),
  );

  const terminating: number[] = [];
  for (const e of expected) {
    const deploymentName = `${name}-${e.process}`;
    const d = await kube.get<Deployment>("Deployment", ns, deploymentName);
    const template = d?.spec.template.spec;
    const want = rendered(name, spec(NEW_IMAGE), e.process);
    // The new template carries the hook and the grace period: as written here, and as rendered.
    expect(template?.containers[0]?.image).toBe(NEW_IMAGE);
    expect(template?.containers[0]?.lifecycle, `${e.process}'s hook`).toEqual(e.lifecycle);
    expect(template?.containers[0]?.lifecycle).toEqual(want.containers[0]?.lifecycle);
    expect(template?.terminationGracePeriodSeconds, `${e.process}'s grace`).toBe(e.grace);
    expect(template?.terminationGracePeriodSeconds).toBe(want.terminationGracePeriodSeconds ?? 30);

    // ReplicaSets: the new one holds every pod, ready; the old one is scaled to 0.
    const own = await kube.list<ReplicaSet>(
      "ReplicaSet",
      ns,
      `${instance},app.kubernetes.io/component=${e.process}`,
    );
    const fresh = own.filter((r) => r.spec.template.spec.containers[0]?.image === NEW_IMAGE);
    const old = own.filter((r) => r.spec.template.spec.containers[0]?.image === OLD_IMAGE);
    expect(fresh, `${e.process}'s new ReplicaSet`).toHaveLength(1);
    expect(old, `${e.process}'s old ReplicaSet`).toHaveLength(1);
    expect(fresh[0]?.status).toMatchObject({ replicas: e.replicas, readyReplicas: e.replicas });
    expect(old[0]?.spec.replicas).toBe(0);
    expect(old[0]?.status?.replicas ?? 0).toBe(0);
    expect(fresh[0]?.spec.template.spec.containers[0]?.lifecycle).toEqual(e.lifecycle);

    // The new pods: from the new ReplicaSet, ready, with the hook and the grace period.
    const live = (
      await kube.list<Pod>("Pod", ns, `${instance},app.kubernetes.io/component=${e.process}`)
    ).filter((p) => p.metadata.deletionTimestamp === undefined);
    expect(live).toHaveLength(e.replicas);
    for (const p of live) {
      expect(p.metadata.ownerReferences?.[0]).toMatchObject({
        kind: "ReplicaSet",
        name: fresh[0]?.metadata.name,
      });
      expect(podReady(p), `${p.metadata.name} ready`).toBe(true);
      expect(p.spec.containers[0]?.image).toBe(NEW_IMAGE);
      expect(p.spec.containers[0]?.lifecycle).toEqual(e.lifecycle);
      expect(p.spec.terminationGracePeriodSeconds).toBe(e.grace);
    }

    // Every old pod was deleted gracefully with its grace period: the first event that shows it
    // terminating carries deletionGracePeriodSeconds = the grace period, and a deletionTimestamp
    // that many seconds after we saw it (the API server truncates it to the second).
    for (const [uid, process] of originals) {
      if (process !== e.process) continue;
      const history = pods.events.filter((ev) => ev.object.metadata.uid === uid);
      const first = history.find((ev) => ev.object.metadata.deletionTimestamp !== undefined);
      const podName = history[0]?.object.metadata.name;
      expect(first, `${podName}: a watch event with a deletionTimestamp`).toBeDefined();
      expect(first?.object.metadata.deletionGracePeriodSeconds, `${podName}'s grace`).toBe(e.grace);
      const ahead =
        (Date.parse(first?.object.metadata.deletionTimestamp ?? "") - (first?.at ?? 0)) / 1000;
      expect(ahead, `${podName}: deletionTimestamp − seen (s)`).toBeGreaterThan(e.grace - 3);
      expect(ahead).toBeLessThanOrEqual(e.grace + 0.5);
      const deleted = history.find((ev) => ev.type === "DELETED");
      expect(deleted, `${podName} deleted`).toBeDefined();
      // How long kwok left it terminating (recorded, not asserted: kwok deletes at once).
      terminating.push((deleted?.at ?? 0) - (first?.at ?? 0));
      console.error(
        `[e2e] ${podName}: deletionGracePeriodSeconds ${first?.object.metadata.deletionGracePeriodSeconds}, deletionTimestamp ${ahead.toFixed(2)} s after the watch saw it, deleted ${(deleted?.at ?? 0) - (first?.at ?? 0)} ms later; events ${history.map((ev) => `${ev.type}${ev.object.metadata.deletionTimestamp ? `(grace ${ev.object.metadata.deletionGracePeriodSeconds})` : ""}`).join(" ")}`,
      );
    }

    // The surge order that gives the hook its meaning: the process type never had fewer ready
    // pods than replicas that were not terminating (maxUnavailable 0), so an old pod began to
    // shut down only once its replacement was ready.
    const state = new Map<string, Pod>();
    let fewest = Number.POSITIVE_INFINITY;
    for (const [i, ev] of pods.events.entries()) {
      if (ev.object.metadata.labels?.["app.kubernetes.io/component"] !== e.process) continue;
      if (ev.type === "DELETED") state.delete(ev.object.metadata.uid);
      else state.set(ev.object.metadata.uid, ev.object);
      if (i < changedAt) continue; // the initial list, one pod at a time
      const serving = [...state.values()].filter(
        (p) => p.metadata.deletionTimestamp === undefined && podReady(p),
      ).length;
      fewest = Math.min(fewest, serving);
    }
    expect(fewest, `${e.process}: fewest ready, not terminating pods during the rollout`).toBe(
      e.replicas,
    );
  }
  return { rollout, terminating };
}

describe.concurrent("rollout with preStop", () => {
  test("13. an explicit preStop and grace period: the new template, pods and graceful deletes carry them", {
    timeout: 180_000,
  }, async ({ expect, annotate }) => {
    const spec = (image: string): AppSpec => ({
      image,
      processes: [
        {
          name: "web",
          replicas: 2,
          ports: [{ name: "http", containerPort: 8080, servicePort: 80 }],
          lifecycle: { preStop: { sleep: { seconds: 3 } } },
          pod: { terminationGracePeriodSeconds: 7 },
        },
        {
          name: "admin",
          replicas: 2,
          ports: [{ name: "http", containerPort: 9090 }],
          lifecycle: { preStop: { exec: { command: ["/app/drain", "--timeout=2s"] } } },
          pod: { terminationGracePeriodSeconds: 4 },
        },
      ],
    });
    const { rollout, terminating } = await rollOut(
      "explicit",
      spec,
      [
        {
          process: "web",
          replicas: 2,
          lifecycle: { preStop: { sleep: { seconds: 3 } } },
          grace: 7,
        },
        {
          process: "admin",
          replicas: 2,
          lifecycle: { preStop: { exec: { command: ["/app/drain", "--timeout=2s"] } } },
          grace: 4,
        },
      ],
      expect,
    );
    await reportRecovery(annotate, "rollout (kwok)", rollout);
    await reportNote(
      annotate,
      `${terminating.length} old pods deleted gracefully; kwok removed each ${Math.min(...terminating)}–${Math.max(...terminating)} ms after`,
    );
  });

  test("13b. the default: a 5 s sleep for a process with ports (at most its grace period), none without", {
    timeout: 180_000,
  }, async ({ expect, annotate }) => {
    const spec = (image: string): AppSpec => ({
      image,
      processes: [
        {
          name: "web",
          replicas: 2,
          ports: [{ name: "http", containerPort: 8080, servicePort: 80 }],
        },
        {
          name: "quick",
          replicas: 2,
          ports: [{ name: "http", containerPort: 8081 }],
          pod: { terminationGracePeriodSeconds: 2 },
        },
        { name: "worker", replicas: 1, command: ["worker"] },
      ],
    });
    const { rollout, terminating } = await rollOut(
      "defaults",
      spec,
      [
        {
          process: "web",
          replicas: 2,
          lifecycle: { preStop: { sleep: { seconds: 5 } } },
          grace: 30,
        },
        {
          process: "quick",
          replicas: 2,
          lifecycle: { preStop: { sleep: { seconds: 2 } } },
          grace: 2,
        },
        { process: "worker", replicas: 1, lifecycle: undefined, grace: 30 },
      ],
      expect,
    );
    await reportRecovery(annotate, "rollout (kwok)", rollout);
    await reportNote(annotate, `${terminating.length} old pods deleted gracefully`);
  });
});
