// PolicyReports in a real kube-apiserver: `audit --cluster --report`, and the operator's periodic
// run as a user holding exactly the RBAC rules the install grants for it.
import { beforeAll, describe, expect, test } from "vitest";
import {
  type PolicyReport,
  policyReportRules,
  REPORT_LABELS,
  REPORT_NAME,
  reportOnce,
} from "../../src/app/reports/index.ts";
import { audit } from "../../src/cli/audit.ts";
import { loadConnection } from "../../src/platform/kube/index.ts";
import {
  connectionTransport,
  type HttpTransport,
  requestJson,
  silentLogger,
} from "../../src/runtime/index.ts";
import { installPolicyReportCrd } from "../fixtures/policy/policy-report-crd.ts";
import { printClusterLogsOnFailure, providedCluster, uniqueName } from "../support/cluster.ts";
import { adminTransport } from "../support/operator.ts";
import { impersonatingKubeconfig } from "./policies-impersonation.ts";

printClusterLogsOnFailure();

const admin = adminTransport();
const reports = (ns: string) => `/apis/wgpolicyk8s.io/v1alpha2/namespaces/${ns}/policyreports`;

async function post(path: string, body: unknown): Promise<void> {
  await requestJson(admin, {
    method: "POST",
    path,
    contentType: "application/json",
    body: JSON.stringify(body),
  });
}

async function namespace(labels: Record<string, string> = {}): Promise<string> {
  const name = uniqueName("reports");
  await post("/api/v1/namespaces", { metadata: { name, labels } });
  return name;
}

const sticky = {
  metadata: { name: "sticky" },
  spec: { sessionAffinity: "ClientIP", ports: [{ port: 80 }] },
};
const plain = { metadata: { name: "plain" }, spec: { ports: [{ port: 80 }] } };
const deployment = {
  metadata: { name: "web" },
  spec: {
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: {
        containers: [
          { name: "web", image: "shop:1", securityContext: { readOnlyRootFilesystem: true } },
        ],
      },
    },
  },
};

const reportOf = (ns: string, name = REPORT_NAME) =>
  requestJson<PolicyReport>(admin, { method: "GET", path: `${reports(ns)}/${name}` }).catch(
    () => undefined,
  );
const outcomes = (report: PolicyReport | undefined) =>
  (report?.results ?? []).map(
    (r) => `${r.resources[0]?.kind}/${r.resources[0]?.name} ${r.rule} ${r.result}`,
  );

async function runAudit(args: readonly string[]) {
  const err: string[] = [];
  const code = await audit(
    ["--cluster", "--kubeconfig", providedCluster().kubeconfig, "-o", "json", ...args],
    {
      stdout: () => {},
      stderr: (t) => err.push(t),
      readInput: () => Promise.reject(new Error("none")),
    },
  );
  return { code, stderr: err.join("") };
}

let audited: string;

beforeAll(async () => {
  await installPolicyReportCrd(admin, "reports-test");
  audited = await namespace({ "twelvefactor.dev/enforce": "audit" });
  await post(`/api/v1/namespaces/${audited}/services`, sticky);
  await post(`/api/v1/namespaces/${audited}/services`, plain);
  await post(`/apis/apps/v1/namespaces/${audited}/deployments`, deployment);
}, 120_000);

describe("audit --cluster --report", () => {
  test("writes the namespace's PolicyReport, one result per rule and object", async () => {
    const { code, stderr } = await runAudit(["-n", audited, "--report"]);
    expect(code).toBe(1); // the sticky Service is an error
    expect(stderr).toContain(`audit: wrote 1 PolicyReport (${audited}), deleted 0 stale`);
    const report = await reportOf(audited);
    expect(report?.metadata.labels).toMatchObject(REPORT_LABELS);
    const results = outcomes(report);
    expect(results).toContain("Service/sticky TF-PROC-001 fail");
    expect(results).toContain("Service/plain TF-PROC-001 pass");
    expect(results).toContain("Deployment/web TF-PROC-011 pass");
    expect(results.filter((r) => r.endsWith(" fail"))).toEqual(["Service/sticky TF-PROC-001 fail"]);
    expect(report?.summary.fail).toBe(1);
    expect(report?.summary.pass).toBe(results.length - 1);
  });

  test("a fixed object passes on the next run, and reports no longer needed are deleted", async () => {
    await post(reports(audited), {
      apiVersion: "wgpolicyk8s.io/v1alpha2",
      kind: "PolicyReport",
      metadata: { name: `${REPORT_NAME}-2`, labels: REPORT_LABELS },
      results: [],
    });
    await requestJson(admin, {
      method: "DELETE",
      path: `/api/v1/namespaces/${audited}/services/sticky`,
    });
    const { code, stderr } = await runAudit(["-n", audited, "--report"]);
    expect(code).toBe(0);
    expect(stderr).toContain("deleted 1 stale");
    expect(outcomes(await reportOf(audited)).some((r) => r.includes("sticky"))).toBe(false);
    expect(await reportOf(audited, `${REPORT_NAME}-2`)).toBeUndefined();
    await post(`/api/v1/namespaces/${audited}/services`, sticky);
  });
});

describe("the operator's periodic reports", () => {
  /** A transport of a user holding only the rules the install grants for reports. */
  async function reporterTransport(): Promise<HttpTransport> {
    const user = uniqueName("reporter");
    await post("/apis/rbac.authorization.k8s.io/v1/clusterroles", {
      metadata: { name: user },
      rules: policyReportRules(),
    });
    await post("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
      metadata: { name: user },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: user },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: user }],
    });
    const path = await impersonatingKubeconfig(user);
    return connectionTransport(await loadConnection({}, { path }));
  }

  test("report opted-in namespaces only, with exactly the RBAC the install grants", async () => {
    const unlabelled = await namespace();
    await post(`/api/v1/namespaces/${unlabelled}/services`, sticky);
    const transport = await reporterTransport();
    const run = await reportOnce(
      {
        transport,
        intervalMs: 60_000,
        namespaces: [audited, unlabelled],
        logger: silentLogger,
        isLeader: () => true,
      },
      new Date(),
    );
    expect(run.problems).toEqual([]);
    expect(run.namespaces).toEqual([audited]);
    expect(outcomes(await reportOf(audited))).toContain("Service/sticky TF-PROC-001 fail");
    expect(await reportOf(unlabelled)).toBeUndefined();
  });
});
