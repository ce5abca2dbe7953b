// The install on the full control plane: the operator's pods pass Pod Security "restricted", roles aggregate, `kubectl wait` sees a sample Ready.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { stringify } from "yaml";
import { NAMESPACE, SERVICE_ACCOUNT } from "../../../scripts/install/index.ts";
import { kubectl, kubectlOk, splitPolicies } from "../../integration/install/kubectl.ts";
import {
  baseEnv,
  type OperatorProcess,
  startOperatorProcess,
} from "../../integration/install/operator-process.ts";
import {
  adminKubeConfig,
  createTestNamespace,
  eventually,
  printClusterLogsOnFailure,
  uniqueName,
} from "../../support/cluster.ts";

const root = resolve(import.meta.dirname, "../../..");
const SA_USER = `system:serviceaccount:${NAMESPACE}:${SERVICE_ACCOUNT}`;

printClusterLogsOnFailure();

interface Access {
  readonly user: string;
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace?: string;
}

/**
 * Asks the API server's authorizer through a SubjectAccessReview (`kubectl auth can-i` answers
 * "no" for a resource type discovery does not know, such as a Provisioned Service kind not
 * installed here).
 */
async function canI(access: Access): Promise<boolean> {
  const { user, ...resourceAttributes } = access;
  const file = join(mkdtempSync(join(tmpdir(), "sar-")), "review.json");
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: { user, groups: ["system:authenticated"], resourceAttributes },
    }),
  );
  const review = JSON.parse(await kubectlOk(["create", "-f", file, "-o", "json"])) as {
    status: { allowed: boolean };
  };
  return review.status.allowed;
}

describe("the install on a full control plane", () => {
  let ns = "";
  beforeAll(async () => {
    const { workload } = splitPolicies(join(root, "dist/install.yaml"));
    const r = await kubectl(["apply", "--server-side", "-f", workload]);
    expect(r.code, r.stderr).toBe(0);
    await kubectlOk(["wait", "--for=condition=Established", "crd/statelessapps.twelvefactor.dev"]);
    ns = await createTestNamespace("install");
  }, 120_000);

  test("the operator Deployment rolls out in its restricted namespace (Pod Security admits its pods)", async () => {
    const r = await kubectl([
      "rollout",
      "status",
      "deployment/stateless-operator",
      "-n",
      NAMESPACE,
      "--timeout=100s",
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const pods = JSON.parse(
      await kubectlOk([
        "get",
        "pods",
        "-n",
        NAMESPACE,
        "-l",
        "app.kubernetes.io/name=stateless-operator",
        "-o",
        "json",
      ]),
    ) as { items: { spec: { serviceAccountName: string } }[] };
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items) expect(pod.spec.serviceAccountName).toBe(SERVICE_ACCOUNT);
  }, 120_000);

  test("namespace edit users manage StatelessApps and view users read them (aggregated roles)", async () => {
    const editor = uniqueName("editor");
    const viewer = uniqueName("viewer");
    await kubectlOk([
      "create",
      "rolebinding",
      editor,
      "--clusterrole=edit",
      `--user=${editor}`,
      "-n",
      ns,
    ]);
    await kubectlOk([
      "create",
      "rolebinding",
      viewer,
      "--clusterrole=view",
      `--user=${viewer}`,
      "-n",
      ns,
    ]);
    const sapps = { group: "twelvefactor.dev", resource: "statelessapps", namespace: ns };
    await eventually(() => canI({ user: editor, verb: "create", ...sapps }), {
      what: "edit to include StatelessApps",
    });
    await eventually(() => canI({ user: viewer, verb: "list", ...sapps }), {
      what: "view to include StatelessApps",
    });
    expect(await canI({ user: editor, verb: "delete", ...sapps })).toBe(true);
    expect(await canI({ user: viewer, verb: "create", ...sapps })).toBe(false);
    // Status is the operator's: neither users nor editors write it.
    expect(await canI({ user: editor, verb: "patch", subresource: "status", ...sapps })).toBe(
      false,
    );
  }, 60_000);

  test("a labelled ClusterRole extends the operator's Provisioned Service access", async () => {
    const name = uniqueName("provisioned");
    const kind = { user: SA_USER, group: "redis.example.com", resource: "redisinstances" };
    expect(await canI({ ...kind, verb: "list" })).toBe(false);
    const file = join(mkdtempSync(join(tmpdir(), "provisioned-")), "role.yaml");
    writeFileSync(
      file,
      stringify({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: {
          name,
          labels: { "twelvefactor.dev/aggregate-to-provisioned-services": "true" },
        },
        rules: [
          {
            apiGroups: ["redis.example.com"],
            resources: ["redisinstances"],
            verbs: ["get", "list", "watch"],
          },
        ],
      }),
    );
    await kubectlOk(["apply", "-f", file]);
    try {
      await eventually(() => canI({ ...kind, verb: "watch" }), {
        what: "the provisioned-services role to aggregate the new rule",
      });
      expect(await canI({ ...kind, verb: "list", namespace: ns })).toBe(true);
      expect(await canI({ ...kind, verb: "delete", namespace: ns })).toBe(false);
    } finally {
      await kubectl(["delete", "clusterrole", name]);
    }
  }, 60_000);

  describe("with the operator running as its ServiceAccount", () => {
    let operator: OperatorProcess | undefined;
    const recycledApp = {
      apiVersion: "twelvefactor.dev/v1alpha1",
      kind: "StatelessApp",
      metadata: { name: "recycled" },
      spec: {
        image: "registry.example.com/recycled:1.0.0",
        processes: [{ name: "web", replicas: 2 }],
        maxPodLifetime: "1m",
      },
    };
    /** Log records that show a permission the shipped RBAC lacks, or a write that failed. */
    const operatorProblems = () =>
      (operator?.records ?? [])
        .filter(
          (r) =>
            (typeof r.level === "number" && r.level >= 40) || /forbidden/i.test(JSON.stringify(r)),
        )
        .map((r) => JSON.stringify(r));
    beforeAll(async () => {
      const token = (
        await kubectlOk(["create", "token", SERVICE_ACCOUNT, "-n", NAMESPACE, "--duration=1h"])
      ).trim();
      const cluster = adminKubeConfig().getCurrentCluster();
      if (cluster === null) throw new Error("no cluster");
      const dir = mkdtempSync(join(tmpdir(), "e2e-install-"));
      const kubeconfig = join(dir, "kubeconfig");
      writeFileSync(
        kubeconfig,
        stringify({
          apiVersion: "v1",
          kind: "Config",
          clusters: [
            {
              name: "e2e",
              cluster: { server: cluster.server, "certificate-authority-data": cluster.caData },
            },
          ],
          users: [{ name: SA_USER, user: { token } }],
          contexts: [{ name: "operator", context: { cluster: "e2e", user: SA_USER } }],
          "current-context": "operator",
        }),
        { mode: 0o600 },
      );
      operator = startOperatorProcess({
        args: ["src/cli/main.ts", "run"],
        cwd: root,
        env: baseEnv({
          HOME: dir,
          KUBECONFIG: kubeconfig,
          WATCH_NAMESPACES: ns,
          HTTP_ADDRESS: "127.0.0.1:0",
          METRICS_ADDRESS: "127.0.0.1:0",
          POD_NAMESPACE: NAMESPACE,
          POD_NAME: uniqueName("e2e-install"),
        }),
      });
      await operator.endpoint();
      // Started now so its one-minute lifetime runs out while the tests below go on.
      const recycledFile = join(dir, "recycled.yaml");
      writeFileSync(recycledFile, stringify(recycledApp));
      await kubectlOk(["apply", "-n", ns, "-f", recycledFile]);
    }, 60_000);
    afterAll(async () => {
      await operator?.stop();
    });

    test("kubectl wait --for=condition=Ready returns once a sample has rolled out", async () => {
      // shop: web and worker, a Redis binding, Memory scratch.
      await kubectlOk(["apply", "-n", ns, "-f", join(root, "manifests/samples/shop.yaml")]);
      const r = await kubectl([
        "wait",
        "-n",
        ns,
        "--for=condition=Ready",
        "statelessapp/shop",
        "--timeout=100s",
      ]);
      expect(r.code, `${r.stderr}\n${operator?.tail() ?? ""}`).toBe(0);
      const app = JSON.parse(await kubectlOk(["get", "sapp", "shop", "-n", ns, "-o", "json"])) as {
        metadata: { generation: number };
        status: { observedGeneration: number; summary: string };
      };
      expect(app.status.observedGeneration).toBe(app.metadata.generation);
      expect(app.status.summary).toBe("web 2/2, worker 1/1");
      const columns = await kubectlOk(["get", "sapp", "shop", "-n", ns]);
      expect(columns).toMatch(/shop\s+True\s+web 2\/2, worker 1\/1/);
    }, 120_000);

    test("a sticky Service is set back and the repeat joins one Event series (events create and patch as the ServiceAccount)", async () => {
      const sticky = JSON.stringify({ spec: { sessionAffinity: "ClientIP" } });
      for (let i = 0; i < 2; i++) {
        await kubectlOk(["patch", "service", "shop-web", "-n", ns, "-p", sticky]);
        await eventually(
          async () => {
            const affinity = await kubectlOk([
              "get",
              "service",
              "shop-web",
              "-n",
              ns,
              "-o",
              "jsonpath={.spec.sessionAffinity}",
            ]);
            return affinity === "None" ? true : undefined;
          },
          { what: "the operator to set sessionAffinity back to None" },
        );
      }
      // Sticky sessions break the rules, so the correction is a ForbiddenRemoved Warning; the
      // repeat is counted into the first Event and written as a series update within 30 s.
      const series = await eventually(
        async () => {
          const events = JSON.parse(
            await kubectlOk(["get", "events.events.k8s.io", "-n", ns, "-o", "json"]),
          ) as { items: { reason?: string; note?: string; series?: { count: number } }[] };
          const found = events.items.find(
            (e) =>
              e.reason === "ForbiddenRemoved" &&
              e.note?.startsWith("Service shop-web") === true &&
              (e.series?.count ?? 1) >= 2,
          );
          if (found !== undefined) return found;
          const seen = events.items
            .filter((e) => e.note?.includes("shop-web") === true)
            .map((e) => `${e.reason} ×${e.series?.count ?? 1}: ${e.note}`);
          throw new Error(`events about shop-web so far: ${seen.join(" | ") || "none"}`);
        },
        { what: "a ForbiddenRemoved Event with series.count ≥ 2", timeoutMs: 60_000 },
      );
      expect(series.series?.count).toBeGreaterThanOrEqual(2);
      expect(operatorProblems()).toEqual([]);
    }, 120_000);

    test("an aged pod is evicted and the recycle recorded (pods/eviction as the ServiceAccount)", async () => {
      const recycled = await eventually(
        async () => {
          const events = JSON.parse(
            await kubectlOk(["get", "events.events.k8s.io", "-n", ns, "-o", "json"]),
          ) as { items: { reason?: string; regarding?: { name?: string } }[] };
          return events.items.find(
            (e) => e.reason === "Recycled" && e.regarding?.name === recycledApp.metadata.name,
          );
        },
        { what: "a Recycled Event for the aged pods", timeoutMs: 150_000, intervalMs: 1_000 },
      );
      expect(recycled).toBeDefined();
      expect(operatorProblems()).toEqual([]);
    }, 180_000);
  });
});
