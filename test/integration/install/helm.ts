// Runs the helm built from the Go module proxy (tools/cluster); a missing binary fails loudly.
import { resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { locateBinary } from "../../../tools/cluster/index.ts";
import { type KubectlResult, runTool } from "./kubectl.ts";

const root = resolve(import.meta.dirname, "../../..");
export const chartPath = resolve(root, "charts/stateless-operator");

export function helmBinary(): string {
  const helm = locateBinary("helm");
  if (helm === undefined)
    throw new Error("helm is not built: run `npm run cluster:build` (it builds helm too)");
  return helm;
}

/** helm with its own state directories (no user's repositories or plugins); never throws on exit code. */
export function helm(args: readonly string[], kubeconfig?: string): Promise<KubectlResult> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    HELM_CACHE_HOME: resolve(root, ".cluster/helm/cache"),
    HELM_CONFIG_HOME: resolve(root, ".cluster/helm/config"),
    HELM_DATA_HOME: resolve(root, ".cluster/helm/data"),
    ...(kubeconfig === undefined ? {} : { KUBECONFIG: kubeconfig }),
  };
  return runTool(helmBinary(), args, { env });
}

/** `helm template` of the chart with `--set` pairs; throws with stderr unless it renders. */
export async function renderChart(
  namespace: string,
  set: Record<string, string> = {},
): Promise<Record<string, unknown>[]> {
  const r = await helm(templateArgs(namespace, set));
  if (r.code !== 0) throw new Error(`helm template exited ${r.code}:\n${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((o): o is Record<string, unknown> => o !== null);
}

export function templateArgs(namespace: string, set: Record<string, string> = {}): string[] {
  return [
    "template",
    "stateless-operator",
    chartPath,
    "--namespace",
    namespace,
    ...Object.entries(set).flatMap(([k, v]) => ["--set", `${k}=${v}`]),
  ];
}
