// `audit --cluster` against a real kube-apiserver: read-only listing, findings, owned objects skipped.
import { AppsV1Api, CoreV1Api, type V1Deployment } from "@kubernetes/client-node";
import { beforeAll, describe, expect, test } from "vitest";
import { audit } from "../../src/cli/audit.ts";
import type { CommandIo } from "../../src/cli/io.ts";
import {
  adminKubeConfig,
  createTestNamespace,
  printClusterLogsOnFailure,
  providedCluster,
} from "../support/cluster.ts";

printClusterLogsOnFailure();

const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);

const writable = { name: "web", image: "registry.example.com/shop:1.4.2" };
const readOnly = { ...writable, securityContext: { readOnlyRootFilesystem: true } };
const labels = { app: "shop" };

async function runAudit(args: readonly string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    readInput: () => Promise.reject(new Error("no files in cluster mode")),
  };
  const code = await audit(
    ["--cluster", "--kubeconfig", providedCluster().kubeconfig, "-o", "json", ...args],
    io,
  );
  return {
    code,
    stderr: err.join(""),
    report: JSON.parse(out.join("")) as {
      summary: { objects: number };
      findings: {
        ruleId: string;
        path: string;
        object: { kind: string; name: string; namespace: string };
      }[];
      errors: unknown[];
    },
  };
}

describe("audit --cluster", () => {
  let namespace: string;

  beforeAll(async () => {
    namespace = await createTestNamespace("audit");
    await core.createNamespacedService({
      namespace,
      body: {
        metadata: { name: "sticky" },
        spec: { sessionAffinity: "ClientIP", selector: labels, ports: [{ port: 80 }] },
      },
    });
    await core.createNamespacedService({
      namespace,
      body: { metadata: { name: "plain" }, spec: { selector: labels, ports: [{ port: 80 }] } },
    });
    const deployment: V1Deployment = await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: "shop-web" },
        spec: {
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [readOnly],
              volumes: [{ name: "data", hostPath: { path: "/srv" } }],
            },
          },
        },
      },
    });
    // What a controller-manager would create: a ReplicaSet and a pod the Deployment owns. They
    // repeat the Deployment's template, so audit reports the Deployment only.
    const owner = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "shop-web",
      uid: deployment.metadata?.uid ?? "",
      controller: true,
    };
    const replicaSet = await apps.createNamespacedReplicaSet({
      namespace,
      body: {
        metadata: { name: "shop-web-1", ownerReferences: [owner] },
        spec: {
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [writable] } },
        },
      },
    });
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: {
          name: "shop-web-1-abcde",
          labels,
          ownerReferences: [
            {
              apiVersion: "apps/v1",
              kind: "ReplicaSet",
              name: "shop-web-1",
              uid: replicaSet.metadata?.uid ?? "",
              controller: true,
            },
          ],
        },
        spec: { containers: [writable] },
      },
    });
    // A pod nobody owns is reported, with the advice.
    await core.createNamespacedPod({
      namespace,
      body: { metadata: { name: "one-off" }, spec: { containers: [writable] } },
    });
  });

  test("reports the namespace's violations with their objects and fields, and exits 1", async () => {
    const { code, report, stderr } = await runAudit(["--namespace", namespace]);
    expect(code).toBe(1);
    expect(report.errors).toEqual([]);
    const found = report.findings
      .map((f) => `${f.object.kind}/${f.object.name} ${f.ruleId} ${f.path}`)
      .sort();
    expect(found).toEqual([
      "Deployment/shop-web TF-PROC-006 spec.template.spec.volumes[0].hostPath",
      "Pod/one-off TF-PROC-011 spec.containers[0].securityContext.readOnlyRootFilesystem",
      "Pod/one-off TF-PROC-014 metadata.ownerReferences",
      "Service/sticky TF-PROC-001 spec.sessionAffinity",
    ]);
    expect(report.findings.every((f) => f.object.namespace === namespace)).toBe(true);
    // Two Services, the Deployment and the unowned pod; the owned ReplicaSet and pod are skipped.
    expect(report.summary.objects).toBe(4);
    expect(stderr).toMatch(/^audit: services: 2 in namespace /m);
  });

  test("without --namespace, reads every namespace", async () => {
    const { report } = await runAudit([]);
    expect(report.findings.some((f) => f.object.namespace === namespace)).toBe(true);
  });

  test("an unreachable API server is unreadable input: exit 2", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await audit(
      ["--cluster", "--kubeconfig", "test/fixtures/policy/audit/kubeconfig.yaml"],
      {
        stdout: (t) => out.push(t),
        stderr: (t) => err.push(t),
        readInput: () => Promise.reject(new Error("unused")),
      },
    );
    expect(code).toBe(2);
    expect(err.join("")).toContain("cannot reach the API");
  });
});
