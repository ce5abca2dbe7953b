// Test access to a cluster the way the operator connects: its own kubeconfig loader and transport.
import { loadConnectionSync } from "../../src/platform/kube/index.ts";
import {
  connectionTransport,
  type PooledTransport,
  type TransportOptions,
} from "../../src/runtime/index.ts";

/** A transport of the operator's kind on a kubeconfig file. */
export function transportOf(
  kubeconfigPath: string,
  options: TransportOptions = {},
): PooledTransport {
  return connectionTransport(loadConnectionSync({}, { path: kubeconfigPath }), options);
}
