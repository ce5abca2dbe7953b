// Helpers for integration and e2e tests: the tier's client config, namespaces, polling, logs.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeEach, inject } from "vitest";
import type { ProvidedCluster } from "./tier.ts";

/** The tier's cluster as the globalSetup provided it. */
export function providedCluster(): ProvidedCluster {
  return inject("cluster");
}

/** A client-node KubeConfig for the tier's admin user (for tests that use its typed clients). */
export function adminKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(providedCluster().kubeconfig);
  return kc;
}

/** A DNS-label-safe unique name: `<prefix>-<8 hex>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** Polls `fn` until it returns a value other than undefined/false; throws the last error on timeout. */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : "";
      throw new Error(`timed out waiting for ${opts.what ?? "condition"}${why}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
}

/**
 * Creates a namespace for this test file and deletes it after the file. In a tier with a
 * controller-manager it also waits for the `default` ServiceAccount, which pods need.
 */
export async function createTestNamespace(prefix = "test"): Promise<string> {
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  const name = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name } } });
  afterAll(async () => {
    await core.deleteNamespace({ name }).catch(() => {});
  });
  if (providedCluster().tier !== "integration") {
    await eventually(
      () => core.readNamespacedServiceAccount({ name: "default", namespace: name }),
      {
        what: `ServiceAccount ${name}/default`,
      },
    );
  }
  return name;
}

/** Prints the last lines of every component's log when a test of this file fails. */
export function printClusterLogsOnFailure(lines = 60): void {
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      const { dir } = providedCluster();
      if (!dir) return;
      for (const component of [
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok",
        "containerd",
        "kubelet",
        "kube-proxy",
      ]) {
        let text: string;
        try {
          text = readFileSync(join(dir, "logs", `${component}.log`), "utf8");
        } catch {
          continue;
        }
        console.error(`----- ${component} -----\n${text.split("\n").slice(-lines).join("\n")}`);
      }
    });
  });
}
