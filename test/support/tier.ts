// vitest globalSetup core: starts one tier per run (or uses TEST_KUBECONFIG) and provides it to tests.
//
// The binaries are built before vitest runs (`pretest`), so a missing binary here is an error:
// the tier fails loudly, it is never skipped.

import { existsSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { type Cluster, startCluster, type Tier } from "../../tools/cluster/index.ts";
import { type ImageName, imageRef } from "../../tools/images/images.ts";
import { provision } from "../../tools/provision/provision.ts";

/** What tests of a tier get through `inject("cluster")`. */
export type ProvidedCluster = {
  tier: Tier;
  /** Admin kubeconfig (system:masters). */
  kubeconfig: string;
  /** False when TEST_KUBECONFIG named an existing cluster. */
  local: boolean;
  /** The local cluster's directory (logs/<component>.log), null for an existing cluster. */
  dir: string | null;
  /** The built kubectl, null when unknown (use the one on PATH). */
  kubectl: string | null;
  /** Component pids of a local cluster. */
  pids: Record<string, number>;
  /** Node tier: the real node's name and the images (tools/images) imported into its containerd. */
  node?: { name: string; images: Partial<Record<ImageName, string>> };
};

declare module "vitest" {
  export interface ProvidedContext {
    cluster: ProvidedCluster;
  }
}

/** Environment variable that carries a tier's kubeconfig path to child processes of tests. */
export function kubeconfigEnvName(tier: Tier): string {
  return `STATELESS_OPERATOR_${tier.toUpperCase()}_KUBECONFIG`;
}

/**
 * Starts `tier` once for the whole run and returns the teardown. With TEST_KUBECONFIG set, the
 * cluster it names is used instead (e.g. a kind cluster); nothing is started or stopped.
 */
export async function setupTier(
  project: TestProject,
  tier: Tier,
  opts: { images?: readonly ImageName[] } = {},
): Promise<(() => Promise<void>) | undefined> {
  const images = Object.fromEntries((opts.images ?? []).map((i) => [i, imageRef(i)]));
  // `npm test` provisioned everything first (pretest); a direct vitest run provisions here.
  provision(tier, { log: (line) => console.error(`[${tier}] ${line}`) });
  const existing = process.env.TEST_KUBECONFIG;
  if (existing) {
    if (!existsSync(existing)) throw new Error(`TEST_KUBECONFIG=${existing} does not exist`);
    console.error(`[${tier}] using the existing cluster of TEST_KUBECONFIG=${existing}`);
    project.provide("cluster", {
      tier,
      kubeconfig: existing,
      local: false,
      dir: null,
      kubectl: null,
      pids: {},
      // An existing cluster must have the images under these names (e.g. `kind load`).
      ...(tier === "node" ? { node: { name: "", images } } : {}),
    });
    process.env[kubeconfigEnvName(tier)] = existing;
    return undefined;
  }
  let cluster: Cluster;
  try {
    cluster = await startCluster({
      tier,
      images: opts.images,
      log: (line) => console.error(`[${tier}] ${line}`),
    });
  } catch (err) {
    throw new Error(
      `the ${tier} tier could not start: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  project.provide("cluster", {
    tier,
    kubeconfig: cluster.kubeconfigPath,
    local: true,
    dir: cluster.dir,
    kubectl: cluster.kubectlPath ?? null,
    pids: cluster.pids(),
    ...(cluster.nodeName ? { node: { name: cluster.nodeName, images } } : {}),
  });
  process.env[kubeconfigEnvName(tier)] = cluster.kubeconfigPath;
  return async () => {
    if (cluster.unexpectedExits.length > 0) {
      console.error(`[${tier}] components died during the run:\n${cluster.logTails(60)}`);
    }
    await cluster.stop();
  };
}
