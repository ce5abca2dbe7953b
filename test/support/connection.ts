// Test access to a cluster the way the operator connects: its own kubeconfig loader and transport.
import { loadConnectionSync } from "../../src/platform/kube/index.ts";
import {
  connectionTransport,
  type HttpTransport,
  type TransportOptions,
} from "../../src/runtime/index.ts";

/** A transport of the operator's kind on a kubeconfig file. */
export function transportOf(kubeconfigPath: string, options: TransportOptions = {}): HttpTransport {
  return connectionTransport(loadConnectionSync({}, { path: kubeconfigPath }), options);
}
