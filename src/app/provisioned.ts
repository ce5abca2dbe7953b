// Provisioned Services: a watch per kind that apps bind, started when the first app names the kind and stopped when the last one lets go.
import {
  type Client,
  describeError,
  formatKey,
  httpStatusOf,
  type Logger,
  Reflector,
  type ReflectorMetrics,
  type ResourceType,
  splitApiVersion,
} from "../runtime/index.ts";
import type { ProvisionedServiceLookup, ProvisionedServices } from "./reconcile/index.ts";
import {
  SERVICES_BY_SECRET,
  type ServiceKind,
  secretNamedBy,
  serviceKindKey,
  type WatchedService,
} from "./watches.ts";

const DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
/** `<group>/<version>` with a dot in the group, as every CRD's group has. */
const GROUP_VERSION = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})+/[a-z]([-a-z0-9]*[a-z0-9])?$`);
/** The built-in API's groups with a dot (the dot-less ones, core among them, fail GROUP_VERSION). */
const BUILTIN_GROUP = /^([^/]*[.])?(k8s|kubernetes)[.]io\//;
const KIND = /^[A-Za-z]([-A-Za-z0-9]*[A-Za-z0-9])?$/;
/** Kinds never bound in any group: a binding must not make the operator read them. */
const FORBIDDEN_KINDS = new Set(["Secret", "ConfigMap"]);

/**
 * Why the operator never watches `apiVersion` `kind` for a binding, or undefined when it may.
 * The CRD refuses the same (issue 20's rules); this is for apps admitted before it did, since a
 * watch is started from the cached app before its spec is parsed. Only extension kinds: a
 * binding must not turn into a cluster-wide watch of Secrets, ConfigMaps or any built-in kind.
 */
export function boundKindProblem(apiVersion: string, kind: string): string | undefined {
  if (apiVersion.length > 253 + 64 || !GROUP_VERSION.test(apiVersion))
    return `service.apiVersion ${JSON.stringify(apiVersion.slice(0, 100))} must be <group>/<version> of an extension API, with a dot in the group (e.g. redis.example.com/v1)`;
  if (BUILTIN_GROUP.test(apiVersion))
    return `service.apiVersion ${apiVersion} is a built-in API group (anything under k8s.io or kubernetes.io): only extension kinds are bound`;
  if (kind.length > 63 || !KIND.test(kind))
    return `service.kind ${JSON.stringify(kind.slice(0, 100))} must be a kind: letters, digits and '-', starting with a letter`;
  if (FORBIDDEN_KINDS.has(kind))
    return `service.kind ${kind} is never bound as a Provisioned Service: bind a Secret with secretRef`;
  return undefined;
}

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
  /** Fill each kind's cache from a streaming list (see ReflectorOptions.streamingList). */
  readonly streamingList?: boolean;
}

/** Called for every change of a watched Provisioned Service. */
export type ProvisionedChangeHandler = (service: WatchedService) => void;

/**
 * Called when what `lookup` answers for a whole kind changes: discovery ended, its cache synced,
 * or its list or watch failed. The apps binding the kind look again (an empty list brings no
 * object event, and a failure none at all).
 */
export type KindChangeHandler = (kind: ServiceKind) => void;

/** `list` and `watch`, or what the API server says the resource cannot do. */
const unwatchable = (verbs: readonly string[] | undefined): string[] =>
  verbs === undefined ? [] : ["list", "watch"].filter((v) => !verbs.includes(v));

export class ProvisionedWatches implements ProvisionedServices {
  readonly #options: ProvisionedWatchesOptions;
  readonly #kinds = new Map<string, KindWatch>();
  readonly #handlers = new Set<ProvisionedChangeHandler>();
  readonly #kindHandlers = new Set<KindChangeHandler>();
  #stopped = false;

  constructor(options: ProvisionedWatchesOptions) {
    this.#options = options;
  }

  /** The kinds watched or being discovered now (`apiVersion|kind`). */
  get kinds(): string[] {
    return [...this.#kinds.keys()];
  }

  /**
   * Starts watching a kind (once): discovery finds its resource name, then a reflector fills its
   * cache. A kind boundKindProblem refuses is never discovered nor watched.
   */
  ensure(apiVersion: string, kind: string): void {
    if (boundKindProblem(apiVersion, kind) !== undefined) return;
    const key = serviceKindKey({ apiVersion, kind });
    const known = this.#kinds.get(key);
    const now = (this.#options.now ?? Date.now)();
    if (known?.state === "unserved" && now - (known.checkedAt ?? 0) > REDISCOVER_MS)
      this.#kinds.delete(key);
    if (this.#stopped || this.#kinds.has(key)) return;
    const watch: KindWatch = { state: "discovering" };
    this.#kinds.set(key, watch);
    void this.#discover(apiVersion, kind, watch);
  }

  /** Stops the watch of every kind `bound` says no app binds any more, and forgets its cache. */
  async retain(bound: (kind: ServiceKind) => boolean): Promise<void> {
    const released: Promise<void>[] = [];
    for (const [key, watch] of this.#kinds) {
      const [apiVersion = "", kind = ""] = key.split("|");
      if (bound({ apiVersion, kind })) continue;
      this.#kinds.delete(key);
      if (watch.reflector !== undefined) {
        this.#options.logger.info({ apiVersion, kind }, "no app binds the kind: watch stopped");
        released.push(watch.reflector.stop());
      }
    }
    await Promise.all(released);
  }

  lookup(
    namespace: string,
    ref: { apiVersion: string; kind: string; name: string },
  ): ProvisionedServiceLookup {
    const refused = boundKindProblem(ref.apiVersion, ref.kind);
    if (refused !== undefined) return { state: "unavailable", message: refused };
    this.ensure(ref.apiVersion, ref.kind);
    const watch = this.#kinds.get(serviceKindKey(ref));
    const what = `${ref.apiVersion} ${ref.kind}`;
    if (watch === undefined || watch.state === "discovering")
      return { state: "unavailable", message: `discovering ${what}` };
    if (watch.state === "unserved" || watch.reflector === undefined) {
      return {
        state: "unavailable",
        message: watch.message ?? `${what} is not served by the API server`,
      };
    }
    if (!watch.reflector.synced) {
      const error = watch.reflector.lastError;
      return {
        state: "unavailable",
        message:
          error === undefined
            ? `waiting for the cache of ${what}`
            : `cannot watch ${what}: ${apiServerReason(error)}`,
      };
    }
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

  /** Calls `handler` when a kind's discovery, sync or failure changes what lookups answer. */
  onKindChange(handler: KindChangeHandler): () => void {
    this.#kindHandlers.add(handler);
    return () => this.#kindHandlers.delete(handler);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#kinds.values()].map((w) => w.reflector?.stop()));
  }

  #kindChanged(kind: ServiceKind, watch: KindWatch): void {
    // A kind released meanwhile concerns no app.
    if (this.#kinds.get(serviceKindKey(kind)) !== watch) return;
    for (const handler of this.#kindHandlers) {
      try {
        handler(kind);
      } catch (error) {
        this.#options.logger.error(describeError(error), "kind change handler threw");
      }
    }
  }

  async #discover(apiVersion: string, kind: string, watch: KindWatch): Promise<void> {
    const { client, logger } = this.#options;
    const { group, version } = splitApiVersion(apiVersion);
    const unserved = (message: string) => {
      watch.state = "unserved";
      watch.message = message;
      watch.checkedAt = (this.#options.now ?? Date.now)();
      this.#kindChanged({ apiVersion, kind }, watch);
    };
    try {
      const resources = await client.discover(apiVersion);
      if (resources === undefined) return unserved(`${apiVersion} is not served by the API server`);
      const resource = resources.find((r) => r.kind === kind && !r.name.includes("/"));
      if (resource === undefined || !resource.namespaced)
        return unserved(`${apiVersion} ${kind} is not a namespaced resource the API server serves`);
      const missing = unwatchable(resource.verbs);
      if (missing.length > 0)
        return unserved(
          `${apiVersion} ${kind} cannot be watched: it does not support ${missing.join(" or ")}`,
        );
      const type: ResourceType = { group, version, kind, plural: resource.name, namespaced: true };
      const name = `${resource.name}.${group}`;
      let reportedError = false;
      const reflector = new Reflector({
        resource: type,
        source: client.listWatch(type),
        name,
        namespaces: this.#options.namespaces,
        streamingList: this.#options.streamingList ?? false,
        logger,
        // The first failure is news for the apps binding the kind; the retries that follow are not.
        onError: (error) => {
          if (httpStatusOf(error) === 404) {
            // The resource is gone (its CRD deleted): no list or watch of it can succeed, so
            // the watch stops; discovery looks again, at most every REDISCOVER_MS, when an app
            // binding the kind asks.
            logger.warn(
              { apiVersion, kind, ...describeError(error) },
              "a bound kind is no longer served: its watch stopped",
            );
            void reflector.stop();
            watch.reflector = undefined;
            return unserved(
              `${apiVersion} ${kind} is no longer served by the API server (its CustomResourceDefinition was deleted?): ${apiServerReason(error)}`,
            );
          }
          if (!reportedError) this.#kindChanged({ apiVersion, kind }, watch);
          reportedError = true;
        },
        ...(this.#options.metrics ? { metrics: this.#options.metrics(name) } : {}),
      });
      reflector.addIndex(SERVICES_BY_SECRET, secretNamedBy);
      reflector.subscribe((event) => {
        for (const handler of this.#handlers) handler({ apiVersion, kind, object: event.object });
      });
      watch.reflector = reflector;
      watch.state = "watching";
      if (this.#stopped || this.#kinds.get(serviceKindKey({ apiVersion, kind })) !== watch) return;
      reflector.start();
      void reflector.whenSynced().then(() => {
        reportedError = false;
        this.#kindChanged({ apiVersion, kind }, watch);
      });
    } catch (error) {
      logger.warn(
        { apiVersion, kind, ...describeError(error) },
        "discovery of a Provisioned Service kind failed; retrying",
      );
      // Forget the kind so the next lookup starts discovery again.
      if (this.#kinds.get(serviceKindKey({ apiVersion, kind })) === watch)
        this.#kinds.delete(serviceKindKey({ apiVersion, kind }));
    }
  }
}

/** The API server's answer to a failed list or watch: code, reason and message, no body. */
function apiServerReason(error: unknown): string {
  const { errCode, reason, err } = describeError(error);
  const head = [errCode, reason].filter((p) => p !== undefined).join(" ");
  return [head, err].filter((p) => p !== undefined && p !== "").join(": ") || String(error);
}
