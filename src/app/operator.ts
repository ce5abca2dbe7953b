// The StatelessApp operator: caches, the controller, leader election and Events wired together.
import { FIELD_MANAGER, GROUP } from "../api/index.ts";
import {
  Applier,
  type ApplyMetrics,
  builtinResources,
  type Client,
  type Clock,
  Controller,
  EventRecorder,
  type HttpTransport,
  httpClient,
  httpLeaseApi,
  type KubeObject,
  LeaderElector,
  type LeaderMetrics,
  type Logger,
  objectKey,
  type QueueMetrics,
  type ReconcileMetrics,
  Reflector,
  type ReflectorMetrics,
  type ReflectorOptions,
  ResourceRegistry,
  type ResourceType,
  realClock,
} from "../runtime/index.ts";
import { digestConfigMap } from "./config-sources.ts";
import { ProvisionedWatches } from "./provisioned.ts";
import {
  CHILD_KINDS,
  CHILD_RESOURCES,
  type ChildKind,
  createReconciler,
  type EventSink,
  OWNER_INDEX,
  PODS_BY_APP,
  ReleaseLogs,
  WHOLE_CACHE_KINDS,
} from "./reconcile/index.ts";
import { LABEL_MANAGED_BY, MANAGED_BY } from "./render/index.ts";
import { CachedSecretReader, stripForeignSecretData } from "./secrets.ts";
import { trimPod } from "./status/index.ts";
import {
  APPS_BY_CHILD_NAME,
  APPS_BY_CONFIG_MAP,
  APPS_BY_SECRET,
  APPS_BY_SERVICE,
  APPS_BY_SERVICE_KIND,
  appOfPod,
  appsForChild,
  appsForConfigMap,
  appsForSecret,
  appsForService,
  childNamesOf,
  configMapsReadBy,
  controllerUids,
  STATELESS_APP_RESOURCE,
  secretsBoundBy,
  serviceKindKey,
  serviceKindKeysBoundBy,
  serviceKindsBoundBy,
  servicesBoundBy,
  wholeCacheForm,
} from "./watches.ts";

/**
 * The watches the operator opens in each watched namespace (one connection each): StatelessApps,
 * every child kind (release Jobs included), the ConfigMaps that envFrom and config read, and its
 * own pods.
 */
export const WATCHES_PER_NAMESPACE = 1 + CHILD_KINDS.length + 2;

export interface OperatorOptions {
  readonly transport: HttpTransport;
  /** The transport's connection pools: a request that could not get a connection fails /readyz. */
  readonly connections?: { problems(): readonly string[] };
  /** Namespaces to watch; empty: all. */
  readonly namespaces: readonly string[];
  readonly workers: number;
  readonly resyncPeriodMs: number;
  readonly leaderElection?: {
    readonly name: string;
    readonly namespace: string;
    readonly identity: string;
  };
  /** Identity in Events (the pod name). */
  readonly instance: string;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly metrics?: {
    readonly queue?: QueueMetrics;
    readonly reconcile?: ReconcileMetrics;
    readonly reflector?: (resource: string) => ReflectorMetrics;
    readonly apply?: ApplyMetrics;
    readonly leader?: LeaderMetrics;
  };
  /** Reflector tuning (STREAMING_LISTS; for tests, e.g. a short inactivity timeout). */
  readonly reflector?: {
    readonly inactivityTimeoutMs?: number;
    readonly relistIntervalMs?: number;
    readonly streamingList?: boolean;
  };
}

export interface Operator {
  readonly controller: Controller;
  /** What keeps /readyz from answering ok: caches not yet synced, starved API connections. */
  notReady(): string[];
  readonly isLeader: () => boolean;
  /** Graceful stop: no new work, in-flight reconciles finish, the Lease is released. */
  stop(): Promise<void>;
}

export function startOperator(options: OperatorOptions): Operator {
  const { transport, logger } = options;
  const clock = options.clock ?? realClock;
  const client = httpClient(transport);
  const lease = options.leaderElection;
  // Started last, once the controller it drives exists.
  const elector =
    lease &&
    new LeaderElector({
      api: httpLeaseApi(transport),
      ...lease,
      clock,
      logger,
      ...(options.metrics?.leader ? { metrics: options.metrics.leader } : {}),
      onStartedLeading: () => void controller.startWorkers(),
      onStoppedLeading: () => void controller.stopWorkers(),
    });
  const writeGate = () => elector === undefined || elector.isLeader;

  const { apps, children, configMaps, pods, provisioned } = createCaches(options, client, clock);
  const recorder = new EventRecorder({
    transport,
    reportingController: `${GROUP}/stateless-operator`,
    reportingInstance: options.instance,
    writeGate,
    clock,
    logger,
  });
  const releaseLogs = new ReleaseLogs(client, logger);
  // A failed release's log line is remembered while its Job exists.
  children.Job.subscribe((e) => {
    const uid = e.object.metadata?.uid;
    if (e.type === "delete" && uid !== undefined) releaseLogs.forget(uid);
  });
  const reconcile = createReconciler({
    apps: apps.store,
    children: Object.fromEntries(CHILD_KINDS.map((k) => [k, children[k].store])) as Record<
      ChildKind,
      Reflector["store"]
    >,
    wholeKinds: WHOLE_CACHE_KINDS,
    pods: pods.store,
    applier: new Applier({
      client,
      registry: new ResourceRegistry().register(STATELESS_APP_RESOURCE),
      fieldManager: FIELD_MANAGER,
      writeGate,
      logger,
      ...(options.metrics?.apply ? { metrics: options.metrics.apply } : {}),
    }),
    client,
    secrets: new CachedSecretReader(children.Secret.store, client),
    configMaps: configMaps.store,
    provisioned,
    events: eventSink(recorder),
    releaseLogs,
    clock,
  });
  const controller = new Controller({
    name: "statelessapp",
    primary: apps,
    watches: controllerWatches(apps, children, configMaps, pods, provisioned),
    reconcile,
    workers: options.workers,
    resyncIntervalMs: options.resyncPeriodMs,
    clock,
    logger,
    metrics: {
      ...(options.metrics?.queue ? { queue: options.metrics.queue } : {}),
      ...(options.metrics?.reconcile ? { reconcile: options.metrics.reconcile } : {}),
    },
  });
  followProvisioned(apps, provisioned, controller);

  controller.startCaches();
  if (elector === undefined) void controller.startWorkers();
  else elector.start();
  return {
    controller,
    isLeader: writeGate,
    // Provisioned Service caches are left out: a kind that cannot be watched is the problem of
    // the apps binding it (their status says why), not of the operator or of the other apps.
    notReady: () => [
      ...controller.reflectors.filter((r) => !r.synced).map((r) => `cache ${r.name}`),
      ...(options.connections?.problems() ?? []),
    ],
    stop: async () => {
      await controller.stopWorkers();
      await recorder.flush();
      await elector?.stop();
      recorder.close();
      await provisioned.stop();
      await controller.shutdown();
    },
  };
}

type Caches = ReturnType<typeof createCaches>;

/** What each cache's events mean to the primary: the app keys a changed object concerns. */
function controllerWatches(
  apps: Caches["apps"],
  children: Caches["children"],
  configMaps: Caches["configMaps"],
  pods: Caches["pods"],
  provisioned: Caches["provisioned"],
) {
  // A child concerns its controller, and the apps that render its name and wait for it.
  return [
    ...CHILD_KINDS.filter((k) => k !== "Secret").map((k) => ({
      reflector: children[k],
      map: (child: KubeObject) => appsForChild(child, apps.store),
    })),
    {
      reflector: children.Secret,
      map: (secret: KubeObject) =>
        appsForSecret(secret, apps.store, (key) => provisioned.namingSecret(key)),
    },
    {
      reflector: configMaps,
      map: (configMap: KubeObject) => appsForConfigMap(configMap, apps.store),
    },
    { reflector: pods, map: appOfPod },
  ];
}

/**
 * Provisioned Services: a changed one enqueues the apps bound to it, a kind's watch state the
 * apps binding the kind; apps start a kind's watch as soon as they are seen, and it stops when
 * no app binds the kind any more.
 */
function followProvisioned(
  apps: Caches["apps"],
  provisioned: Caches["provisioned"],
  controller: { enqueue(key: string): void },
) {
  provisioned.subscribe((service) => {
    for (const key of appsForService(service, apps.store)) controller.enqueue(key);
  });
  provisioned.onKindChange((kind) => {
    for (const app of apps.store.byIndex(APPS_BY_SERVICE_KIND, serviceKindKey(kind)))
      controller.enqueue(objectKey(app));
  });
  // Apps that bind a Provisioned Service kind start its watch as soon as they are seen; the
  // watch stops when no app binds the kind any more.
  apps.subscribe((e) => {
    for (const k of serviceKindsBoundBy(e.object)) provisioned.ensure(k.apiVersion, k.kind);
    if (e.type !== "add")
      void provisioned.retain(
        (k) => apps.store.byIndex(APPS_BY_SERVICE_KIND, serviceKindKey(k)).length > 0,
      );
  });
}

/**
 * The reflectors: the apps (indexed by what they bind), the children by kind, the operator's
 * pods, the Provisioned Services.
 */
function createCaches(options: OperatorOptions, client: Client, clock: Clock) {
  const { logger, namespaces } = options;
  const { inactivityTimeoutMs, relistIntervalMs, streamingList } = options.reflector ?? {};
  const tuning = {
    ...(inactivityTimeoutMs ? { inactivityTimeoutMs } : {}),
    ...(relistIntervalMs ? { relistIntervalMs } : {}),
    ...(streamingList ? { streamingList } : {}),
  };
  const reflectorFor = (resource: ResourceType, extra: Partial<ReflectorOptions> = {}) =>
    new Reflector({
      resource,
      source: client.listWatch(resource),
      name: resource.plural,
      ...(namespaces.length > 0 ? { namespaces } : {}),
      keepManagedFieldsOf: [FIELD_MANAGER],
      logger,
      clock,
      ...(options.metrics?.reflector
        ? { metrics: options.metrics.reflector(resource.plural) }
        : {}),
      ...tuning,
      ...extra,
    });
  const apps = reflectorFor(STATELESS_APP_RESOURCE)
    .addIndex(APPS_BY_SECRET, secretsBoundBy)
    .addIndex(APPS_BY_SERVICE, servicesBoundBy)
    .addIndex(APPS_BY_CONFIG_MAP, configMapsReadBy)
    .addIndex(APPS_BY_SERVICE_KIND, serviceKindKeysBoundBy)
    .addIndex(APPS_BY_CHILD_NAME, childNamesOf);
  const children = Object.fromEntries(
    CHILD_KINDS.map((kind) => [
      kind,
      // Secrets: every Secret (sources too), their data kept only for ours. Deployments and
      // Services: every one, another's as a stub (a free name needs no lookup). Others: only ours.
      reflectorFor(
        CHILD_RESOURCES[kind],
        kind === "Secret"
          ? { transform: stripForeignSecretData }
          : WHOLE_CACHE_KINDS.has(kind)
            ? { transform: wholeCacheForm }
            : { labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}` },
      ).addIndex(OWNER_INDEX, controllerUids),
    ]),
  ) as Record<ChildKind, Reflector>;
  // Pods: only those with our label, each trimmed to a few hundred bytes (docs/performance.md).
  const pods = reflectorFor(builtinResources.pod, {
    labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}`,
    transform: trimPod,
  }).addIndex(PODS_BY_APP, appOfPod);
  const provisioned = new ProvisionedWatches({
    client,
    namespaces,
    logger,
    now: () => clock.now(),
    ...(options.metrics?.reflector ? { metrics: options.metrics.reflector } : {}),
    ...(streamingList ? { streamingList } : {}),
  });

  // ConfigMaps envFrom and config read: metadata and a digest of the data, never the data.
  const configMaps = reflectorFor(builtinResources.configMap, { transform: digestConfigMap });

  return { apps, children, configMaps, pods, provisioned };
}

function eventSink(recorder: EventRecorder): EventSink {
  const on =
    (type: "Normal" | "Warning"): EventSink["normal"] =>
    (regarding, reason, note) =>
      recorder.record({ regarding, type, reason, action: "Reconcile", note });
  return { normal: on("Normal"), warning: on("Warning") };
}
