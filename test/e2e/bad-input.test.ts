// Scenario 7: a corpus of malformed StatelessApps is refused by the API server or reported Stalled; the operator carries on.

import { afterAll, beforeAll, expect, test } from "vitest";
import type { KubeObject } from "../../src/runtime/index.ts";
import { printClusterLogsOnFailure, providedCluster } from "../support/cluster.ts";
import {
  type App,
  condition,
  converged,
  PASSWORD,
  secretLeaks,
  statelessApp,
  waitConverged,
  webWorkerSpec,
} from "./support/apps.ts";
import { badInputs, fieldForms } from "./support/bad-inputs.ts";
import { codeOf, Kube } from "./support/kube.ts";
import { type OperatorProcess, printOperatorLogsOnFailure } from "./support/operator-process.ts";
import { startScenario, stopScenario } from "./support/scenario.ts";
import { kubectl, until } from "./support/setup.ts";
import { reportNote } from "./support/summary.ts";

printClusterLogsOnFailure();
printOperatorLogsOnFailure();

const kube = new Kube(providedCluster().kubeconfig);
let ns: string;
let operator: OperatorProcess;

beforeAll(async () => {
  ({ ns, operator } = await startScenario(kube, "bad-input"));
});
afterAll(() => stopScenario(kube, { ns, operator }));

const document = (name: string, spec: Record<string, unknown> | undefined): KubeObject =>
  ({
    apiVersion: "twelvefactor.dev/v1alpha1",
    kind: "StatelessApp",
    metadata: { name, namespace: ns },
    ...(spec === undefined ? {} : { spec }),
  }) as KubeObject;

const secret = (name: string, stringData: Record<string, string>): KubeObject =>
  ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: ns },
    stringData,
  }) as KubeObject;

const bound = (name: string, secretName: string): KubeObject =>
  statelessApp(ns, name, {
    image: "registry.example.com/stalled:1.0.0",
    processes: [{ name: "web", replicas: 1 }],
    backingServices: [{ name: "cache", type: "redis", secretRef: { name: secretName } }],
  });

/** What only the operator can know: each is accepted, then reported Stalled with this message. */
const stalledCases = (): { app: KubeObject; reason: string; message: RegExp }[] => [
  {
    app: bound("no-secret", "absent"),
    reason: "BindingsNotReady",
    message: /Secret "absent" not found/,
  },
  {
    app: bound("no-host", "only-password"),
    reason: "BindingsNotReady",
    message: /Secret "only-password".*host/,
  },
  {
    app: bound("bad-port", "port-word"),
    reason: "BindingsNotReady",
    message: /Secret "port-word" key "port"/,
  },
  {
    app: bound("bad-uri", "broken-uri"),
    reason: "BindingsNotReady",
    message: /Secret "broken-uri" key "uri"/,
  },
];

test(`7. bad input: ${badInputs.length} malformed apps refused naming the field, ${stalledCases().length} operator-only problems Stalled; the operator keeps reconciling`, {
  timeout: 240_000,
}, async ({ annotate }) => {
  expect(badInputs.length).toBeGreaterThanOrEqual(50);
  await kube.apply(statelessApp(ns, "steady", webWorkerSpec()));
  await waitConverged(kube, ns, { names: ["steady"] });
  const pid = operator.pid;

  // The whole corpus in one `kubectl apply --server-side` (strict field validation): every
  // object refused, each error naming the object and the field.
  const yaml = badInputs.map((b) => JSON.stringify(document(b.name, b.spec))).join("\n---\n");
  const run = await kubectl(
    kube,
    ["apply", "--server-side", "--field-manager=e2e-user", "-f", "-"],
    yaml,
  );
  expect(run.code).not.toBe(0);
  expect(run.stdout).toBe("");
  const errors = run.stderr.split(/^Error from server/m).filter((e) => e.trim() !== "");
  expect(errors).toHaveLength(badInputs.length);
  const unnamed: string[] = [];
  for (const b of badInputs) {
    const error = errors.find((e) => e.includes(`"${b.name}"`) || e.includes(`/${b.name};`));
    if (error === undefined || !fieldForms(b.field).some((f) => error.includes(f))) {
      unnamed.push(`${b.name} (${b.why}): ${error ?? "no error"}`);
    }
  }
  expect(unnamed).toEqual([]);

  // The same through the API, one by one, while the user keeps changing a valid app.
  const statuses = new Map<number, number>();
  for (const [i, b] of badInputs.entries()) {
    if (i % 10 === 0) {
      const image = `registry.example.com/shop:1.${i}.0`;
      await kube.apply(statelessApp(ns, "steady", webWorkerSpec({ image })));
    }
    const refused = await kube.apply(document(b.name, b.spec)).then(
      () => undefined,
      (error: unknown) => error as { code?: number; body?: string },
    );
    expect(refused, `${b.name} (${b.why}) was accepted`).toBeDefined();
    const code = codeOf(refused) ?? 0;
    const message = JSON.parse(refused?.body ?? "{}").message as string;
    statuses.set(code, (statuses.get(code) ?? 0) + 1);
    // Server-side apply reports a typed-patch failure (a type mismatch, a duplicate or unknown
    // key) as 500 with that text; everything else is 422 or 400.
    const clientError =
      code === 422 ||
      code === 400 ||
      (code === 500 && message.startsWith("failed to create typed patch object"));
    expect(clientError, `${b.name}: HTTP ${code} ${message}`).toBe(true);
    expect(
      fieldForms(b.field).some((f) => message.includes(f)),
      `${b.name} (${b.why}): ${message}`,
    ).toBe(true);
  }
  expect(await kube.list("StatelessApp", ns)).toHaveLength(1);
  await reportNote(
    annotate,
    `refused: ${[...statuses].map(([code, n]) => `${n}×${code}`).join(", ")}`,
  );

  // What the API server cannot know becomes a Stalled condition naming the culprit.
  await kube.apply(secret("only-password", { password: PASSWORD }));
  await kube.apply(
    secret("port-word", { host: "redis.example", port: "redis-port", password: PASSWORD }),
  );
  await kube.apply(secret("broken-uri", { uri: `redis://:${PASSWORD}@[redis.example:6379` }));
  const stalled = stalledCases();
  expect(stalled).toHaveLength(4);
  for (const c of stalled) await kube.apply(c.app);
  for (const c of stalled) {
    const name = c.app.metadata?.name ?? "";
    const app = await until(`${name} to be Stalled`, async () => {
      const a = await kube.get<App>("StatelessApp", ns, name);
      return a !== undefined &&
        a.status?.observedGeneration === a.metadata.generation &&
        condition(a, "Stalled")?.status === "True"
        ? a
        : undefined;
    });
    expect(condition(app, "Stalled")?.reason, name).toBe(c.reason);
    expect(condition(app, "Stalled")?.message, name).toMatch(c.message);
    expect(condition(app, "Ready")?.status, name).toBe("False");
  }

  // None of it stopped or stalled the operator: the same process, and valid apps still reconcile.
  expect(operator.pid).toBe(pid);
  expect(operator.running).toBe(true);
  await kube.apply(statelessApp(ns, "fresh", webWorkerSpec({ web: 1 })));
  const valid = await waitConverged(kube, ns, { names: ["steady", "fresh"] });
  expect(valid.every(converged)).toBe(true);
  const steady = await kube.get<{
    spec: { template: { spec: { containers: { image: string }[] } } };
  }>("Deployment", ns, "steady-web");
  expect(steady?.spec.template.spec.containers[0]?.image).toBe("registry.example.com/shop:1.70.0");
  // The stalled apps do not spin: nothing is written while nothing changes.
  const quiet = await operator.quietWindow(5_000);
  expect(quiet.writes, quiet.log.join("\n")).toBe(0);
  expect(operator.logs().filter((l) => l.level === "fatal")).toEqual([]);

  expect(await secretLeaks(kube, ns, [operator])).toEqual([]);
});
