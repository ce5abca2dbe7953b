// Tracks when every app of a namespace (or of many) has its Deployment, its Service and an up-to-date status.
import type { HttpTransport, KubeObject } from "../../src/runtime/index.ts";
import { APPS_PATH, currentVersion, DEPLOYMENTS_PATH, SERVICES_PATH } from "./kube.ts";
import { type AppRef, keyOf } from "./spread.ts";
import { type Watch, watchCollection } from "./watch.ts";

export interface Convergence {
  /** Resolves with performance.now() of the event that completed the last app. */
  readonly done: Promise<number>;
  counts(): { deployments: number; services: number; statuses: number };
  stop(): Promise<void>;
}

const observed = (o: KubeObject) => {
  const status = (o as { status?: { observedGeneration?: number } }).status;
  return (
    status?.observedGeneration !== undefined && status.observedGeneration === o.metadata?.generation
  );
};

/**
 * Starts watching the namespace from now: only changes after this call count, so it must be
 * called before anything writes the children or statuses of `apps`.
 */
export function trackConvergence(
  transport: HttpTransport,
  namespace: string,
  apps: readonly string[],
): Promise<Convergence> {
  return track(
    transport,
    namespace,
    apps.map((name) => ({ namespace, name })),
  );
}

/**
 * The same for apps in any number of namespaces, with one cluster-wide watch per kind (a watch
 * per namespace would be thousands of connections at 2000 namespaces).
 */
export function trackConvergenceEverywhere(
  transport: HttpTransport,
  apps: readonly AppRef[],
): Promise<Convergence> {
  return track(transport, undefined, apps);
}

async function track(
  transport: HttpTransport,
  namespace: string | undefined,
  apps: readonly AppRef[],
): Promise<Convergence> {
  const want = new Set(apps.map(keyOf));
  const key = (o: KubeObject, name = o.metadata?.name ?? "") =>
    `${o.metadata?.namespace ?? ""}/${name}`;
  const deployments = new Set<string>();
  const services = new Set<string>();
  const statuses = new Set<string>();
  let resolve: (at: number) => void = () => {};
  const done = new Promise<number>((r) => {
    resolve = r;
  });
  const check = (at: number) => {
    if (
      deployments.size === want.size &&
      services.size === want.size &&
      statuses.size === want.size
    )
      resolve(at);
  };
  const child = (set: Set<string>) => (e: { type: string; object: KubeObject; at: number }) => {
    const name = e.object.metadata?.name ?? "";
    const app = name.endsWith("-web") ? key(e.object, name.slice(0, -4)) : "";
    if (e.type !== "DELETED" && want.has(app) && !set.has(app)) {
      set.add(app);
      check(e.at);
    }
  };
  const [appsPath, deploymentsPath, servicesPath] = [
    APPS_PATH(namespace),
    DEPLOYMENTS_PATH(namespace),
    SERVICES_PATH(namespace),
  ];
  const [rvApps, rvDeployments, rvServices] = await Promise.all(
    [appsPath, deploymentsPath, servicesPath].map((p) => currentVersion(transport, p)),
  );
  const watches: Watch[] = [
    watchCollection(transport, appsPath, rvApps ?? "", (e) => {
      const app = key(e.object);
      if (e.type !== "DELETED" && want.has(app) && !statuses.has(app) && observed(e.object)) {
        statuses.add(app);
        check(e.at);
      }
    }),
    watchCollection(transport, deploymentsPath, rvDeployments ?? "", child(deployments)),
    watchCollection(transport, servicesPath, rvServices ?? "", child(services)),
  ];
  return {
    done,
    counts: () => ({
      deployments: deployments.size,
      services: services.size,
      statuses: statuses.size,
    }),
    stop: async () => {
      await Promise.all(watches.map((w) => w.stop()));
    },
  };
}
