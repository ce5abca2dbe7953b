// One fresh local control plane (etcd + kube-apiserver) per measurement, with the CRD and a namespace.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { HttpTransport } from "../../src/runtime/index.ts";
import { type Cluster, startCluster } from "../../tools/cluster/index.ts";
import { createNamespace, installCrd, transportFor } from "./kube.ts";
import { REPO_ROOT } from "./operator.ts";

export const RESULTS_DIR = join(REPO_ROOT, "bench", "results");
export const LOG_DIR = join(RESULTS_DIR, "logs");

export interface BenchCluster {
  readonly cluster: Cluster;
  readonly transport: HttpTransport;
  readonly namespace: string;
  stop(): Promise<void>;
}

/**
 * A new integration-tier cluster (so every measurement starts from an empty etcd and an idle
 * API server), the StatelessApp CRD installed and one namespace created.
 */
export async function freshCluster(namespace: string, verbose: boolean): Promise<BenchCluster> {
  mkdirSync(LOG_DIR, { recursive: true });
  const cluster = await startCluster({
    tier: "integration",
    // The tier's /24 Service range holds 254 ClusterIPs; every app here has a Service.
    extraArgs: { "kube-apiserver": ["--service-cluster-ip-range=10.0.0.0/16"] },
    log: (line) => {
      if (verbose) console.error(line);
    },
  });
  try {
    const transport = transportFor(cluster.kubeconfigPath);
    await installCrd(transport);
    await createNamespace(transport, namespace);
    return { cluster, transport, namespace, stop: () => cluster.stop() };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}
