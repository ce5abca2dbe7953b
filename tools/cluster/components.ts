// Command lines of the control-plane components: pure functions of a cluster's layout.

import { systemCommand } from "../provision/provision.ts";
import type { BinaryPaths } from "./binaries.ts";
import { podNetwork } from "./node.ts";
import type { NodeLayout } from "./node-config.ts";
import type { ComponentName, Tier } from "./tiers.ts";

/** Where everything of one cluster lives; fixed at creation so restarts reuse ports and data. */
export type ClusterLayout = {
  tier: Tier;
  dir: string;
  ports: {
    etcdClient: number;
    etcdPeer: number;
    apiserver: number;
    controllerManager: number;
    scheduler: number;
    kwok: number;
  };
  pki: {
    caCert: string;
    caKey: string;
    apiserverCert: string;
    apiserverKey: string;
    /** The API server's client certificate towards kubelets (node tier). */
    apiserverKubeletClientCert: string | undefined;
    apiserverKubeletClientKey: string | undefined;
    serviceAccountPublicKey: string;
    serviceAccountPrivateKey: string;
  };
  kubeconfigs: {
    admin: string;
    controllerManager: string;
    scheduler: string;
    kwok: string;
  };
  binaries: Partial<BinaryPaths>;
  kwokStagesPath: string;
  /** The real node's paths and ports (node tier only). */
  node?: NodeLayout;
};

/** Pod IPs that kwok hands out (and the node tier's pod network); apart from the Service range. */
export const podCidr = "10.244.0.1/16";
/**
 * The Service (ClusterIP) range of every tier: a /16, room for 65534 Services, as a real cluster
 * has (a /24 gave the 255th app with a port no Service). The one place it is set.
 */
export const serviceCidr = "10.0.0.0/16";

/**
 * The API server's address: loopback, or in the node tier the pod-network gateway, where pods
 * reach it too (the `kubernetes` Service's endpoint).
 */
export function apiserverHost(tier: Tier): string {
  return tier === "node" ? podNetwork.gateway : "127.0.0.1";
}

/** The URL clients use. */
export function serverUrl(layout: ClusterLayout): string {
  return `https://${apiserverHost(layout.tier)}:${layout.ports.apiserver}`;
}

/** etcd for tests: loopback only, no fsync (a test cluster's data is disposable). */
function etcdArgs(l: ClusterLayout): string[] {
  const client = `http://127.0.0.1:${l.ports.etcdClient}`;
  const peer = `http://127.0.0.1:${l.ports.etcdPeer}`;
  return [
    "--name=default",
    `--data-dir=${l.dir}/etcd`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    "--unsafe-no-fsync=true",
    "--log-level=warn",
  ];
}

/**
 * kube-apiserver as envtest runs it, plus what a machine without a default route needs
 * (an explicit loopback advertise address, which the lease endpoint reconciler refuses).
 */
function apiserverArgs(l: ClusterLayout): string[] {
  const host = apiserverHost(l.tier);
  const args = [
    `--etcd-servers=http://127.0.0.1:${l.ports.etcdClient}`,
    `--bind-address=${host}`,
    `--secure-port=${l.ports.apiserver}`,
    `--advertise-address=${host}`,
    // On loopback nobody outside the machine's processes can use the endpoint, and the lease
    // reconciler refuses it; the node tier publishes the gateway as the `kubernetes` Service's
    // endpoint, so pods reach the API server through kube-proxy with in-cluster config.
    `--endpoint-reconciler-type=${l.tier === "node" ? "lease" : "none"}`,
    `--cert-dir=${l.dir}/kube-apiserver`,
    `--tls-cert-file=${l.pki.apiserverCert}`,
    `--tls-private-key-file=${l.pki.apiserverKey}`,
    `--client-ca-file=${l.pki.caCert}`,
    `--service-cluster-ip-range=${serviceCidr}`,
    "--authorization-mode=RBAC",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${l.pki.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${l.pki.serviceAccountPrivateKey}`,
    "--allow-privileged=true",
    "--profiling=false",
  ];
  // Without kube-controller-manager nobody creates the `default` ServiceAccount, so pods would
  // be refused; envtest disables the plugin. The e2e tier keeps it, as real clusters do.
  if (l.tier === "integration") args.push("--disable-admission-plugins=ServiceAccount");
  if (l.tier === "node") {
    args.push(
      // exec, logs and port-forward reach the kubelet with a client certificate of the CA the
      // kubelet trusts, at its InternalIP (the gateway; the hostname resolves to loopback).
      `--kubelet-client-certificate=${l.pki.apiserverKubeletClientCert}`,
      `--kubelet-client-key=${l.pki.apiserverKubeletClientKey}`,
      "--kubelet-preferred-address-types=InternalIP",
    );
  }
  return args;
}

/** Flags every client-go component with a secure health endpoint takes. */
function secureComponentArgs(kubeconfig: string, port: number, certDir: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    `--cert-dir=${certDir}`,
    "--leader-elect=false",
    "--profiling=false",
  ];
}

function controllerManagerArgs(l: ClusterLayout): string[] {
  return [
    ...secureComponentArgs(
      l.kubeconfigs.controllerManager,
      l.ports.controllerManager,
      `${l.dir}/kube-controller-manager`,
    ),
    `--service-account-private-key-file=${l.pki.serviceAccountPrivateKey}`,
    `--root-ca-file=${l.pki.caCert}`,
    `--cluster-signing-cert-file=${l.pki.caCert}`,
    `--cluster-signing-key-file=${l.pki.caKey}`,
    `--service-cluster-ip-range=${serviceCidr}`,
  ];
}

function schedulerArgs(l: ClusterLayout): string[] {
  return secureComponentArgs(l.kubeconfigs.scheduler, l.ports.scheduler, `${l.dir}/kube-scheduler`);
}

/** kwok as kwokctl's binary runtime runs it, with its default stages and a node lease. */
function kwokArgs(l: ClusterLayout): string[] {
  return [
    `--kubeconfig=${l.kubeconfigs.kwok}`,
    `--config=${l.kwokStagesPath}`,
    "--manage-all-nodes=true",
    `--cidr=${podCidr}`,
    "--node-ip=127.0.0.1",
    "--node-name=kwok-controller",
    `--node-port=${l.ports.kwok}`,
    `--server-address=127.0.0.1:${l.ports.kwok}`,
    "--node-lease-duration-seconds=40",
  ];
}

function nodeOf(l: ClusterLayout): NodeLayout {
  if (!l.node) throw new Error(`the ${l.tier} tier has no node`);
  return l.node;
}

function containerdArgs(l: ClusterLayout): string[] {
  return [`--config=${nodeOf(l).containerdConfig}`, "--log-level=warn"];
}

function kubeletArgs(l: ClusterLayout): string[] {
  const n = nodeOf(l);
  return [
    `--config=${n.kubeletConfig}`,
    `--kubeconfig=${n.kubeletKubeconfig}`,
    `--root-dir=${n.kubeletRootDir}`,
    `--cert-dir=${n.dir}/kubelet-pki`,
    `--hostname-override=${n.name}`,
    `--node-ip=${podNetwork.gateway}`,
  ];
}

function kubeProxyArgs(l: ClusterLayout): string[] {
  // --v=2: each rules sync and its duration in the log (how fast endpoints follow pods).
  return [`--config=${nodeOf(l).kubeProxyConfig}`, "--v=2"];
}

/** The command line and environment of one component. */
export function componentCommand(
  name: ComponentName,
  l: ClusterLayout,
): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  const command = name === "containerd" ? systemCommand("containerd") : l.binaries[name];
  if (!command) throw new Error(`no binary for ${name}`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Components must not pick up the user's cluster or proxies.
  delete env.KUBECONFIG;
  for (const key of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) delete env[key];
  env.NO_PROXY = `127.0.0.1,localhost,${podNetwork.subnet}`;
  // The node's components run iptables, runc, mount and the CNI plugins from the sbin directories.
  if (l.tier === "node") env.PATH = `${env.PATH ?? ""}:/usr/local/sbin:/usr/sbin:/sbin`;
  const argsOf: Record<ComponentName, (l: ClusterLayout) => string[]> = {
    etcd: etcdArgs,
    "kube-apiserver": apiserverArgs,
    "kube-controller-manager": controllerManagerArgs,
    "kube-scheduler": schedulerArgs,
    kwok: kwokArgs,
    containerd: containerdArgs,
    kubelet: kubeletArgs,
    "kube-proxy": kubeProxyArgs,
  };
  // kwok also reads ~/.kwok/kwok.yaml when it exists: give it a home of its own.
  if (name === "kwok") env.HOME = `${l.dir}/kwok`;
  return { command, args: argsOf[name](l), env };
}
