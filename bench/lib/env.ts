// One fresh local control plane (etcd + kube-apiserver) per measurement, with the CRD and a namespace.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { HttpTransport } from "../../src/runtime/index.ts";
import { type Cluster, startCluster } from "../../tools/cluster/index.ts";
import { createNamespace, installCrd, transportFor } from "./kube.ts";

export const REPO_ROOT = join(import.meta.dirname, "..", "..");
export const RESULTS_DIR = join(REPO_ROOT, "bench", "results");
/** This run's own directory (the compiled operator, logs, profiles): concurrent runs never share one. */
export const RUN_DIR = join(
  RESULTS_DIR,
  `run-${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}`,
);
export const LOG_DIR = join(RUN_DIR, "logs");

const cleanups = new Set<() => Promise<unknown>>();

/** Registers something to stop if the benchmark is interrupted; returns the unregister function. */
export function stopOnInterrupt(stop: () => Promise<unknown>): () => void {
  cleanups.add(stop);
  return () => cleanups.delete(stop);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}: stopping the clusters and processes it started …`);
    void Promise.allSettled([...cleanups].map((stop) => stop())).then(() => process.exit(130));
  });
}

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
    tier: "integration", // its Service range (tools/cluster serviceCidr) holds 65534 ClusterIPs
    log: (line) => {
      if (verbose) console.error(line);
    },
  });
  const forget = stopOnInterrupt(() => cluster.stop());
  const stop = async () => {
    forget();
    await cluster.stop();
  };
  try {
    const transport = transportFor(cluster.kubeconfigPath);
    await installCrd(transport);
    await createNamespace(transport, namespace);
    return { cluster, transport, namespace, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
