// Scenario 5: two operator processes elect a leader; SIGKILL it, the standby takes the Lease and reconciles.

import { afterAll, beforeAll, expect, test } from "vitest";
import { printClusterLogsOnFailure, providedCluster } from "../support/cluster.ts";
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
import { type Metrics, sumOf, writes } from "./support/metrics.ts";
import { OperatorProcess, printOperatorLogsOnFailure } from "./support/operator-process.ts";
import { createNamespace, installCrd, sleep, until } from "./support/setup.ts";
import { reportNote, reportRecovery, seconds } from "./support/summary.ts";

printClusterLogsOnFailure();
printOperatorLogsOnFailure();

/** The operator's Lease timing (src/runtime/leader.ts defaults, not configurable by env). */
const LEASE_DURATION_MS = 15_000;
const RETRY_PERIOD_MS = 2_000;
const RETRY_JITTER = 0.2;

const kube = new Kube(providedCluster().kubeconfig);
let ns: string;
const operators: OperatorProcess[] = [];

beforeAll(async () => {
  await installCrd(kube);
  ns = await createNamespace(kube, "failover");
  await kube.apply(redisSecret(ns));
});
afterAll(async () => {
  for (const op of operators) await op.stop();
  if (ns !== undefined) await kube.delete("Namespace", undefined, ns);
});

type Lease = {
  metadata: { resourceVersion: string };
  spec?: { holderIdentity?: string; renewTime?: string; acquireTime?: string };
};

type Sample = { at: number; leading: boolean; writes: number };

/** Scrapes an operator's leadership and write count every 100 ms while it runs. */
function sampler(op: OperatorProcess): { samples: Sample[]; stop(): Promise<void> } {
  const samples: Sample[] = [];
  let running = true;
  const loop = (async () => {
    while (running && op.running) {
      let m: Metrics | undefined;
      try {
        m = await op.metrics();
      } catch {
        // Killed between the check and the scrape.
      }
      if (m !== undefined) {
        samples.push({
          at: Date.now(),
          leading: sumOf(m, "leader_election_master_status") === 1,
          writes: writes(m),
        });
      }
      await sleep(100);
    }
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

async function startOperator(name: string): Promise<OperatorProcess> {
  const op = await OperatorProcess.start({
    name,
    kubeconfig: kube.kubeconfigPath,
    namespaces: [ns],
    env: { LEADER_ELECT: "true", LEASE_NAMESPACE: ns, LEASE_NAME: "stateless-operator" },
  });
  operators.push(op);
  return op;
}

const lease = () => kube.get<Lease>("Lease", ns, "stateless-operator");

test("5. leader failover: SIGKILL the leader; the standby takes the Lease and reconciles, never both writing", {
  timeout: 180_000,
}, async ({ annotate }) => {
  const a = await startOperator("a");
  await until("a to hold the Lease", async () => (await lease())?.spec?.holderIdentity === "a");
  const b = await startOperator("b");
  const samplesA = sampler(a);
  const samplesB = sampler(b);

  const names = ["alpha", "beta", "gamma"];
  for (const name of names) await kube.apply(statelessApp(ns, name, webWorkerSpec()));
  await waitConverged(kube, ns, { names });
  expect(await b.ready()).toBe(true); // a warm standby: caches synced
  expect(writes(await b.metrics())).toBe(0);
  expect(sumOf(await b.metrics(), "leader_election_master_status")).toBe(0);
  expect(writes(await a.metrics())).toBeGreaterThan(0);

  // Observe the standby for a while with the leader alive, so "b never wrote while a led"
  // rests on enough samples however fast the apps converged.
  const observed = 20;
  await until("the standby to be observed while the leader leads", async () =>
    samplesB.samples.length >= observed ? true : undefined,
  );
  const lastByA = await lease();
  await a.kill();
  const killedAt = Date.now();
  // A change the dead leader can never see.
  await kube.apply(
    statelessApp(ns, "alpha", webWorkerSpec({ web: 3, image: "registry.example.com/shop:2.0.0" })),
  );

  const taken = await until(
    "b to take the Lease",
    async () => {
      const l = await lease();
      return l?.spec?.holderIdentity === "b" ? l : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  const takeoverMs = Date.now() - killedAt;
  const changed = await waitConverged(kube, ns, { names: ["alpha"] });
  expect(changed[0]?.metadata.generation).toBe(2);
  const reconciledMs = Date.now() - killedAt;
  expect(await childProblems(kube, ns)).toEqual([]);
  const alphaWeb = await kube.get<{ spec: { replicas: number } }>("Deployment", ns, "alpha-web");
  expect(alphaWeb?.spec.replicas).toBe(3);
  await Promise.all([samplesA.stop(), samplesB.stop()]);

  // B waits a full lease duration without renewals (on its own clock, from when it first saw
  // a's last renewal) before it takes over: never earlier, and at most a retry period or two
  // of observation lag later.
  const lastRenew = Date.parse(lastByA?.spec?.renewTime ?? "");
  const acquired = Date.parse(taken.spec?.acquireTime ?? "");
  expect(acquired - lastRenew).toBeGreaterThanOrEqual(LEASE_DURATION_MS);
  const observationLag = 2 * RETRY_PERIOD_MS * (1 + RETRY_JITTER);
  expect(takeoverMs).toBeLessThanOrEqual(LEASE_DURATION_MS + observationLag);

  // Never both: b wrote nothing while a was alive, and nothing before it led.
  const bBeforeKill = samplesB.samples.filter((s) => s.at < killedAt);
  expect(bBeforeKill.length).toBeGreaterThanOrEqual(observed);
  expect(Math.max(...bBeforeKill.map((s) => s.writes))).toBe(0);
  const bFirstWrite = samplesB.samples.find((s) => s.writes > 0);
  expect(bFirstWrite?.leading).toBe(true);
  expect(bFirstWrite?.at ?? 0).toBeGreaterThan(killedAt);
  expect(samplesA.samples.every((s) => s.leading)).toBe(true);

  await reportRecovery(annotate, "Lease taken", takeoverMs);
  await reportRecovery(annotate, "change reconciled", reconciledMs);
  await reportNote(
    annotate,
    `gap between a's last renewal and b's acquisition ${seconds(acquired - lastRenew)}`,
  );
  const apps = await kube.list<App>("StatelessApp", ns);
  expect(apps).toHaveLength(names.length);
  expect(await secretLeaks(kube, ns, operators)).toEqual([]);
});
