// The baseline: a tight client (its own process) that writes each app's Deployment, Service and status directly.
//
// It does what the operator must do at the least: one list of the apps, then per app the
// server-side applies of its Deployment and Service and of its status, with `WORKERS` apps in
// flight, on the operator's transport kind. No caches, no watches, no comparisons.

import type { V1Deployment } from "@kubernetes/client-node";
import { FIELD_MANAGER, parseStatelessApp } from "../src/api/index.ts";
import { desired } from "../src/app/render/index.ts";
import { computeStatus } from "../src/app/status/index.ts";
import { loadKubeConfig } from "../src/platform/kubeconfig.ts";
import {
  builtinResources,
  type HttpTransport,
  instrumentTransport,
  type KubeObject,
  kubeConfigTransport,
  requestJson,
  resourcePath,
} from "../src/runtime/index.ts";
import { APPS_PATH, listAll } from "./lib/kube.ts";

const RESOURCES: Record<string, (typeof builtinResources)[keyof typeof builtinResources]> = {
  Deployment: builtinResources.deployment,
  Service: builtinResources.service,
};

function apply(transport: HttpTransport, path: string, body: unknown, verb: string) {
  return requestJson<KubeObject>(transport, {
    method: "PATCH",
    verb,
    path,
    query: { fieldManager: FIELD_MANAGER, force: true },
    contentType: "application/apply-patch+yaml",
    body: JSON.stringify(body),
  });
}

async function converge(transport: HttpTransport, raw: KubeObject): Promise<void> {
  const parsed = parseStatelessApp(raw);
  if (!parsed.ok) throw new Error(`invalid app ${raw.metadata?.name}`);
  const app = parsed.value;
  const deployments = new Map<string, V1Deployment>();
  for (const object of desired(app, { bindings: { resolved: [], hash: "" } }).objects) {
    const type = RESOURCES[object.kind ?? ""];
    if (type === undefined) throw new Error(`the baseline does not write ${object.kind}`);
    const path = resourcePath(type, {
      namespace: object.metadata?.namespace,
      name: object.metadata?.name,
    });
    const written = await apply(transport, path, object, "apply");
    if (object.kind === "Deployment") {
      const proc = app.spec.processes.find(
        (p) => `${app.metadata.name}-${p.name}` === object.metadata?.name,
      );
      if (proc !== undefined) deployments.set(proc.name, written as unknown as V1Deployment);
    }
  }
  const status = computeStatus({ app, deployments, bindings: [], now: new Date().toISOString() });
  await apply(
    transport,
    `${APPS_PATH(app.metadata.namespace ?? "")}/${app.metadata.name}/status`,
    {
      apiVersion: raw.apiVersion,
      kind: raw.kind,
      metadata: { name: app.metadata.name, namespace: app.metadata.namespace },
      status,
    },
    "apply-status",
  );
}

async function main(): Promise<void> {
  const namespace = process.env.BENCH_NAMESPACE ?? "";
  const workers = Number(process.env.WORKERS ?? "4");
  const counts: Record<string, number> = {};
  const transport = instrumentTransport(kubeConfigTransport(loadKubeConfig(process.env)), {
    request: (verb) => {
      counts[verb] = (counts[verb] ?? 0) + 1;
    },
  });
  const apps = await listAll(transport, APPS_PATH(namespace));
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < apps.length) {
        const app = apps[next++];
        if (app !== undefined) await converge(transport, app);
      }
    }),
  );
  const cpu = process.cpuUsage();
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(`${JSON.stringify({ apps: apps.length, requests: counts, cpuSeconds })}\n`);
}

await main();
