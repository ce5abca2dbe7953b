// The two test tiers and which components each one runs.

import type { BinaryName } from "./versions.ts";

/** integration: etcd + kube-apiserver (as envtest). e2e: the whole control plane with fake nodes. */
export type Tier = "integration" | "e2e";

/** Components, in start order; each is one process. */
export type ComponentName =
  | "etcd"
  | "kube-apiserver"
  | "kube-controller-manager"
  | "kube-scheduler"
  | "kwok";

export const tierComponents: Record<Tier, readonly ComponentName[]> = {
  integration: ["etcd", "kube-apiserver"],
  e2e: ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"],
};

/** Binaries a tier needs: its components plus kubectl for people and tests. */
export const tierBinaries: Record<Tier, readonly BinaryName[]> = {
  integration: [...tierComponents.integration, "kubectl"],
  e2e: [...tierComponents.e2e, "kubectl"],
};
