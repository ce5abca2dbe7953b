import type { V1Deployment } from "@kubernetes/client-node";
import { describe, expect, test } from "vitest";
import type { Condition, StatelessApp } from "../../../src/api/index.ts";
import { type BindingOutcome, computeStatus } from "../../../src/app/status/index.ts";
import { app } from "../../fixtures/apps.ts";

const NOW = "2026-11-28T12:00:00Z";
const EARLIER = "2026-11-28T11:00:00Z";

const deployment = (
  replicas: number,
  s: {
    ready?: number;
    updated?: number;
    available?: number;
    total?: number;
    observed?: number;
  } = {},
): V1Deployment => ({
  metadata: { generation: 2 },
  spec: { replicas, selector: {}, template: {} },
  status: {
    observedGeneration: s.observed ?? 2,
    replicas: s.total ?? s.updated ?? replicas,
    updatedReplicas: s.updated ?? replicas,
    readyReplicas: s.ready ?? replicas,
    availableReplicas: s.available ?? s.ready ?? replicas,
  },
});

const shop = (spec: Partial<StatelessApp["spec"]> = {}, conditions?: Condition[]): StatelessApp => {
  const a = app(
    {
      processes: [
        { name: "web", replicas: 2, ports: [{ name: "http", containerPort: 8080 }] },
        { name: "worker", replicas: 1 },
      ],
      ...spec,
    },
    { generation: 3 },
  );
  return conditions === undefined ? a : { ...a, status: { conditions } };
};

const conditionsOf = (input: Parameters<typeof computeStatus>[0]) =>
  (computeStatus(input).conditions ?? []).map((c) => [c.type, c.status, c.reason, c.message]);

describe("computeStatus", () => {
  test("all processes rolled out: Ready, no Reconciling or Stalled, counts and summary", () => {
    const status = computeStatus({
      app: shop(),
      deployments: new Map([
        ["web", deployment(2)],
        ["worker", deployment(1)],
      ]),
      bindings: [],
      now: NOW,
    });
    expect(status).toEqual({
      observedGeneration: 3,
      conditions: [
        {
          type: "Ready",
          status: "True",
          observedGeneration: 3,
          lastTransitionTime: NOW,
          reason: "Available",
          message: "web 2/2, worker 1/1",
        },
      ],
      processes: [
        {
          name: "web",
          deployment: "shop-web",
          service: "shop-web",
          replicas: 2,
          readyReplicas: 2,
          updatedReplicas: 2,
        },
        {
          name: "worker",
          deployment: "shop-worker",
          replicas: 1,
          readyReplicas: 1,
          updatedReplicas: 1,
        },
      ],
      summary: "web 2/2, worker 1/1",
    });
  });

  test.each<[string, V1Deployment | undefined]>([
    ["the Deployment does not exist yet", undefined],
    ["the Deployment controller has not seen the latest spec", deployment(2, { observed: 1 })],
    ["an old process is still running", deployment(2, { total: 3 })],
    ["a process is not available", deployment(2, { available: 1, ready: 1 })],
  ])("rolling out when %s: Ready False and Reconciling True", (_, web) => {
    const deployments = new Map<string, V1Deployment>([["worker", deployment(1)]]);
    if (web !== undefined) deployments.set("web", web);
    const [ready, reconciling, ...rest] = conditionsOf({
      app: shop(),
      deployments,
      bindings: [],
      now: NOW,
    });
    expect(ready?.slice(0, 3)).toEqual(["Ready", "False", "Progressing"]);
    expect(reconciling?.slice(0, 3)).toEqual(["Reconciling", "True", "Progressing"]);
    expect(rest).toEqual([]);
  });

  test("pods refused by the API server: Ready names the process type and the API server's message", () => {
    const refused =
      "pods \"shop-web-5d8f7-\" is forbidden: ValidatingAdmissionPolicy 'twelvefactor-processes' with binding 'twelvefactor-processes-deny' denied request: violates the twelve-factor processes rule: TF-PROC-010 spec.volumes[0].emptyDir.sizeLimit: emptyDir without sizeLimit";
    const web = deployment(2, { ready: 0, updated: 0, available: 0, total: 0 });
    const failing: V1Deployment = {
      ...web,
      status: {
        ...web.status,
        conditions: [
          { type: "Progressing", status: "True", reason: "NewReplicaSetCreated", message: "…" },
          { type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: refused },
        ],
      },
    };
    const [ready, reconciling] = conditionsOf({
      app: shop(),
      deployments: new Map([
        ["web", failing],
        ["worker", deployment(1)],
      ]),
      bindings: [],
      now: NOW,
    });
    const message = `rolling out: web 0/2, worker 1/1; web: pods cannot be created: ${refused}`;
    expect(ready).toEqual(["Ready", "False", "Progressing", message]);
    expect(reconciling).toEqual(["Reconciling", "True", "Progressing", message]);
  });

  test("a ReplicaFailure that cleared (status False) is not mentioned", () => {
    const web = deployment(2, { available: 1, ready: 1 });
    const recovered: V1Deployment = {
      ...web,
      status: {
        ...web.status,
        conditions: [{ type: "ReplicaFailure", status: "False", reason: "x", message: "old" }],
      },
    };
    const [ready] = conditionsOf({
      app: shop(),
      deployments: new Map([
        ["web", recovered],
        ["worker", deployment(1)],
      ]),
      bindings: [],
      now: NOW,
    });
    expect(ready?.[3]).toBe("rolling out: web 1/2, worker 1/1");
  });

  test("an invalid spec: Stalled with every problem, nothing else", () => {
    expect(
      conditionsOf({
        app: shop(),
        invalid: ["spec.a: bad", "spec.b: worse"],
        deployments: new Map(),
        bindings: [],
        now: NOW,
      }),
    ).toEqual([
      ["Ready", "False", "InvalidSpec", "invalid spec: spec.a: bad; spec.b: worse"],
      ["Stalled", "True", "InvalidSpec", "invalid spec: spec.a: bad; spec.b: worse"],
    ]);
  });

  test("a binding problem: Stalled and BindingsReady False, naming the Secret", () => {
    const withBinding = shop({
      backingServices: [{ name: "sessions", type: "redis", secretRef: { name: "shop-redis" } }],
    });
    const bindings: BindingOutcome[] = [
      { name: "sessions", type: "redis", problem: 'Secret "shop-redis" not found' },
    ];
    const status = computeStatus({
      app: withBinding,
      deployments: new Map([
        ["web", deployment(2)],
        ["worker", deployment(1)],
      ]),
      bindings,
      now: NOW,
    });
    expect((status.conditions ?? []).map((c) => [c.type, c.status, c.reason, c.message])).toEqual([
      ["Ready", "False", "BindingsNotReady", 'Secret "shop-redis" not found'],
      ["Stalled", "True", "BindingsNotReady", 'Secret "shop-redis" not found'],
      ["BindingsReady", "False", "SourceNotReady", 'Secret "shop-redis" not found'],
    ]);
    expect(status.bindings).toEqual([{ name: "sessions", type: "redis", ready: false }]);
  });

  test("resolved bindings: BindingsReady True and the Secret named in status", () => {
    const withBinding = shop({
      backingServices: [{ name: "sessions", type: "redis", secretRef: { name: "shop-redis" } }],
    });
    const status = computeStatus({
      app: withBinding,
      deployments: new Map([
        ["web", deployment(2)],
        ["worker", deployment(1)],
      ]),
      bindings: [{ name: "sessions", type: "redis", secretName: "shop-binding-sessions" }],
      now: NOW,
    });
    expect(status.conditions?.map((c) => [c.type, c.status])).toEqual([
      ["Ready", "True"],
      ["BindingsReady", "True"],
    ]);
    expect(status.bindings).toEqual([
      { name: "sessions", type: "redis", secretName: "shop-binding-sessions", ready: true },
    ]);
  });

  test("paused: a Paused condition, and Ready from what runs", () => {
    expect(
      conditionsOf({
        app: shop({ paused: true }),
        deployments: new Map([
          ["web", deployment(2)],
          ["worker", deployment(1)],
        ]),
        bindings: [],
        now: NOW,
      }),
    ).toEqual([
      ["Ready", "True", "Paused", "reconciling is paused; web 2/2, worker 1/1"],
      ["Paused", "True", "Paused", "spec.paused is true: children are left as they are"],
    ]);
  });

  test("keeps lastTransitionTime while a status holds and moves it when it flips", () => {
    const previous: Condition[] = [
      {
        type: "Ready",
        status: "True",
        lastTransitionTime: EARLIER,
        reason: "Available",
        message: "old",
      },
    ];
    const rolledOut = new Map([
      ["web", deployment(2)],
      ["worker", deployment(1)],
    ]);
    const same = computeStatus({
      app: shop({}, previous),
      deployments: rolledOut,
      bindings: [],
      now: NOW,
    });
    expect(same.conditions?.[0]?.lastTransitionTime).toBe(EARLIER);
    const flipped = computeStatus({
      app: shop({}, previous),
      deployments: new Map(),
      bindings: [],
      now: NOW,
    });
    expect(flipped.conditions?.[0]?.lastTransitionTime).toBe(NOW);
  });

  test("is deterministic: the same input gives the same status", () => {
    const input = {
      app: shop(),
      deployments: new Map([["web", deployment(2, { ready: 1, available: 1 })]]),
      bindings: [],
      now: NOW,
    };
    expect(computeStatus(input)).toEqual(computeStatus(input));
  });
});

describe("computeStatus: a failed release", () => {
  const JOB = "shop-release-1a2b3c4d5e";
  const failed = (log?: { pod: string; line?: string; unreadable?: string }, failure?: string) =>
    computeStatus({
      app: shop({ release: { command: ["bin/migrate"] } }),
      deployments: new Map([
        ["web", deployment(2)],
        ["worker", deployment(1)],
      ]),
      bindings: [],
      release: {
        image: "registry.example.com/shop:1.4.2",
        job: JOB,
        state: "Failed",
        failure: failure ?? "BackoffLimitExceeded: Job has reached the specified backoff limit",
        ...(log === undefined ? {} : { log }),
      },
      now: NOW,
    });
  const stalled = (status: ReturnType<typeof computeStatus>) =>
    status.conditions?.find((c) => c.type === "Stalled");

  test.each<[string, Parameters<typeof failed>[0], string]>([
    [
      "the last log line",
      { pod: `${JOB}-x7k`, line: "migration 0042 failed: relation users exists" },
      `; last log line of pod ${JOB}-x7k: "migration 0042 failed: relation users exists"`,
    ],
    [
      "a log that could not be read",
      { pod: `${JOB}-x7k`, unreadable: 'NotFound: pods "x" not found' },
      `; no log line of pod ${JOB}-x7k: NotFound: pods "x" not found`,
    ],
    ["a pod that logged nothing", { pod: `${JOB}-x7k` }, `; pod ${JOB}-x7k logged nothing`],
    ["no pod to read", undefined, ""],
  ])("Stalled ReleaseFailed with the Job's reason and %s", (_what, log, phrase) => {
    const status = failed(log);
    const message = `release ${JOB} failed (BackoffLimitExceeded: Job has reached the specified backoff limit)${phrase}; nothing rolls until spec.image or spec.release changes`;
    expect(stalled(status)).toMatchObject({ status: "True", reason: "ReleaseFailed", message });
    expect(status.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "False",
      reason: "ReleaseFailed",
      message,
    });
    expect(status.release).toEqual({
      image: "registry.example.com/shop:1.4.2",
      job: JOB,
      state: "Failed",
      ...(log?.line === undefined ? {} : { lastLogLine: log.line }),
    });
  });

  test("a long Job message and the longest line with quotes to escape: within a condition's 1024 characters, the end kept", () => {
    const line = `${'"\\'.repeat(99)}…`;
    const message = stalled(
      failed({ pod: `${JOB}-abcde`, line }, `Failed: ${"m".repeat(5000)}`),
    )?.message;
    expect(message?.length).toBeLessThanOrEqual(1024);
    expect(message).toContain(`: ${JSON.stringify(line)}; nothing rolls until`);
    expect(message?.endsWith("nothing rolls until spec.image or spec.release changes")).toBe(true);
  });
});
