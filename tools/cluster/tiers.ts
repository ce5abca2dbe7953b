// The test tiers and which components each one runs.

import type { BinaryName } from "./versions.ts";

/**
 * integration: etcd + kube-apiserver (as envtest). e2e: the whole control plane with fake (kwok)
 * nodes. node: the control plane with one real node — kubelet, containerd, runc, a CNI bridge and
 * kube-proxy — running real containers (root, one per machine).
 */
export type Tier = "integration" | "e2e" | "node";

export const tiers: readonly Tier[] = ["integration", "e2e", "node"];

/** Components, in start order; each is one process. */
export type ComponentName =
  | "etcd"
  | "kube-apiserver"
  | "kube-controller-manager"
  | "kube-scheduler"
  | "kwok"
  | "containerd"
  | "kubelet"
  | "kube-proxy";

export const tierComponents: Record<Tier, readonly ComponentName[]> = {
  integration: ["etcd", "kube-apiserver"],
  e2e: ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"],
  node: [
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "containerd",
    "kubelet",
    "kube-proxy",
  ],
};

/** Binaries a tier needs from tools/cluster: its components (containerd is Debian's), the pause process, and kubectl. */
export const tierBinaries: Record<Tier, readonly BinaryName[]> = {
  integration: ["etcd", "kube-apiserver", "kubectl"],
  e2e: ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kubectl"],
  node: [
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "pause",
    "kubectl",
  ],
};

/** Parses a `--tier` value. */
export function parseTier(value: string | undefined, fallback: Tier): Tier {
  const tier = value ?? fallback;
  if (!(tiers as readonly string[]).includes(tier)) {
    throw new Error(`--tier must be one of ${tiers.join(", ")}, not ${tier}`);
  }
  return tier as Tier;
}
