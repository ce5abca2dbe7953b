// Scenario 8: binding passwords, in every layout and every failure, never reach logs, Events, status or pod specs.

import { afterAll, beforeAll, expect, test } from "vitest";
import type { KubeObject } from "../../src/runtime/index.ts";
import { printClusterLogsOnFailure, providedCluster } from "../support/cluster.ts";
import {
  type App,
  condition,
  leaksIn,
  PASSWORD,
  secretLeaks,
  statelessApp,
  waitConverged,
} from "./support/apps.ts";
import { Kube } from "./support/kube.ts";
import { type OperatorProcess, printOperatorLogsOnFailure } from "./support/operator-process.ts";
import { startScenario, stopScenario } from "./support/scenario.ts";
import { until } from "./support/setup.ts";
import { reportNote } from "./support/summary.ts";

printClusterLogsOnFailure();
printOperatorLogsOnFailure();

/** The rotated password: as recognisable as the first. */
const ROTATED = `${PASSWORD}-rotated-Xk2p`;

const kube = new Kube(providedCluster().kubeconfig);
let ns: string;
let operator: OperatorProcess;

beforeAll(async () => {
  // The most verbose level the operator has: whatever it might log, it logs now.
  ({ ns, operator } = await startScenario(kube, "secrets", {
    redis: false,
    env: { LOG_LEVEL: "trace" },
  }));
});
afterAll(() => stopScenario(kube, { ns, operator }));

const secret = (name: string, stringData: Record<string, string>): KubeObject =>
  ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: ns },
    type: "Opaque",
    stringData,
  }) as KubeObject;

const app = (name: string, type: "redis" | "memcached", secretName: string): KubeObject =>
  statelessApp(ns, name, {
    image: "registry.example.com/secrets:1.0.0",
    processes: [
      { name: "web", replicas: 1, ports: [{ name: "http", containerPort: 8080 }] },
      { name: "worker", replicas: 1 },
    ],
    backingServices: [{ name: "store", type, secretRef: { name: secretName } }],
  });

/** Source layouts real deployments produce, each carrying the password. */
const layouts = (): { secret: KubeObject; type: "redis" | "memcached" }[] => [
  {
    type: "redis",
    secret: secret("servicebinding", {
      host: "redis.example",
      port: "6379",
      username: "default",
      password: PASSWORD,
    }),
  },
  {
    type: "redis",
    secret: secret("helm-chart", { host: "redis-master.example", "redis-password": PASSWORD }),
  },
  {
    type: "redis",
    secret: secret("uri-only", { uri: `redis://:${PASSWORD}@redis.example:6379/2` }),
  },
  {
    type: "redis",
    secret: secret("tls-url", { url: `rediss://app:${PASSWORD}@redis.example:6380` }),
  },
  {
    type: "memcached",
    secret: secret("memcached-sasl", {
      host: "memcached.example",
      port: "11211",
      username: "app",
      password: PASSWORD,
    }),
  },
];

/** Broken sources whose error messages are where a careless operator would quote the value. */
const broken = (): { secret: KubeObject; key: string }[] => [
  { secret: secret("broken-uri", { uri: `redis://:${PASSWORD}@[redis.example:6379` }), key: "uri" },
  {
    secret: secret("broken-port", { host: "redis.example", port: PASSWORD, password: PASSWORD }),
    key: "port",
  },
  {
    secret: secret("broken-db", { uri: `redis://:${PASSWORD}@redis.example:6379/${PASSWORD}` }),
    key: "uri",
  },
];

/** Everything the operator made or wrote that is not a Secret: none may hold a password. */
async function nonSecretLeaks(passwords: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const kind of ["Deployment", "ReplicaSet", "Pod", "Service", "PodDisruptionBudget"]) {
    for (const o of await kube.list(kind, ns)) {
      for (const p of passwords) {
        if (leaksIn(JSON.stringify(o), p).length > 0) found.push(`${kind} ${o.metadata?.name}`);
      }
    }
  }
  const metrics = JSON.stringify(await operator.metrics());
  for (const p of passwords) if (leaksIn(metrics, p).length > 0) found.push("/metrics");
  for (const p of passwords) {
    const elsewhere = await secretLeaks(kube, ns, [operator]);
    if (p === PASSWORD) found.push(...elsewhere);
    if (leaksIn(operator.output(), p).length > 0) found.push(`operator output (${p.length})`);
  }
  return found;
}

test("8. secrets stay secret: bound, broken, rotated, tampered and deleted sources — no password in logs, Events, status or specs", {
  timeout: 180_000,
}, async ({ annotate }) => {
  const sources = layouts();
  for (const s of sources) await kube.apply(s.secret);
  const names = sources.map((s) => `app-${s.secret.metadata?.name}`);
  for (const [i, s] of sources.entries()) {
    await kube.apply(app(names[i] ?? "", s.type, s.secret.metadata?.name ?? ""));
  }
  await waitConverged(kube, ns, { names });

  // The normalized Secret holds the password (that is its job); nothing else does.
  const normalized = await kube.get<{ data: Record<string, string> }>(
    "Secret",
    ns,
    `${names[0]}-binding-store`,
  );
  expect(Buffer.from(normalized?.data.password ?? "", "base64").toString()).toBe(PASSWORD);
  // The detector finds the password in base64 too: a Secret's data logged would not slip by.
  expect(leaksIn(JSON.stringify(normalized))).not.toEqual([]);

  // Broken sources: Stalled, naming the Secret and the key, never quoting the value.
  const bad = broken();
  for (const b of bad) {
    await kube.apply(b.secret);
    await kube.apply(app(`app-${b.secret.metadata?.name}`, "redis", b.secret.metadata?.name ?? ""));
  }
  for (const b of bad) {
    const name = `app-${b.secret.metadata?.name}`;
    const stalled = await until(`${name} to be Stalled`, async () => {
      const a = await kube.get<App>("StatelessApp", ns, name);
      return condition(a, "Stalled")?.status === "True" ? a : undefined;
    });
    const message = condition(stalled, "Stalled")?.message ?? "";
    expect(message).toContain(`Secret "${b.secret.metadata?.name}" key "${b.key}"`);
    expect(leaksIn(message)).toEqual([]);
  }

  // Rotation: a new password rolls the pods; the old and the new one stay out of sight.
  const rotatedName = sources[0]?.secret.metadata?.name ?? "";
  const before = await kube.get<{
    spec: { template: { metadata: { annotations: Record<string, string> } } };
  }>("Deployment", ns, `${names[0]}-web`);
  await kube.apply(
    secret(rotatedName, {
      host: "redis.example",
      port: "6379",
      username: "default",
      password: ROTATED,
    }),
  );
  await until("the rotated password to roll the pods", async () => {
    const d = await kube.get<typeof before>("Deployment", ns, `${names[0]}-web`);
    return (
      JSON.stringify(d?.spec.template.metadata.annotations) !==
      JSON.stringify(before?.spec.template.metadata.annotations)
    );
  });
  await waitConverged(kube, ns, { names });

  // Tampering with the normalized Secret: set back, with an Event that names no value.
  const bindingSecret = `${names[1]}-binding-store`;
  await kube.mergePatch(
    "Secret",
    ns,
    bindingSecret,
    {
      stringData: { password: `${PASSWORD}-tampered` },
    },
    "intruder",
  );
  await until("the tampered binding Secret to be restored", async () => {
    const s = await kube.get<{ data: Record<string, string> }>("Secret", ns, bindingSecret);
    return Buffer.from(s?.data.password ?? "", "base64").toString() === PASSWORD;
  });

  // A deleted source: Stalled, the last good Deployment keeps running.
  const gone = sources[2]?.secret.metadata?.name ?? "";
  await kube.delete("Secret", ns, gone);
  const orphaned = await until(`app-${gone} to be Stalled`, async () => {
    const a = await kube.get<App>("StatelessApp", ns, `app-${gone}`);
    return condition(a, "Stalled")?.status === "True" ? a : undefined;
  });
  expect(condition(orphaned, "Stalled")?.message).toContain(`Secret "${gone}" not found`);
  expect(await kube.get("Deployment", ns, `app-${gone}-web`)).toBeDefined();

  const leaks = await nonSecretLeaks([PASSWORD, ROTATED]);
  expect(leaks).toEqual([]);
  const lines = operator.output().split("\n").length;
  await reportNote(
    annotate,
    `${sources.length} layouts, ${bad.length} broken sources, ${lines} log lines at trace: no leak`,
  );
});
