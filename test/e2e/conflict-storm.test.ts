// Scenario 6: other clients write the operator's Deployments while it reconciles; nobody's fields are lost, no loop.

import { afterAll, beforeAll, expect, test } from "vitest";
import type { KubeObject } from "../../src/runtime/index.ts";
import { printClusterLogsOnFailure, providedCluster } from "../support/cluster.ts";
import {
  childProblems,
  secretLeaks,
  statelessApp,
  waitConverged,
  webWorkerSpec,
} from "./support/apps.ts";
import { codeOf, Kube } from "./support/kube.ts";
import { idle, reconciles, sumOf } from "./support/metrics.ts";
import { type OperatorProcess, printOperatorLogsOnFailure } from "./support/operator-process.ts";
import { startScenario, stopScenario } from "./support/scenario.ts";
import { mapLimit, sleep, until } from "./support/setup.ts";
import { reportNote } from "./support/summary.ts";

printClusterLogsOnFailure();
printOperatorLogsOnFailure();

const kube = new Kube(providedCluster().kubeconfig);
let ns: string;
let operator: OperatorProcess;

beforeAll(async () => {
  ({ ns, operator } = await startScenario(kube, "storm"));
});
afterAll(() => stopScenario(kube, { ns, operator }));

type Deployment = KubeObject & {
  metadata: {
    name: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    resourceVersion?: string;
  };
  spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
};

const APPS = ["red", "green", "blue", "gold"];
const ROUNDS = 25;
/** The user changes every app's image this many times during the storm. */
const IMAGE_CHANGES = 5;
const image = (n: number) => `registry.example.com/storm:${n}.0.0`;
const deploymentNames = APPS.flatMap((a) => [`${a}-web`, `${a}-worker`]);

const deploymentApplies = async () =>
  sumOf(await operator.metrics(), "stateless_operator_apply_total", {
    kind: "Deployment",
    outcome: "written",
  });

test("6. conflict storm: concurrent writers of non-owned fields keep theirs, the operator keeps its, writes bounded", {
  timeout: 240_000,
}, async ({ annotate }) => {
  for (const app of APPS)
    await kube.apply(statelessApp(ns, app, webWorkerSpec({ image: image(0) })));
  await waitConverged(kube, ns, { names: APPS });
  const appliesBefore = await deploymentApplies();
  const reconcilesBefore = reconciles(await operator.metrics());

  let ssaWrites = 0;
  let updateWrites = 0;
  let updateConflicts = 0;
  // A GitOps-style tool: its own annotation and label by server-side apply, never forced.
  const ssaClient = async (round: number) => {
    await mapLimit(deploymentNames, 4, async (name) => {
      await kube.apply(
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: {
            name,
            namespace: ns,
            annotations: { "storm.example.com/round": String(round) },
            labels: { "storm.example.com/ssa": "present" },
          },
        } as KubeObject,
        "storm-ssa",
        { force: false },
      );
      ssaWrites++;
    });
  };
  // A controller of the old school: read, modify, update with the resourceVersion, retry on 409.
  const updateClient = async (round: number) => {
    await mapLimit(deploymentNames, 4, async (name) => {
      for (;;) {
        const d = await kube.get<Deployment>("Deployment", ns, name);
        if (d === undefined) throw new Error(`${name} vanished`);
        d.metadata.annotations = {
          ...d.metadata.annotations,
          "storm.example.com/updated": String(round),
        };
        d.metadata.labels = { ...d.metadata.labels, "storm.example.com/update": "present" };
        try {
          await kube.update(d, "storm-update");
          updateWrites++;
          return;
        } catch (error) {
          if (codeOf(error) !== 409) throw error;
          updateConflicts++;
        }
      }
    });
  };
  const user = async () => {
    for (let n = 1; n <= IMAGE_CHANGES; n++) {
      await sleep(400);
      for (const app of APPS)
        await kube.apply(statelessApp(ns, app, webWorkerSpec({ image: image(n) })));
    }
  };
  const storm = async (client: (round: number) => Promise<void>) => {
    for (let round = 1; round <= ROUNDS; round++) await client(round);
  };
  await Promise.all([storm(ssaClient), storm(updateClient), user()]);

  await waitConverged(kube, ns, { names: APPS });
  await until("the operator to go idle", async () => idle(await operator.metrics()));
  for (const name of deploymentNames) {
    const d = await kube.get<Deployment>("Deployment", ns, name);
    expect(d?.metadata.annotations).toMatchObject({
      "storm.example.com/round": String(ROUNDS),
      "storm.example.com/updated": String(ROUNDS),
    });
    expect(d?.metadata.labels).toMatchObject({
      "storm.example.com/ssa": "present",
      "storm.example.com/update": "present",
      "app.kubernetes.io/managed-by": "stateless-operator",
    });
    expect(d?.spec.template.spec.containers[0]?.image).toBe(image(IMAGE_CHANGES));
  }
  expect(await childProblems(kube, ns)).toEqual([]);

  // The operator wrote each Deployment once per image change, not once per foreign write.
  const applied = (await deploymentApplies()) - appliesBefore;
  const expected = deploymentNames.length * IMAGE_CHANGES;
  expect(applied).toBeGreaterThanOrEqual(expected);
  expect(applied).toBeLessThanOrEqual(expected * 2);
  const reconciled = reconciles(await operator.metrics()) - reconcilesBefore;
  await reportNote(
    annotate,
    `${ssaWrites + updateWrites} foreign writes (${updateConflicts} update conflicts), ${reconciled} reconciles, ${applied} Deployment applies (${expected} needed)`,
  );

  // Quiet now: no write at all over a few seconds (no loop with the others' fields).
  const quiet = await operator.quietWindow(5_000);
  expect(quiet.writes, quiet.log.join("\n")).toBe(0);

  // Where they do overlap, the operator's field wins once, and the other fields stay.
  const d = await kube.get<Deployment>("Deployment", ns, "red-web");
  if (d === undefined) throw new Error("red-web vanished");
  const container = d.spec.template.spec.containers[0];
  if (container === undefined) throw new Error("red-web has no container");
  container.image = "registry.example.com/intruder:6.6.6";
  const appliesBeforeIntrusion = await deploymentApplies();
  await kube.update(d, "storm-update");
  await until("the operator to restore red-web's image", async () => {
    const now = await kube.get<Deployment>("Deployment", ns, "red-web");
    return now?.spec.template.spec.containers[0]?.image === image(IMAGE_CHANGES);
  });
  // Both image changes roll the pods; once that is over, the operator has nothing left to do.
  await waitConverged(kube, ns, { names: ["red"] });
  await until("the operator to go idle", async () => idle(await operator.metrics()));
  expect((await deploymentApplies()) - appliesBeforeIntrusion).toBe(1);
  const restored = await kube.get<Deployment>("Deployment", ns, "red-web");
  expect(restored?.metadata.annotations?.["storm.example.com/updated"]).toBe(String(ROUNDS));
  const quietAfterFix = await operator.quietWindow(3_000);
  expect(quietAfterFix.writes, quietAfterFix.log.join("\n")).toBe(0);

  expect(await secretLeaks(kube, ns, [operator])).toEqual([]);
});
