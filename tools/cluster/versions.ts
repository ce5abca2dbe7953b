// The pinned versions of every control-plane component the test tiers run.

/** Kubernetes release: kube-apiserver, kube-controller-manager, kube-scheduler, kubectl. */
export const kubernetesVersion = "v1.36.3";
/** etcd server release (3.6 line: kube-apiserver 1.36 is tested against it). */
export const etcdVersion = "v3.6.16";
/** kwok release (fake nodes; targets Kubernetes 1.36). */
export const kwokVersion = "v0.8.0";

/** The Go wrapper modules under tools/cluster/go/, one per upstream project whose deps must not mix. */
export const goModules = {
  kubernetes: {
    dir: "kubernetes",
    module: "k8s.io/kubernetes",
    version: kubernetesVersion,
    tools: {
      "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
      "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
      "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
      kubectl: "k8s.io/kubernetes/cmd/kubectl",
    },
  },
  etcd: {
    dir: "etcd",
    module: "go.etcd.io/etcd/server/v3",
    version: etcdVersion,
    tools: { etcd: "go.etcd.io/etcd/server/v3" },
  },
  kwok: {
    dir: "kwok",
    module: "sigs.k8s.io/kwok",
    version: kwokVersion,
    tools: { kwok: "sigs.k8s.io/kwok/cmd/kwok" },
  },
} as const;

export type GoModuleName = keyof typeof goModules;
export type BinaryName =
  | keyof (typeof goModules)["kubernetes"]["tools"]
  | keyof (typeof goModules)["etcd"]["tools"]
  | keyof (typeof goModules)["kwok"]["tools"];

/** Every binary a tier may need, in build order (small and most needed first). */
export const binaryNames: readonly BinaryName[] = [
  "etcd",
  "kube-apiserver",
  "kubectl",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
];
