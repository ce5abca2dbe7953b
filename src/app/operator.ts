// The StatelessApp operator: caches, the controller, leader election and Events wired together.
import {
  FIELD_MANAGER,
  GROUP,
  KIND,
  PLURAL,
  type StatelessAppSpec,
  VERSION,
} from "../api/index.ts";
import {
  Applier,
  type ApplyMetrics,
  builtinResources,
  type Clock,
  Controller,
  EventRecorder,
  type HttpTransport,
  httpClient,
  httpLeaseApi,
  httpListWatch,
  type KubeObject,
  LeaderElector,
  type LeaderMetrics,
  type Logger,
  objectKey,
  ownerKeys,
  type QueueMetrics,
  type ReconcileMetrics,
  Reflector,
  type ReflectorMetrics,
  ResourceRegistry,
  type ResourceType,
  realClock,
} from "../runtime/index.ts";
import { ProvisionedWatches } from "./provisioned.ts";
import {
  CHILD_KINDS,
  type ChildKind,
  createReconciler,
  type EventSink,
  OWNER_INDEX,
} from "./reconcile/index.ts";
import { CachedSecretReader, stripForeignSecretData } from "./secrets.ts";

export const STATELESS_APP_RESOURCE: ResourceType = {
  group: GROUP,
  version: VERSION,
  kind: KIND,
  plural: PLURAL,
  namespaced: true,
};

/** Only objects carrying this label are cached as children: the operator never holds the whole cluster's Deployments. */
export const OWNED_LABEL_SELECTOR = "app.kubernetes.io/managed-by=stateless-operator";

export interface OperatorOptions {
  readonly transport: HttpTransport;
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
  /** Reflector tuning for tests (e.g. a short inactivity timeout). */
  readonly reflector?: {
    readonly inactivityTimeoutMs?: number;
    readonly relistIntervalMs?: number;
  };
}

export interface Operator {
  readonly controller: Controller;
  /** What keeps /readyz from answering ok: caches not yet synced. */
  notReady(): string[];
  readonly isLeader: () => boolean;
  /** Graceful stop: no new work, in-flight reconciles finish, the Lease is released. */
  stop(): Promise<void>;
}

const CHILD_RESOURCES: Record<ChildKind, ResourceType> = {
  Secret: builtinResources.secret,
  Deployment: builtinResources.deployment,
  Service: builtinResources.service,
  PodDisruptionBudget: builtinResources.podDisruptionBudget,
  HorizontalPodAutoscaler: builtinResources.horizontalPodAutoscaler,
};

/** Index names on the apps cache: which apps a Secret or a Provisioned Service concerns. */
const BY_SECRET = "secret";
const BY_SERVICE = "service";

const serviceRef = (
  namespace: string | undefined,
  apiVersion: string,
  kind: string,
  name: string,
) => `${apiVersion}|${kind}|${namespace ?? ""}/${name}`;

function bindingRefs(app: KubeObject): StatelessAppSpec["backingServices"] {
  const spec = (app as { spec?: { backingServices?: unknown } }).spec;
  return Array.isArray(spec?.backingServices)
    ? (spec.backingServices as StatelessAppSpec["backingServices"])
    : [];
}

export function startOperator(options: OperatorOptions): Operator {
  const { transport, logger } = options;
  const clock = options.clock ?? realClock;
  const namespaces = options.namespaces;
  const leaderOptions = options.leaderElection;
  let elector: LeaderElector | undefined;
  const writeGate = () => elector === undefined || elector.isLeader;

  const reflectorFor = (
    resource: ResourceType,
    name: string,
    extra: Partial<ConstructorParameters<typeof Reflector>[0]> = {},
  ) =>
    new Reflector({
      resource,
      source: httpListWatch(transport, resource),
      name,
      ...(namespaces.length > 0 ? { namespaces } : {}),
      keepManagedFieldsOf: [FIELD_MANAGER],
      logger,
      clock,
      ...(options.metrics?.reflector ? { metrics: options.metrics.reflector(name) } : {}),
      ...(options.reflector?.inactivityTimeoutMs
        ? { inactivityTimeoutMs: options.reflector.inactivityTimeoutMs }
        : {}),
      ...(options.reflector?.relistIntervalMs
        ? { relistIntervalMs: options.reflector.relistIntervalMs }
        : {}),
      ...extra,
    });

  const apps = reflectorFor(STATELESS_APP_RESOURCE, PLURAL);
  apps.addIndex(BY_SECRET, (app) =>
    (bindingRefs(app) ?? []).flatMap((b) =>
      b.secretRef ? [`${app.metadata?.namespace ?? ""}/${b.secretRef.name}`] : [],
    ),
  );
  apps.addIndex(BY_SERVICE, (app) =>
    (bindingRefs(app) ?? []).flatMap((b) =>
      b.service
        ? [
            serviceRef(
              app.metadata?.namespace,
              b.service.apiVersion,
              b.service.kind,
              b.service.name,
            ),
          ]
        : [],
    ),
  );
  const children = Object.fromEntries(
    CHILD_KINDS.map((kind) => {
      const resource = CHILD_RESOURCES[kind];
      // Secrets: every Secret (sources too), their data kept only for ours. Others: only ours.
      const extra =
        kind === "Secret"
          ? { transform: stripForeignSecretData }
          : { labelSelector: OWNED_LABEL_SELECTOR };
      const reflector = reflectorFor(resource, resource.plural, extra);
      reflector.addIndex(OWNER_INDEX, (obj) =>
        (obj.metadata?.ownerReferences ?? [])
          .filter((r) => r.controller === true)
          .map((r) => r.uid),
      );
      return [kind, reflector];
    }),
  ) as Record<ChildKind, Reflector>;

  const secrets = new CachedSecretReader(children.Secret.store, transport);
  let controller: Controller | undefined;
  const appsBindingSecret = (namespace: string | undefined, name: string): string[] => [
    ...apps.store.byIndex(BY_SECRET, `${namespace ?? ""}/${name}`).map(objectKey),
    // A Provisioned Service whose status names this Secret: the apps binding that service.
    ...provisioned
      .all()
      .filter(
        ({ object }) =>
          object.metadata?.namespace === namespace &&
          (object as { status?: { binding?: { name?: unknown } } }).status?.binding?.name === name,
      )
      .flatMap(({ apiVersion, kind, object }) =>
        apps.store
          .byIndex(BY_SERVICE, serviceRef(namespace, apiVersion, kind, object.metadata?.name ?? ""))
          .map(objectKey),
      ),
  ];
  const provisioned = new ProvisionedWatches({
    transport,
    namespaces,
    logger,
    now: () => clock.now(),
    ...(options.metrics?.reflector ? { metrics: options.metrics.reflector } : {}),
    onChange: (apiVersion, kind, obj) => {
      const ref = serviceRef(obj.metadata?.namespace, apiVersion, kind, obj.metadata?.name ?? "");
      for (const app of apps.store.byIndex(BY_SERVICE, ref)) controller?.enqueue(objectKey(app));
    },
  });

  const registry = new ResourceRegistry().register(STATELESS_APP_RESOURCE);
  const applier = new Applier({
    client: httpClient(transport),
    registry,
    fieldManager: FIELD_MANAGER,
    writeGate,
    logger,
    ...(options.metrics?.apply ? { metrics: options.metrics.apply } : {}),
  });
  const recorder = new EventRecorder({
    transport,
    reportingController: `${GROUP}/stateless-operator`,
    reportingInstance: options.instance,
    writeGate,
    clock,
    logger,
  });
  const events: EventSink = {
    normal: (regarding, reason, note) =>
      recorder.record({ regarding, type: "Normal", reason, action: "Reconcile", note }),
    warning: (regarding, reason, note) =>
      recorder.record({ regarding, type: "Warning", reason, action: "Reconcile", note }),
  };

  controller = new Controller({
    name: "statelessapp",
    primary: apps,
    owns: CHILD_KINDS.filter((k) => k !== "Secret").map((k) => children[k]),
    watches: [
      {
        reflector: children.Secret,
        map: (secret) => {
          return [
            ...ownerKeys(secret, STATELESS_APP_RESOURCE),
            ...appsBindingSecret(secret.metadata?.namespace, secret.metadata?.name ?? ""),
          ];
        },
      },
    ],
    reconcile: createReconciler({
      apps: apps.store,
      children: Object.fromEntries(CHILD_KINDS.map((k) => [k, children[k].store])) as Record<
        ChildKind,
        Reflector["store"]
      >,
      applier,
      secrets,
      provisioned,
      events,
      transport,
      clock,
    }),
    workers: options.workers,
    resyncIntervalMs: options.resyncPeriodMs,
    clock,
    logger,
    ...(options.metrics
      ? {
          metrics: {
            ...(options.metrics.queue ? { queue: options.metrics.queue } : {}),
            ...(options.metrics.reconcile ? { reconcile: options.metrics.reconcile } : {}),
          },
        }
      : {}),
  });
  // Apps that bind a Provisioned Service kind start its watch as soon as they are seen.
  apps.subscribe((event) => {
    for (const b of bindingRefs(event.object) ?? [])
      if (b.service) provisioned.ensure(b.service.apiVersion, b.service.kind);
  });

  const running = controller;
  running.startCaches();
  if (leaderOptions === undefined) {
    void running.startWorkers();
  } else {
    elector = new LeaderElector({
      api: httpLeaseApi(transport),
      namespace: leaderOptions.namespace,
      name: leaderOptions.name,
      identity: leaderOptions.identity,
      clock,
      logger,
      ...(options.metrics?.leader ? { metrics: options.metrics.leader } : {}),
      onStartedLeading: () => void running.startWorkers(),
      onStoppedLeading: () => void running.stopWorkers(),
    });
    elector.start();
  }

  return {
    controller: running,
    isLeader: writeGate,
    notReady: () => [
      ...running.reflectors.filter((r) => !r.synced).map((r) => `cache ${r.name}`),
      ...provisioned.notSynced.map((k) => `cache ${k}`),
    ],
    stop: async () => {
      await running.stopWorkers();
      await recorder.flush();
      await elector?.stop();
      recorder.close();
      await provisioned.stop();
      await running.shutdown();
    },
  };
}
