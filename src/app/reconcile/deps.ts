// What reconcile needs from the outside world: caches, the client and the applier, Secret and log reads, Events, time.
import type { Applier, Client, Clock, KubeObject, ReadonlyStore } from "../../runtime/index.ts";
import type { SourceSecret } from "../bindings/index.ts";
import type { ChildKind } from "./children.ts";
import type { ReleaseLogReader } from "./release-log.ts";

/** Index of every child cache: the uid of the object's controller, so an app finds its children without a scan. */
export const OWNER_INDEX = "owner";

/** Index of the pod cache: the app (`namespace/name`) a pod's instance label names. */
export const PODS_BY_APP = "app";

/** Records Events on an app; never throws, deduplicates on its own. */
export interface EventSink {
  normal(object: KubeObject, reason: string, message: string): void;
  warning(object: KubeObject, reason: string, message: string): void;
}

export interface SecretReader {
  /** A source Secret with its data, or undefined when it does not exist. */
  read(namespace: string, name: string, signal?: AbortSignal): Promise<SourceSecret | undefined>;
}

export type ProvisionedServiceLookup =
  | { readonly state: "found"; readonly object: KubeObject }
  | { readonly state: "absent" }
  /** The kind is not served by the API server, or its cache is still filling. */
  | { readonly state: "unavailable"; readonly message: string };

export interface ProvisionedServices {
  lookup(
    namespace: string,
    ref: { apiVersion: string; kind: string; name: string },
  ): ProvisionedServiceLookup;
}

export interface ReconcileDeps {
  readonly apps: ReadonlyStore<KubeObject>;
  /**
   * Owned children by kind (the operator's label-selected caches, keeping our managedFields),
   * each indexed by OWNER_INDEX.
   */
  readonly children: Readonly<Record<ChildKind, ReadonlyStore<KubeObject>>>;
  /**
   * The kinds whose cache holds every object in scope (WHOLE_CACHE_KINDS in the operator): a
   * name it lacks is free, so it is not looked up. @default none: every name a cache lacks is
   * looked up
   */
  readonly wholeKinds?: ReadonlySet<ChildKind>;
  /**
   * The operator's pods (label-selected, trimmed to what the failures read: trimPod), indexed by
   * PODS_BY_APP.
   */
  readonly pods: ReadonlyStore<KubeObject>;
  /** Applies and deletes children and writes the status, skipping writes that change nothing. */
  readonly applier: Applier;
  /** For what apply cannot express: the replica hand-off, JSON patches, pod lists, evictions. */
  readonly client: Client;
  readonly secrets: SecretReader;
  /** ConfigMaps of the watched namespaces: metadata and the digest of their data (DIGEST_FIELD). */
  readonly configMaps: ReadonlyStore<KubeObject>;
  readonly provisioned: ProvisionedServices;
  readonly events: EventSink;
  /** The last log line of a failed release's pod, read once per Job. */
  readonly releaseLogs: ReleaseLogReader;
  readonly clock: Clock;
}
