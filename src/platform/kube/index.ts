// Connecting to the API server: the one kubeconfig / service-account loader.
// client-node.ts is not re-exported: importing it loads client-node (~90 MiB), which the
// loader does only for a user that needs it.
export {
  type KubeConfigOptions,
  loadConnection,
  loadConnectionSync,
  NoClusterError,
  tokenFileReader,
} from "./connection.ts";
