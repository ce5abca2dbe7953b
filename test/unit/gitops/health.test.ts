// Runs gitops/health.lua in a real Lua 5.1 (Argo CD's gopher-lua dialect) on statuses computeStatus writes.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { V1Deployment } from "@kubernetes/client-node";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import type { StatelessApp, StatelessAppStatus } from "../../../src/api/index.ts";
import { type BindingOutcome, computeStatus } from "../../../src/app/status/index.ts";
import { app } from "../../fixtures/apps.ts";

const root = resolve(import.meta.dirname, "../../..");
const HEALTH = join(root, "gitops/health.lua");
/** Debian's lua5.1 (`.ci/run` installs it); Argo CD's interpreter implements Lua 5.1. */
const LUA = process.env.LUA ?? "lua5.1";
const NOW = "2026-11-28T12:00:00Z";

/** A JSON value as a Lua table constructor, the way Argo CD hands `obj` to the script. */
function toLua(value: unknown): string {
  if (value === null || value === undefined) return "nil";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `{${value.map(toLua).join(", ")}}`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `[${JSON.stringify(k)}] = ${toLua(v)}`);
  return `{${entries.join(", ")}}`;
}

interface Health {
  readonly status: string;
  readonly message: string;
}

function health(object: unknown, script = HEALTH): Health {
  const program = [
    `obj = ${toLua(object)}`,
    `local hs = dofile(${JSON.stringify(script)})`,
    'io.write(hs.status, "\\n", hs.message or "")',
  ].join("\n");
  const out = execFileSync(LUA, ["-"], { input: program, encoding: "utf8" });
  const [status = "", ...message] = out.split("\n");
  return { status, message: message.join("\n") };
}

const deployment = (replicas: number, ready = replicas, generation = 1): V1Deployment => ({
  metadata: { generation },
  spec: { replicas, selector: {}, template: {} },
  status: {
    observedGeneration: generation,
    replicas,
    updatedReplicas: ready,
    readyReplicas: ready,
    availableReplicas: ready,
  },
});

const shop = (spec: Partial<StatelessApp["spec"]> = {}, generation = 1): StatelessApp =>
  app(
    {
      processes: [
        { name: "web", replicas: 2 },
        { name: "worker", replicas: 1 },
      ],
      backingServices: [{ name: "sessions", type: "redis", secretRef: { name: "shop-redis" } }],
      ...spec,
    },
    { generation },
  );

const resolved: BindingOutcome[] = [
  { name: "sessions", type: "redis", secretName: "shop-binding-sessions" },
];
const rolledOut = new Map([
  ["web", deployment(2)],
  ["worker", deployment(1)],
]);

/** The object as the API server holds it after the operator's status write. */
function withStatus(a: StatelessApp, status: StatelessAppStatus): StatelessApp {
  return { ...a, status };
}

function reconciled(
  a: StatelessApp,
  deployments: Map<string, V1Deployment>,
  extra: {
    bindings?: BindingOutcome[];
    applyError?: string;
    applyRetrying?: string;
    invalid?: string[];
  } = {},
): StatelessApp {
  return withStatus(
    a,
    computeStatus({
      app: a,
      deployments,
      bindings: extra.bindings ?? resolved,
      ...(extra.applyError === undefined ? {} : { applyError: extra.applyError }),
      ...(extra.applyRetrying === undefined ? {} : { applyRetrying: extra.applyRetrying }),
      ...(extra.invalid === undefined ? {} : { invalid: extra.invalid }),
      now: NOW,
    }),
  );
}

describe("gitops/health.lua", () => {
  test("no status yet: Progressing", () => {
    expect(health(shop())).toEqual({
      status: "Progressing",
      message: "Waiting for the operator to report a status",
    });
  });

  test("every process rolled out: Healthy, with the summary", () => {
    expect(health(reconciled(shop(), rolledOut))).toEqual({
      status: "Healthy",
      message: "web 2/2, worker 1/1",
    });
  });

  test("a rollout under way: Progressing (Reconciling True)", () => {
    const h = health(
      reconciled(
        shop(),
        new Map([
          ["web", deployment(2, 1)],
          ["worker", deployment(1)],
        ]),
      ),
    );
    expect(h.status).toBe("Progressing");
    expect(h.message).toContain("web 1/2");
  });

  test("a missing Secret: Degraded, naming it (Stalled True, BindingsNotReady)", () => {
    const problem = 'Secret "shop-redis" not found';
    const h = health(
      reconciled(shop(), rolledOut, {
        bindings: [{ name: "sessions", type: "redis", problem }],
      }),
    );
    expect(h).toEqual({ status: "Degraded", message: problem });
  });

  test("children the API server refuses: Degraded (ApplyFailed)", () => {
    const h = health(reconciled(shop(), rolledOut, { applyError: "Deployment shop-web: denied" }));
    expect(h).toEqual({ status: "Degraded", message: "Deployment shop-web: denied" });
  });

  test("a child write being retried: Progressing, naming the child and the API server's message", () => {
    const failure = "Service shop-web: failed to allocate a serviceIP: range is full (HTTP 500)";
    const h = health(reconciled(shop(), rolledOut, { applyRetrying: failure }));
    expect(h).toEqual({ status: "Progressing", message: `${failure}; retrying` });
  });

  test("an invalid spec: Degraded (InvalidSpec)", () => {
    const h = health(reconciled(shop(), new Map(), { invalid: ["spec.image: required"] }));
    expect(h.status).toBe("Degraded");
    expect(h.message).toContain("spec.image: required");
  });

  test("paused: Suspended, even though what runs is Ready", () => {
    const paused = reconciled(shop({ paused: true }), rolledOut);
    expect(paused.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(health(paused).status).toBe("Suspended");
  });

  test("paused with a broken binding: Degraded wins over Suspended", () => {
    const h = health(
      reconciled(shop({ paused: true }), rolledOut, {
        bindings: [{ name: "sessions", type: "redis", problem: "key password missing" }],
      }),
    );
    expect(h.status).toBe("Degraded");
  });

  test("a status for an older generation: Progressing, whatever it said", () => {
    const healthy = reconciled(shop(), rolledOut);
    const edited = { ...healthy, metadata: { ...healthy.metadata, generation: 2 } };
    expect(health(edited)).toEqual({
      status: "Progressing",
      message: "Waiting for the operator to observe generation 2",
    });
    const stalled = reconciled(shop(), rolledOut, { applyError: "denied" });
    expect(health({ ...stalled, metadata: { ...stalled.metadata, generation: 2 } }).status).toBe(
      "Progressing",
    );
  });

  test("follows a whole rollout: Progressing until every process is available, then Healthy", () => {
    const steps: [Map<string, V1Deployment>, string][] = [
      [new Map(), "Progressing"],
      [new Map([["web", deployment(2, 0)]]), "Progressing"],
      [
        new Map([
          ["web", deployment(2, 2)],
          ["worker", deployment(1, 0)],
        ]),
        "Progressing",
      ],
      [rolledOut, "Healthy"],
    ];
    let current = shop();
    const seen: string[] = [];
    for (const [deployments, expected] of steps) {
      current = reconciled(current, deployments);
      // kstatus: Reconciling and Stalled appear only while True; Ready is always there.
      const types = (current.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`);
      expect(types).toContain(expected === "Healthy" ? "Ready=True" : "Ready=False");
      expect(types.filter((t) => /^(Reconciling|Stalled)=False$/.test(t))).toEqual([]);
      seen.push(health(current).status);
    }
    expect(seen).toEqual(steps.map(([, expected]) => expected));
  });

  test("the argocd-cm snippet carries exactly this script under the StatelessApp key", () => {
    const cm = parse(readFileSync(join(root, "gitops/argocd-cm.yaml"), "utf8")) as {
      kind: string;
      metadata: { name: string };
      data: Record<string, string>;
    };
    expect(cm.kind).toBe("ConfigMap");
    expect(cm.metadata.name).toBe("argocd-cm");
    expect(Object.keys(cm.data)).toEqual([
      "resource.customizations.health.twelvefactor.dev_StatelessApp",
    ]);
    expect(cm.data["resource.customizations.health.twelvefactor.dev_StatelessApp"]).toBe(
      readFileSync(HEALTH, "utf8"),
    );
  });
});
