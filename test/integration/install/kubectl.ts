// Runs the tier's kubectl (with its built-in kustomize) against the tier's cluster, as admin or another user.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { toYamlDocuments } from "../../../src/cli/yaml.ts";
import { adminKubeConfig, providedCluster } from "../../support/cluster.ts";

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; never throws on a non-zero exit (the caller asserts). */
export function runTool(
  binary: string,
  args: readonly string[],
  options: { cwd?: string; env: NodeJS.ProcessEnv },
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      [...args],
      { cwd: options.cwd, env: options.env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") {
          reject(error);
          return;
        }
        resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** kubectl with the admin kubeconfig; never throws on a non-zero exit (the caller asserts). */
export function kubectl(
  args: readonly string[],
  options: { cwd?: string; kubeconfig?: string } = {},
): Promise<KubectlResult> {
  const cluster = providedCluster();
  return runTool(cluster.kubectl ?? "kubectl", args, {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: { ...process.env, KUBECONFIG: options.kubeconfig ?? cluster.kubeconfig },
  });
}

/** Like kubectl(), but throws with stderr unless the exit code is 0. */
export async function kubectlOk(
  args: readonly string[],
  options: { cwd?: string; kubeconfig?: string } = {},
): Promise<string> {
  const r = await kubectl(args, options);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${r.code}:\n${r.stderr}`);
  return r.stdout;
}

export function parseObjects(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((o): o is Record<string, unknown> => o !== null);
}

const isPolicy = (o: Record<string, unknown>) =>
  String(o.kind).startsWith("ValidatingAdmissionPolicy");

/**
 * Splits an install file for a cluster that other test files share: the admission policies are
 * also applied (with force) by the policies test, and `matchConstraints` / `matchResources` are
 * atomic structs the API server defaults, so a second field manager applying the same value still
 * conflicts. The rest is applied for real; the policies only in a server-side dry run.
 */
export function splitPolicies(file: string): { workload: string; policies: string } {
  const objects = parseObjects(readFileSync(file, "utf8"));
  const dir = mkdtempSync(join(tmpdir(), "install-split-"));
  const workload = join(dir, "workload.yaml");
  const policies = join(dir, "policies.yaml");
  writeFileSync(workload, toYamlDocuments(objects.filter((o) => !isPolicy(o))));
  writeFileSync(policies, toYamlDocuments(objects.filter(isPolicy)));
  return { workload, policies };
}

/**
 * The overlay docs/install.md gives a team: manifests/namespaced in `namespace`, with the
 * metrics-auth ClusterRoleBinding renamed after the namespace, so that several installs (and a
 * cluster-wide one) each keep a binding of their own.
 */
export function namespacedOverlay(root: string, namespace: string): string {
  const dir = mkdtempSync(join(tmpdir(), "namespaced-overlay-"));
  writeFileSync(
    join(dir, "kustomization.yaml"),
    [
      "apiVersion: kustomize.config.k8s.io/v1beta1",
      "kind: Kustomization",
      `namespace: ${namespace}`,
      "resources:",
      `  - ${relative(dir, join(root, "manifests/namespaced"))}`,
      "patches:",
      "  - target: { kind: ClusterRoleBinding, name: stateless-operator-metrics-auth }",
      `    patch: '[{"op": "replace", "path": "/metadata/name", "value": "stateless-operator-metrics-auth-${namespace}"}]'`,
      "",
    ].join("\n"),
  );
  return dir;
}

/** A kubeconfig in `dir` that authenticates with a TokenRequest token of ServiceAccount `namespace/name`. */
export async function serviceAccountKubeconfig(
  namespace: string,
  name: string,
  dir: string,
): Promise<string> {
  const token = (
    await kubectlOk(["create", "token", name, "-n", namespace, "--duration=1h"])
  ).trim();
  const cluster = adminKubeConfig().getCurrentCluster();
  if (cluster === null) throw new Error("the admin kubeconfig has no cluster");
  const user = `system:serviceaccount:${namespace}:${name}`;
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "test",
        cluster: { server: cluster.server, "certificate-authority-data": cluster.caData ?? "" },
      },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: "operator", context: { cluster: "test", user } }],
    "current-context": "operator",
  };
  const path = join(dir, `${namespace}-${name}.kubeconfig`);
  writeFileSync(path, stringify(config), { mode: 0o600 });
  return path;
}
