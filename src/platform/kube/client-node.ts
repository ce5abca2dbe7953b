// client-node's KubeConfig, for what only it can do: exec plugins and auth providers (and `audit --cluster`'s typed clients, for now). Never a silent default.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import type { RequestCredentials } from "../../runtime/index.ts";
import { type KubeConfigOptions, NoClusterError } from "./connection.ts";

/**
 * The given file, else KUBECONFIG (a path list, merged as kubectl merges it), else
 * ~/.kube/config, else in-cluster when running in a pod. client-node's loadFromDefault() falls
 * back to http://localhost:8080 when nothing is configured; that would point the operator at
 * whatever listens there, so it is refused here.
 */
export function loadKubeConfig(
  env: Readonly<Record<string, string | undefined>>,
  options: KubeConfigOptions = {},
): KubeConfig {
  const kc = new KubeConfig();
  const files = (env.KUBECONFIG ?? "").split(":").filter((f) => f !== "");
  const defaultFile = join(env.HOME ?? homedir(), ".kube", "config");
  try {
    if (options.path !== undefined) {
      kc.loadFromFile(options.path);
    } else if (files.length > 0) {
      const missing = files.filter((f) => !existsSync(f));
      if (missing.length === files.length) {
        throw new NoClusterError(`KUBECONFIG names no readable file: ${missing.join(", ")}`);
      }
      const [only] = files;
      if (files.length === 1 && only !== undefined) kc.loadFromFile(only);
      else kc.loadFromDefault();
    } else if (existsSync(defaultFile)) {
      kc.loadFromFile(defaultFile);
    } else if (
      env.KUBERNETES_SERVICE_HOST !== undefined &&
      env.KUBERNETES_SERVICE_PORT !== undefined
    ) {
      kc.loadFromCluster();
    } else {
      throw new NoClusterError(
        "no cluster configured: set KUBECONFIG, create ~/.kube/config, or run inside a pod (npm start starts a local cluster when none is configured)",
      );
    }
  } catch (error) {
    if (error instanceof NoClusterError) throw error;
    throw new NoClusterError(
      `cannot load the kubeconfig: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (options.context !== undefined) {
    if (kc.getContextObject(options.context) === null)
      throw new NoClusterError(`the kubeconfig has no context "${options.context}"`);
    kc.setCurrentContext(options.context);
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null || cluster.server === "") {
    throw new NoClusterError(
      `the kubeconfig's current context "${kc.getCurrentContext()}" names no cluster with a server`,
    );
  }
  return kc;
}

/**
 * The current user's credentials as client-node computes them, per request: it runs exec plugins
 * (caching their credential until it expires), which answer with a token or a client certificate
 * and key, and refreshes auth-provider tokens.
 */
export function clientNodeAuthorizer(
  env: Readonly<Record<string, string | undefined>>,
  options: KubeConfigOptions = {},
): () => Promise<RequestCredentials> {
  const kubeConfig = loadKubeConfig(env, options);
  return async (): Promise<RequestCredentials> => {
    const opts: {
      headers?: Record<string, string>;
      cert?: Buffer | string;
      key?: Buffer | string;
    } = {};
    await kubeConfig.applyToHTTPSOptions(opts);
    const authorization = opts.headers?.Authorization ?? opts.headers?.authorization;
    return {
      ...(authorization === undefined ? {} : { headers: { Authorization: authorization } }),
      ...(opts.cert === undefined ? {} : { cert: opts.cert }),
      ...(opts.key === undefined ? {} : { key: opts.key }),
    };
  };
}
