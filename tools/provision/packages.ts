// The system packages the project runs: the one list that .ci/run, the test setup, `npm start`
// and `npm run cluster:up` provision from (tools/provision/provision.ts).

/** What a package is needed for; each test project, tier and script asks for its purposes. */
export type Purpose =
  /** the unit tests */
  | "unit"
  /** any local cluster (integration, e2e and node tiers; `npm start` starts an e2e one) */
  | "cluster"
  /** the integration tests */
  | "integration"
  /** the node tier: a real kubelet, containerd, runc, CNI, kube-proxy */
  | "node"
  /** building images without a registry or Docker (`npm run image:build`, the node tier) */
  | "image";

/** One Debian package and how to tell it is there. */
export type SystemPackage = {
  /** The Debian package name. */
  readonly deb: string;
  /** Commands (looked up on PATH and in the sbin directories) or absolute paths it installs. */
  readonly provides: readonly string[];
  readonly for: readonly Purpose[];
  /** Why, in a few words (printed when it is missing). */
  readonly why: string;
};

export const systemPackages: readonly SystemPackage[] = [
  {
    deb: "openssl",
    provides: ["openssl"],
    for: ["cluster"],
    why: "issues the local clusters' certificates (tools/cluster/certs.ts)",
  },
  {
    deb: "curl",
    provides: ["curl"],
    for: ["cluster"],
    why: "the README's walk-throughs, which the quick-start tests run as written",
  },
  {
    deb: "lua5.1",
    provides: ["lua5.1"],
    for: ["unit"],
    why: "runs the Argo CD health check gitops/health.lua in its tests (Argo CD speaks Lua 5.1)",
  },
  {
    deb: "redis-server",
    provides: ["redis-server"],
    for: ["integration"],
    why: "the session-counter example's tests run a real Redis",
  },
  {
    deb: "containerd",
    provides: ["containerd", "containerd-shim-runc-v2", "ctr"],
    for: ["node"],
    why: "the node tier's container runtime",
  },
  { deb: "runc", provides: ["runc"], for: ["node"], why: "runs the node tier's containers" },
  {
    deb: "containernetworking-plugins",
    provides: ["/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/loopback"],
    for: ["node"],
    why: "the node tier's pod network (CNI bridge)",
  },
  {
    deb: "iptables",
    provides: [
      "iptables",
      "iptables-save",
      "iptables-restore",
      "ip6tables",
      "ip6tables-save",
      "ip6tables-restore",
    ],
    for: ["node"],
    why: "kube-proxy's Service rules and the node tier's teardown",
  },
  {
    deb: "iproute2",
    provides: ["ip"],
    for: ["node"],
    why: "the node tier's pod-network bridge",
  },
  {
    deb: "buildah",
    provides: ["buildah"],
    for: ["image"],
    why: "builds the repository's Dockerfiles and the node tier's images without a Docker daemon",
  },
  {
    deb: "debootstrap",
    provides: ["debootstrap"],
    for: ["image"],
    why: "the Debian root filesystem of the local node base image",
  },
];

/** Purposes each consumer needs. */
export const purposesOf = {
  /** `npm test`: every test project. */
  test: ["unit", "cluster", "integration", "node", "image"],
  unit: ["unit"],
  integration: ["cluster", "integration"],
  e2e: ["cluster"],
  node: ["cluster", "node", "image"],
  images: ["image"],
} as const satisfies Record<string, readonly Purpose[]>;

export type Consumer = keyof typeof purposesOf;
