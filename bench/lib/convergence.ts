// Tracks when every app of a namespace has its Deployment, its Service and an up-to-date status.
import type { HttpTransport, KubeObject } from "../../src/runtime/index.ts";
import { APPS_PATH, currentVersion, DEPLOYMENTS_PATH, SERVICES_PATH } from "./kube.ts";
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
export async function trackConvergence(
  transport: HttpTransport,
  namespace: string,
  apps: readonly string[],
): Promise<Convergence> {
  const want = new Set(apps);
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
    const app = name.endsWith("-web") ? name.slice(0, -4) : "";
    if (e.type !== "DELETED" && want.has(app) && !set.has(app)) {
      set.add(app);
      check(e.at);
    }
  };
  const [rvApps, rvDeployments, rvServices] = await Promise.all(
    [APPS_PATH, DEPLOYMENTS_PATH, SERVICES_PATH].map((p) =>
      currentVersion(transport, p(namespace)),
    ),
  );
  const watches: Watch[] = [
    watchCollection(transport, APPS_PATH(namespace), rvApps ?? "", (e) => {
      const name = e.object.metadata?.name ?? "";
      if (e.type !== "DELETED" && want.has(name) && !statuses.has(name) && observed(e.object)) {
        statuses.add(name);
        check(e.at);
      }
    }),
    watchCollection(
      transport,
      DEPLOYMENTS_PATH(namespace),
      rvDeployments ?? "",
      child(deployments),
    ),
    watchCollection(transport, SERVICES_PATH(namespace), rvServices ?? "", child(services)),
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
