// Loads the kubeconfig for `audit --cluster` explicitly: never the client's localhost:8080 fallback.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { err, ok, type Result } from "../../api/index.ts";

export interface KubeConfigOptions {
  /** `--kubeconfig`: wins over everything else. */
  readonly path?: string;
  /** `--context`: instead of the kubeconfig's current context. */
  readonly context?: string;
}

const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/**
 * `--kubeconfig`, else `$KUBECONFIG` (a path list, merged), else `~/.kube/config`, else the
 * in-cluster service account. With none of them this is an error: client-node would otherwise
 * talk to http://localhost:8080, which is never what a user meant.
 */
export function loadKubeConfig(
  options: KubeConfigOptions,
  env: NodeJS.ProcessEnv = process.env,
): Result<KubeConfig, string> {
  const kc = new KubeConfig();
  try {
    const home = join(homedir(), ".kube", "config");
    if (options.path !== undefined) kc.loadFromFile(options.path);
    else if (env.KUBECONFIG) kc.loadFromDefault();
    else if (existsSync(home)) kc.loadFromFile(home);
    else if (env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN)) kc.loadFromCluster();
    else return err("no kubeconfig: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config");
  } catch (error) {
    return err(`cannot load kubeconfig: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (options.context !== undefined) {
    if (kc.getContextObject(options.context) === null)
      return err(`kubeconfig has no context "${options.context}"`);
    kc.setCurrentContext(options.context);
  }
  if (kc.getCurrentCluster() === null)
    return err(`kubeconfig context "${kc.getCurrentContext()}" names no cluster`);
  return ok(kc);
}
