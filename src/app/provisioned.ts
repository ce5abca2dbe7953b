// Provisioned Services: a watch per kind that apps bind, started when the first app names the kind.
import {
  type Client,
  formatKey,
  groupOf,
  type Logger,
  Reflector,
  type ReflectorMetrics,
  type ResourceType,
} from "../runtime/index.ts";
import type { ProvisionedServiceLookup, ProvisionedServices } from "./reconcile/index.ts";
import { SERVICES_BY_SECRET, secretNamedBy, type WatchedService } from "./watches.ts";

interface KindWatch {
  state: "discovering" | "watching" | "unserved";
  reflector?: Reflector;
  message?: string;
  /** When discovery last said the kind is not served: a CRD installed later is found on a retry. */
  checkedAt?: number;
}

/** How long a kind the API server does not serve is believed before discovery runs again. */
const REDISCOVER_MS = 30_000;

export interface ProvisionedWatchesOptions {
  readonly client: Client;
  readonly namespaces: readonly string[];
  readonly logger: Logger;
  readonly metrics?: (resource: string) => Partial<ReflectorMetrics>;
  readonly now?: () => number;
}

/** Called for every change of a watched Provisioned Service. */
export type ProvisionedChangeHandler = (service: WatchedService) => void;

const kindKey = (apiVersion: string, kind: string) => `${apiVersion}|${kind}`;

export class ProvisionedWatches implements ProvisionedServices {
  readonly #options: ProvisionedWatchesOptions;
  readonly #kinds = new Map<string, KindWatch>();
  readonly #handlers = new Set<ProvisionedChangeHandler>();
  #stopped = false;

  constructor(options: ProvisionedWatchesOptions) {
    this.#options = options;
  }

  get notSynced(): string[] {
    return [...this.#kinds.entries()]
      .filter(([, w]) => w.state === "watching" && w.reflector?.synced !== true)
      .map(([k]) => k);
  }

  /** Starts watching a kind (once): discovery finds its resource name, then a reflector fills its cache. */
  ensure(apiVersion: string, kind: string): void {
    const key = kindKey(apiVersion, kind);
    const known = this.#kinds.get(key);
    const now = (this.#options.now ?? Date.now)();
    if (known?.state === "unserved" && now - (known.checkedAt ?? 0) > REDISCOVER_MS)
      this.#kinds.delete(key);
    if (this.#stopped || this.#kinds.has(key)) return;
    const watch: KindWatch = { state: "discovering" };
    this.#kinds.set(key, watch);
    void this.#discover(apiVersion, kind, watch);
  }

  lookup(
    namespace: string,
    ref: { apiVersion: string; kind: string; name: string },
  ): ProvisionedServiceLookup {
    this.ensure(ref.apiVersion, ref.kind);
    const watch = this.#kinds.get(kindKey(ref.apiVersion, ref.kind));
    const what = `${ref.apiVersion} ${ref.kind}`;
    if (watch === undefined || watch.state === "discovering")
      return { state: "unavailable", message: `discovering ${what}` };
    if (watch.state === "unserved" || watch.reflector === undefined) {
      return {
        state: "unavailable",
        message: watch.message ?? `${what} is not served by the API server`,
      };
    }
    if (!watch.reflector.synced)
      return { state: "unavailable", message: `waiting for the cache of ${what}` };
    const object = watch.reflector.store.get(formatKey(namespace, ref.name));
    return object === undefined ? { state: "absent" } : { state: "found", object };
  }

  /** The cached Provisioned Services (of every watched kind) whose status names this Secret (`namespace/name`). */
  namingSecret(secretKey: string): WatchedService[] {
    return [...this.#kinds.entries()].flatMap(([key, w]) => {
      const [apiVersion = "", kind = ""] = key.split("|");
      return (w.reflector?.store.byIndex(SERVICES_BY_SECRET, secretKey) ?? []).map((object) => ({
        apiVersion,
        kind,
        object,
      }));
    });
  }

  /** Calls `handler` for every change of every watched kind; returns the unsubscribe function. */
  subscribe(handler: ProvisionedChangeHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#kinds.values()].map((w) => w.reflector?.stop()));
  }

  async #discover(apiVersion: string, kind: string, watch: KindWatch): Promise<void> {
    const { client, logger } = this.#options;
    const group = groupOf(apiVersion);
    const version = apiVersion.includes("/")
      ? apiVersion.slice(apiVersion.indexOf("/") + 1)
      : apiVersion;
    try {
      const resources = await client.discover(apiVersion);
      if (resources === undefined) {
        watch.state = "unserved";
        watch.message = `${apiVersion} is not served by the API server`;
        watch.checkedAt = (this.#options.now ?? Date.now)();
        return;
      }
      const resource = resources.find((r) => r.kind === kind && !r.name.includes("/"));
      if (resource === undefined || !resource.namespaced) {
        watch.state = "unserved";
        watch.message = `${apiVersion} ${kind} is not a namespaced resource the API server serves`;
        watch.checkedAt = (this.#options.now ?? Date.now)();
        return;
      }
      const type: ResourceType = { group, version, kind, plural: resource.name, namespaced: true };
      const reflector = new Reflector({
        resource: type,
        source: client.listWatch(type),
        name: `${resource.name}.${group}`,
        namespaces: this.#options.namespaces,
        logger,
        ...(this.#options.metrics
          ? { metrics: this.#options.metrics(`${resource.name}.${group}`) }
          : {}),
      });
      reflector.addIndex(SERVICES_BY_SECRET, secretNamedBy);
      reflector.subscribe((event) => {
        for (const handler of this.#handlers) handler({ apiVersion, kind, object: event.object });
      });
      watch.reflector = reflector;
      watch.state = "watching";
      if (!this.#stopped) reflector.start();
    } catch (error) {
      const code = (error as { code?: number }).code;
      logger.warn(
        { apiVersion, kind, code },
        "discovery of a Provisioned Service kind failed; retrying",
      );
      // Forget the kind so the next lookup starts discovery again.
      this.#kinds.delete(kindKey(apiVersion, kind));
    }
  }
}
