// Setting up a scenario on any cluster: the CRD, a namespace, kubectl, and the operator's cleanup.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { installCrd as installStatelessAppCrd } from "../../../src/cli/install-crd.ts";
import { requestJson } from "../../../src/runtime/index.ts";
import { locateBinary } from "../../../tools/cluster/index.ts";
import { eventually } from "../../support/cluster.ts";
import type { Kube } from "./kube.ts";

/** A DNS-label-safe unique name: `<prefix>-<6 hex>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString("hex")}`;
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns something other than undefined/false (a minute by default). */
export function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  return eventually(fn, { ...options, what, timeoutMs: options.timeoutMs ?? 60_000 });
}

/** Applies the StatelessApp CRD and waits until it is Established. */
export async function installCrd(kube: Kube): Promise<void> {
  await installStatelessAppCrd(kube.transport, "e2e-setup");
}

/** Creates a namespace and waits for its `default` ServiceAccount (pods need it). */
export async function createNamespace(kube: Kube, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await kube.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name } }, "e2e-setup");
  await until(`ServiceAccount ${name}/default`, async () => {
    return requestJson(kube.transport, {
      method: "GET",
      path: `/api/v1/namespaces/${name}/serviceaccounts/default`,
    });
  });
  return name;
}

export type Exec = { code: number; stdout: string; stderr: string };

/** Runs the cluster's kubectl (the built one, else the one on PATH) against `kube`'s kubeconfig. */
export function kubectl(kube: Kube, args: readonly string[], stdin?: string): Promise<Exec> {
  const binary = locateBinary("kubectl") ?? "kubectl";
  return new Promise((resolve) => {
    const child = execFile(
      binary,
      [`--kubeconfig=${kube.kubeconfigPath}`, ...args],
      { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

/** Runs `fn` over `items` with at most `limit` in flight; resolves with the results in order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
