// The cluster inventory: versions found per resource, raw objects, owned objects left to their owner.
import { describe, expect, test } from "vitest";
import { discoverTargets, readInventory } from "../../../src/app/reports/index.ts";
import { defaultRuleSet, type Target } from "../../../src/app/rules/index.ts";
import { fakeApi } from "./fake-api.ts";

const gateway = "gateway.networking.k8s.io";
const discovery = {
  "/apis": {
    groups: [
      {
        name: gateway,
        versions: [{ version: "v1" }, { version: "v1alpha2" }],
        preferredVersion: { version: "v1" },
      },
    ],
  },
  "/api/v1": {
    resources: [
      { name: "pods", namespaced: true },
      { name: "pods/status", namespaced: true },
    ],
  },
  [`/apis/${gateway}/v1`]: { resources: [{ name: "httproutes", namespaced: true }] },
  [`/apis/${gateway}/v1alpha2`]: {
    resources: [
      { name: "httproutes", namespaced: true },
      { name: "backendlbpolicies", namespaced: true },
    ],
  },
};

describe("discovery", () => {
  test("finds each resource at the first version that serves it, preferred first", async () => {
    const targets: Target[] = [
      { group: gateway, kind: "HTTPRoute", resource: "httproutes" },
      { group: gateway, kind: "BackendLBPolicy", resource: "backendlbpolicies" },
      { group: gateway, kind: "GRPCRoute", resource: "grpcroutes" },
      { group: "example.com", kind: "Gone", resource: "gones" },
    ];
    const served = await discoverTargets(fakeApi(discovery).transport, targets);
    expect(served.map((s) => `${s.target.resource}@${s.version}`)).toEqual([
      "httproutes@v1",
      "backendlbpolicies@v1alpha2",
    ]);
  });

  test("a group version that fails to answer is a problem, not the end of discovery", async () => {
    const problems: string[] = [];
    const api = fakeApi({
      ...discovery,
      [`/apis/${gateway}/v1`]: { status: 503, body: { kind: "Status", message: "unavailable" } },
    });
    const served = await discoverTargets(
      api.transport,
      [{ group: gateway, kind: "HTTPRoute", resource: "httproutes" }],
      problems,
    );
    expect(served.map((s) => s.version)).toEqual(["v1alpha2"]);
    expect(problems).toEqual([`cannot discover ${gateway}/v1: HTTP 503: unavailable`]);
  });
});

describe("readInventory", () => {
  const pod = (name: string, owner?: Record<string, unknown>) => ({
    metadata: { name, namespace: "shop", ...(owner ? { ownerReferences: [owner] } : {}) },
    // A field no typed client model knows: raw JSON keeps it for the rules.
    spec: { containers: [{ name: "c" }], futureField: { kept: true } },
  });
  const api = () =>
    fakeApi({
      ...discovery,
      "/api/v1/namespaces": { items: [{ metadata: { name: "shop", labels: { a: "b" } } }] },
      "/api/v1/pods": {
        metadata: { resourceVersion: "7" },
        items: [
          pod("bare"),
          pod("of-a-replicaset", {
            apiVersion: "apps/v1",
            kind: "ReplicaSet",
            name: "r",
            controller: true,
          }),
          pod("of-a-rollout-kind-elsewhere", {
            apiVersion: "example.com/v1",
            kind: "ReplicaSet",
            controller: true,
          }),
        ],
      },
    });

  test("keeps objects as served, with apiVersion and kind, and leaves workload-owned ones out", async () => {
    const inventory = await readInventory(api().transport, defaultRuleSet);
    expect(inventory.reachable).toBe(true);
    expect(inventory.objects.map((o) => (o.metadata as { name: string }).name)).toEqual([
      "bare",
      "of-a-rollout-kind-elsewhere",
    ]);
    expect(inventory.objects[0]).toEqual({ apiVersion: "v1", kind: "Pod", ...pod("bare") });
    expect(inventory.namespaces.get("shop")?.labels).toEqual({ a: "b" });
  });

  test("an unreachable server is one problem", async () => {
    const transport = async () => {
      throw new Error("connect ECONNREFUSED 127.0.0.1:1");
    };
    const inventory = await readInventory(transport, defaultRuleSet);
    expect(inventory).toMatchObject({
      reachable: false,
      problems: ["cannot reach the API: connect ECONNREFUSED 127.0.0.1:1"],
    });
  });
});
