// The baseline: a tight client (its own process) that writes each app's Deployment, Service and status directly.
//
// It does what the operator must do at the least: one list of the apps (per named namespace, or
// one across all of them when BENCH_NAMESPACE is empty), then per app the server-side applies of
// its Deployment and Service and of its status, with `WORKERS` apps in flight, on the operator's
// transport kind. No caches, no watches, no comparisons.
//
// It loads the operator's code from BENCH_LIB_ROOT (the compiled snapshot the operator runs
// from), so edits to src/ during a run change neither side; src/ itself by default.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { V1Deployment } from "@kubernetes/client-node";
import type { HttpTransport, KubeObject } from "../src/runtime/index.ts";

const root = process.env.BENCH_LIB_ROOT ?? join(import.meta.dirname, "..", "src");
const ext = process.env.BENCH_LIB_EXT ?? "ts";
const load = (path: string): Promise<unknown> =>
  import(pathToFileURL(join(root, `${path}.${ext}`)).href);

const api = (await load("api/index")) as typeof import("../src/api/index.ts");
const render = (await load("app/render/index")) as typeof import("../src/app/render/index.ts");
const status = (await load("app/status/index")) as typeof import("../src/app/status/index.ts");
const kube = (await load("platform/kube/index")) as typeof import("../src/platform/kube/index.ts");
const runtime = (await load("runtime/index")) as typeof import("../src/runtime/index.ts");

type Transport = HttpTransport;

/** The apps of namespace `ns`, or of every namespace when `ns` is undefined. */
const appsPath = (ns?: string) =>
  ns === undefined
    ? "/apis/twelvefactor.dev/v1alpha1/statelessapps"
    : `/apis/twelvefactor.dev/v1alpha1/namespaces/${ns}/statelessapps`;

const RESOURCES: Record<
  string,
  (typeof runtime.builtinResources)[keyof typeof runtime.builtinResources]
> = {
  Deployment: runtime.builtinResources.deployment,
  Service: runtime.builtinResources.service,
};

function apply(transport: Transport, path: string, body: unknown, verb: string) {
  return runtime.requestJson<KubeObject>(transport, {
    method: "PATCH",
    verb,
    path,
    query: { fieldManager: api.FIELD_MANAGER, force: true },
    contentType: "application/apply-patch+yaml",
    body: JSON.stringify(body),
  });
}

async function listApps(
  transport: Transport,
  namespace: string | undefined,
): Promise<KubeObject[]> {
  const items: KubeObject[] = [];
  let token: string | undefined;
  do {
    const page = await runtime.requestJson<{
      items: KubeObject[];
      metadata?: { continue?: string };
    }>(transport, {
      method: "GET",
      verb: "list",
      path: appsPath(namespace),
      query: { limit: 500, continue: token },
    });
    items.push(...page.items);
    token = page.metadata?.continue || undefined;
  } while (token !== undefined);
  return items;
}

async function converge(transport: Transport, raw: KubeObject): Promise<void> {
  const parsed = api.parseStatelessApp(raw);
  if (!parsed.ok) throw new Error(`invalid app ${raw.metadata?.name}`);
  const app = parsed.value;
  const deployments = new Map<string, V1Deployment>();
  for (const object of render.desired(app, { bindings: { resolved: [], hash: "" } }).objects) {
    const type = RESOURCES[object.kind ?? ""];
    if (type === undefined) throw new Error(`the baseline does not write ${object.kind}`);
    const path = runtime.resourcePath(type, {
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
  const computed = status.computeStatus({
    app,
    deployments,
    bindings: [],
    now: new Date().toISOString(),
  });
  await apply(
    transport,
    `${appsPath(app.metadata.namespace ?? "")}/${app.metadata.name}/status`,
    {
      apiVersion: raw.apiVersion,
      kind: raw.kind,
      metadata: { name: app.metadata.name, namespace: app.metadata.namespace },
      status: computed,
    },
    "apply-status",
  );
}

async function main(): Promise<void> {
  // One namespace, or several, comma-separated (the many-namespaces run); empty: every
  // namespace, with one paged list across all of them (as a cluster-wide operator lists).
  const named = (process.env.BENCH_NAMESPACE ?? "").split(",").filter((ns) => ns !== "");
  const namespaces = named.length > 0 ? named : [undefined];
  const workers = Number(process.env.WORKERS ?? "4");
  const counts: Record<string, number> = {};
  const transport = runtime.instrumentTransport(
    runtime.connectionTransport(await kube.loadConnection(process.env)),
    {
      request: (verb) => {
        counts[verb] = (counts[verb] ?? 0) + 1;
      },
    },
  );
  const apps: KubeObject[] = [];
  for (const namespace of namespaces) apps.push(...(await listApps(transport, namespace)));
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
