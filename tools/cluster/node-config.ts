// Configuration files of the node tier's containerd, CNI bridge, kubelet and kube-proxy: pure
// functions of the cluster's layout. Every path is below the cluster's directory, every port on
// loopback or the pod-network gateway, and each setting here was needed on these machines
// (see the comments and /work/shared/notes/real-node.md).

import { stringify } from "yaml";
import { podNetwork, sandboxImage } from "./node.ts";

/** The node tier's paths and ports (part of ClusterLayout). */
export type NodeLayout = {
  /** The Node's name: the machine's hostname, as the kubelet registers it. */
  name: string;
  dir: string;
  containerdConfig: string;
  containerdSocket: string;
  cniConfDir: string;
  kubeletConfig: string;
  kubeletKubeconfig: string;
  kubeletRootDir: string;
  kubeProxyConfig: string;
  kubeProxyKubeconfig: string;
  caCert: string;
  ports: {
    kubelet: number;
    kubeletHealthz: number;
    kubeProxyHealthz: number;
    kubeProxyMetrics: number;
  };
};

/** containerd 1.6 (Debian's) with the CRI plugin, everything below the node's directory. */
export function containerdConfig(n: NodeLayout): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return [
    "version = 2",
    `root = "${n.dir}/containerd/root"`,
    `state = "${n.dir}/containerd/state"`,
    // Plugins this tier does not use; they only log errors on this machine.
    'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]',
    "[grpc]",
    `  address = "${n.containerdSocket}"`,
    "[ttrpc]",
    `  address = "${n.containerdSocket}.ttrpc"`,
    "[metrics]",
    '  address = ""',
    `[plugins."io.containerd.internal.v1.opt"]`,
    `  path = "${n.dir}/containerd/opt"`,
    `[${cri}]`,
    `  sandbox_image = "${sandboxImage}"`,
    // Root here lacks CAP_SYS_RESOURCE: without this every sandbox fails ("can't get final
    // child's PID from pipe: EOF", from runc failing to write /proc/self/oom_score_adj).
    "  restrict_oom_score_adj = true",
    // Sandboxes' network namespaces below the state directory, not in /run/netns.
    "  netns_mounts_under_state_dir = true",
    "  enable_unprivileged_ports = true",
    '  stream_server_address = "127.0.0.1"',
    `[${cri}.containerd]`,
    '  snapshotter = "overlayfs"',
    '  default_runtime_name = "runc"',
    `[${cri}.containerd.runtimes.runc]`,
    '  runtime_type = "io.containerd.runc.v2"',
    `[${cri}.containerd.runtimes.runc.options]`,
    "  SystemdCgroup = false",
    // runc's container state below the node's directory, not in /run/containerd/runc.
    `  Root = "${n.dir}/containerd/runc"`,
    `[${cri}.cni]`,
    '  bin_dir = "/usr/lib/cni"',
    `  conf_dir = "${n.cniConfDir}"`,
    `[${cri}.registry]`,
    '  config_path = ""',
    "",
  ].join("\n");
}

/**
 * The pod network: Debian's CNI bridge plugin on our own bridge, whose gateway is the host (and
 * the API server's address). No masquerading: pods only talk to the host and to each other.
 */
export function cniConfig(n: NodeLayout): string {
  return JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: "stateless-operator",
      plugins: [
        {
          type: "bridge",
          bridge: podNetwork.bridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: "host-local",
            ranges: [[{ subnet: podNetwork.subnet, gateway: podNetwork.gateway }]],
            routes: [{ dst: "0.0.0.0/0" }],
            dataDir: `${n.dir}/cni/ipam`,
          },
        },
        { type: "loopback" },
      ],
    },
    null,
    2,
  );
}

/** The kubelet's KubeletConfiguration. */
export function kubeletConfig(n: NodeLayout): string {
  return stringify({
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    // cgroups are hybrid (v1) here; kubelets ≥ 1.35 refuse v1 unless told otherwise.
    failCgroupV1: false,
    cgroupDriver: "cgroupfs",
    containerRuntimeEndpoint: `unix://${n.containerdSocket}`,
    // Serves on the pod-network gateway only (the API server reaches it there), not on the
    // machine's own network; health on loopback; no unauthenticated read-only port.
    address: podNetwork.gateway,
    port: n.ports.kubelet,
    healthzBindAddress: "127.0.0.1",
    healthzPort: n.ports.kubeletHealthz,
    readOnlyPort: 0,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: n.caCert },
    },
    authorization: { mode: "Webhook" },
    podLogsDir: `${n.dir}/pod-logs`,
    volumePluginDir: `${n.dir}/kubelet-plugins`,
    // The shared disk looks mostly used to the kubelet: keep eviction and image GC out of the way.
    evictionHard: {
      "memory.available": "100Mi",
      "nodefs.available": "1%",
      "nodefs.inodesFree": "1%",
      "imagefs.available": "1%",
    },
    imageGCHighThresholdPercent: 99,
    imageGCLowThresholdPercent: 98,
    // Pods' files and Secret updates show quickly (the rotation tests).
    syncFrequency: "10s",
    fileCheckFrequency: "10s",
    // emptyDir usage is measured this often (default 1m, jittered up to 2m): the eviction of a
    // pod past its scratch sizeLimit (real pods 3) then comes within about 20 s, not 2 min.
    volumeStatsAggPeriod: "10s",
    nodeStatusUpdateFrequency: "4s",
    // No cluster DNS: pods get the host's resolv.conf (Services are addressed by ClusterIP).
    resolvConf: "/etc/resolv.conf",
    failSwapOn: false,
    maxPods: 110,
    shutdownGracePeriod: "0s",
    serializeImagePulls: false,
  });
}

/** kube-proxy in iptables mode, leaving route_localnet and the conntrack sysctls alone. */
export function kubeProxyConfig(n: NodeLayout): string {
  return stringify({
    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
    kind: "KubeProxyConfiguration",
    mode: "iptables",
    clientConnection: { kubeconfig: n.kubeProxyKubeconfig },
    hostnameOverride: n.name,
    clusterCIDR: podNetwork.subnet,
    bindAddress: podNetwork.gateway,
    healthzBindAddress: `127.0.0.1:${n.ports.kubeProxyHealthz}`,
    metricsBindAddress: `127.0.0.1:${n.ports.kubeProxyMetrics}`,
    // NodePorts only on the pod-network gateway, never on the machine's own addresses.
    nodePortAddresses: [`${podNetwork.gateway}/32`],
    iptables: { localhostNodePorts: false, syncPeriod: "30s", minSyncPeriod: "0s" },
    conntrack: {
      maxPerCore: 0,
      min: 0,
      tcpEstablishedTimeout: "0s",
      tcpCloseWaitTimeout: "0s",
    },
  });
}
