// What most e2e files run against: a namespace of their own and an operator process watching it.

import { redisSecret } from "./apps.ts";
import type { Kube } from "./kube.ts";
import { OperatorProcess } from "./operator-process.ts";
import { createNamespace, installCrd } from "./setup.ts";

export interface Scenario {
  readonly ns: string;
  readonly operator: OperatorProcess;
}

/**
 * Installs the CRD, creates a namespace named after `name` (with the Redis Secret `redis`
 * unless `redis: false`) and starts an operator process that watches only it.
 */
export async function startScenario(
  kube: Kube,
  name: string,
  options: { redis?: boolean; env?: Record<string, string> } = {},
): Promise<Scenario> {
  await installCrd(kube);
  const ns = await createNamespace(kube, name);
  if (options.redis !== false) await kube.apply(redisSecret(ns));
  try {
    const operator = await OperatorProcess.start({
      name,
      kubeconfig: kube.kubeconfigPath,
      namespaces: [ns],
      ...(options.env === undefined ? {} : { env: options.env }),
    });
    return { ns, operator };
  } catch (error) {
    // The caller never learns the namespace's name: delete it here.
    await kube.delete("Namespace", undefined, ns);
    throw error;
  }
}

/** Stops the operator and deletes the namespace: whatever of the scenario was started. */
export async function stopScenario(kube: Kube, scenario: Partial<Scenario>): Promise<void> {
  await scenario.operator?.stop();
  if (scenario.ns !== undefined) await kube.delete("Namespace", undefined, scenario.ns);
}
