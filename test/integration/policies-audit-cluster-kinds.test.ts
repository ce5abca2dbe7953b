// `audit --cluster` finds kinds at whatever version they are served, custom workload kinds, and
// judges exemptions by the live Namespaces, also as a user who may only read one namespace.
import { beforeAll, describe, expect, test } from "vitest";
import { audit } from "../../src/cli/audit.ts";
import { type KubeObject, requestJson } from "../../src/runtime/index.ts";
import { loadCorpus } from "../fixtures/policy/corpus.ts";
import { installStubCrds } from "../fixtures/policy/crds.ts";
import { printClusterLogsOnFailure, providedCluster, uniqueName } from "../support/cluster.ts";
import { adminTransport } from "../support/operator.ts";
import { impersonatingKubeconfig } from "./policies-impersonation.ts";

printClusterLogsOnFailure();

const admin = adminTransport();
const corpus = loadCorpus();

async function runAudit(args: readonly string[], kubeconfig = providedCluster().kubeconfig) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await audit(["--cluster", "--kubeconfig", kubeconfig, "-o", "json", ...args], {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    readInput: () => Promise.reject(new Error("no files in cluster mode")),
  });
  const report = JSON.parse(out.join("")) as {
    findings: {
      ruleId: string;
      path: string;
      object: { kind: string; name: string; apiVersion: string };
      exemption?: { by: string; honoured: boolean };
    }[];
    errors: unknown[];
  };
  return { code, stderr: err.join(""), report };
}

const found = (report: Awaited<ReturnType<typeof runAudit>>["report"]) =>
  report.findings
    .map(
      (f) =>
        `${f.object.apiVersion} ${f.object.kind}/${f.object.name} ${f.ruleId} ${f.path}${f.exemption?.honoured ? " exempt" : ""}`,
    )
    .sort();

/** Creates a corpus fixture, unchanged but for its namespace, as the admin. */
async function create(file: string, namespace: string, options: { unowned?: boolean } = {}) {
  const entry = corpus.find((e) => e.file === file);
  if (entry === undefined) throw new Error(`${file} missing from the corpus`);
  const { apiVersion, kind } = entry.object;
  const group = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const plural =
    { BackendLBPolicy: "backendlbpolicies", HTTPRoute: "httproutes" }[kind] ??
    `${kind.toLowerCase()}s`;
  await requestJson(admin, {
    method: "POST",
    path: `${group}/namespaces/${namespace}/${plural}`,
    contentType: "application/json",
    body: JSON.stringify({
      ...entry.object,
      metadata: {
        ...entry.object.metadata,
        namespace,
        ...(options.unowned ? { ownerReferences: [] } : {}),
      },
    }),
  });
}

async function createNamespace(metadata: KubeObject["metadata"]): Promise<string> {
  const name = uniqueName("audit-kinds");
  await requestJson(admin, {
    method: "POST",
    path: "/api/v1/namespaces",
    contentType: "application/json",
    body: JSON.stringify({ metadata: { ...metadata, name } }),
  });
  return name;
}

let plain: string;
let allowing: string;
let adminExempted: string;

beforeAll(async () => {
  await installStubCrds(admin, corpus, "audit-kinds-test");
  plain = await createNamespace({});
  allowing = await createNamespace({ labels: { "twelvefactor.dev/exemptions": "allowed" } });
  adminExempted = await createNamespace({
    annotations: {
      "twelvefactor.dev/exempt": "TF-PROC-011",
      "twelvefactor.dev/exempt-reason": "Windows nodes, reviewed by platform team",
    },
  });
  for (const file of [
    "backendlbpolicy-session-persistence.yaml",
    "httproute-session-persistence.yaml",
    "argo-rollout-writable.yaml",
    "deployment-exempt-annotation.yaml",
  ])
    await create(file, plain);
  await create("deployment-exempt-annotation.yaml", allowing);
  await create("pod-windows.yaml", adminExempted, { unowned: true });
}, 120_000);

describe("audit --cluster discovery", () => {
  test("lists each kind at a version that serves it, not only the group's preferred one", async () => {
    const { code, report } = await runAudit(["-n", plain]);
    expect(code).toBe(1);
    expect(report.errors).toEqual([]);
    expect(found(report).filter((f) => f.includes("gateway.networking.k8s.io"))).toEqual(
      [
        "gateway.networking.k8s.io/v1 HTTPRoute/shop TF-PROC-004 spec.rules[1].sessionPersistence",
        "gateway.networking.k8s.io/v1alpha2 BackendLBPolicy/shop-web TF-PROC-004 spec.sessionPersistence",
      ].sort(),
    );
  });

  test("checks shipped workload kinds (an Argo Rollout) through their pod template", async () => {
    const { report } = await runAudit(["-n", plain]);
    expect(found(report).filter((f) => f.includes("Rollout/"))).toEqual([
      "argoproj.io/v1alpha1 Rollout/shop-canary TF-PROC-010 spec.template.spec.volumes[0].emptyDir.sizeLimit",
      "argoproj.io/v1alpha1 Rollout/shop-canary TF-PROC-011 spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem",
    ]);
  });
});

describe("audit --cluster exemptions, judged by the live Namespace", () => {
  const legacy = (verdict: string) => [
    `apps/v1 Deployment/legacy-reports TF-PROC-010 spec.template.spec.volumes[0].emptyDir.sizeLimit${verdict}`,
    `apps/v1 Deployment/legacy-reports TF-PROC-011 spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem${verdict}`,
  ];

  test("an object's own exemption counts only where its Namespace allows it", async () => {
    expect(
      found((await runAudit(["-n", plain])).report).filter((f) => f.includes("legacy")),
    ).toEqual(legacy(""));
    const { code, report } = await runAudit(["-n", allowing]);
    expect(found(report)).toEqual(legacy(" exempt"));
    expect(code).toBe(0);
  });

  test("a Namespace's exemption counts for the objects in it", async () => {
    const { code, report } = await runAudit(["-n", adminExempted]);
    expect(found(report)).toEqual([
      "v1 Pod/shop-win TF-PROC-011 spec.os.name exempt",
      "v1 Pod/shop-win TF-PROC-014 metadata.ownerReferences",
    ]);
    expect(report.findings.find((f) => f.ruleId === "TF-PROC-011")?.exemption?.by).toBe(
      "namespace",
    );
    expect(code).toBe(0); // advice (info) does not fail at --fail-on error
  });

  test("a user who may only view one namespace audits it; unreadable Namespaces honour no object exemption", async () => {
    const user = uniqueName("viewer");
    // What a tenant's read-only Role typically holds (the aggregated `view` role needs a
    // controller-manager to be filled in, which this tier does not run).
    await requestJson(admin, {
      method: "POST",
      path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${allowing}/roles`,
      contentType: "application/json",
      body: JSON.stringify({
        metadata: { name: user },
        rules: [
          { apiGroups: [""], resources: ["pods", "services"], verbs: ["get", "list"] },
          {
            apiGroups: ["apps"],
            resources: ["deployments", "replicasets"],
            verbs: ["get", "list"],
          },
        ],
      }),
    });
    await requestJson(admin, {
      method: "POST",
      path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${allowing}/rolebindings`,
      contentType: "application/json",
      body: JSON.stringify({
        metadata: { name: user },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: user },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: user }],
      }),
    });
    const path = await impersonatingKubeconfig(user);

    const { report, stderr } = await runAudit(["-n", allowing], path);
    expect(stderr).toMatch(/cannot read namespaces \(HTTP 403/);
    expect(found(report)).toEqual(legacy(""));
    // What the viewer may not list is reported, not silently skipped.
    expect(JSON.stringify(report.errors)).toMatch(/cannot list .*HTTP 403/);
  });
});
