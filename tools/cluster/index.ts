// Public surface of the local control plane: start a tier, locate or build its binaries.

export { type BinaryPaths, cacheBinDir, ensureBinaries, locateBinary } from "./binaries.ts";
export {
  Cluster,
  nodeName,
  type StartClusterOptions,
  startCluster,
  type UnexpectedExit,
} from "./cluster.ts";
export { type ComponentName, type Tier, tierBinaries, tierComponents } from "./tiers.ts";
export {
  etcdVersion,
  kubernetesVersion,
  kwokVersion,
  selectedKubernetesVersion,
  supportedKubernetes,
} from "./versions.ts";
