// The runtime's public surface: a generic controller kit that knows nothing about StatelessApp.
//
// Wiring, in short (the app layer does this for the operator; docs/architecture.md has the picture):
//   const http = instrumentTransport(connectionTransport(connection), requestHooks);
//   const client = httpClient(http);
//   const apps = new Reflector({ resource: appType, source: client.listWatch(appType),
//     keepManagedFieldsOf: [defaultFieldManager] });            // + one Reflector per child kind
//   const elector = new LeaderElector({ api: httpLeaseApi(http), namespace, name, identity,
//     onStartedLeading: () => void controller.startWorkers(),
//     onStoppedLeading: () => void controller.stopWorkers() });
//   const applier = new Applier({ client, registry, writeGate: () => elector.isLeader });
//   const controller = new Controller({ name, primary: apps, owns: [deployments, services],
//     watches: [{ reflector: secrets, map: secretToAppKeys }], reconcile });
//   controller.startCaches(); elector.start();                 // readiness: controller.synced
//   on SIGTERM: await controller.stopWorkers(); await elector.stop(); await controller.shutdown();

export { Applier, type ApplierOptions, type ApplyOptions, type ApplyResult } from "./applier.ts";
export {
  type ApplyDecision,
  type ApplyNeededOptions,
  applyNeeded,
  defaultFieldManager,
} from "./apply-decision.ts";
export { Backoff, type BackoffOptions, backoffDelay } from "./backoff.ts";
export {
  type ApplyCallOptions,
  applyBody,
  type CallOptions,
  type Client,
  type DeleteCallOptions,
  type DiscoveredResource,
  httpClient,
  type JsonPatchOperation,
  type ObjectRef,
  type PodLogOptions,
  type ServedGroup,
  type WriteOptions,
} from "./client.ts";
export { type Clock, MAX_TIMER_MS, realClock, safeTimeout, sleepOn, type Timer } from "./clock.ts";
export {
  type Action,
  awaitChange,
  Controller,
  type ControllerOptions,
  defaultErrorPolicy,
  type ErrorAction,
  type ErrorContext,
  type ErrorPolicy,
  type MappedWatch,
  type ReconcileContext,
  type Reconciler,
  requeueAfter,
} from "./controller.ts";
export {
  ConflictError,
  classifyError,
  describeError,
  ErrorKind,
  httpStatusOf,
  NotLeaderError,
  PermanentError,
} from "./errors.ts";
export {
  type EventInput,
  EventRecorder,
  type EventRecorderOptions,
  EventType,
} from "./events.ts";
export {
  formatMicroTime,
  httpLeaseApi,
  LeaderElector,
  type LeaderElectorOptions,
  type Lease,
  type LeaseApi,
  type LeaseSpec,
} from "./leader.ts";
export {
  httpListWatch,
  type ListOptions,
  type ListPage,
  type ListWatchSource,
  type Selectors,
  type WatchEvent,
  type WatchEventType,
  type WatchOptions,
} from "./listwatch.ts";
export { type LogFields, type Logger, silentLogger } from "./logger.ts";
export type {
  ApplyMetrics,
  ConnectionMetrics,
  LeaderMetrics,
  QueueMetrics,
  ReconcileMetrics,
  ReconcileResult,
  ReflectorMetrics,
  RequestMetrics,
} from "./metrics.ts";
export { http } from "./node-http.ts";
export {
  cacheForm,
  fieldsOf,
  formatKey,
  groupOf,
  isRecord,
  jsonEqual,
  type KubeObject,
  LAST_APPLIED_ANNOTATION,
  type ManagedFieldsEntry,
  type ObjectMeta,
  type OwnerReference,
  objectKey,
  parseKey,
  type Status,
  splitApiVersion,
  stripManagedFields,
} from "./object.ts";
export { type QueueHandler, type QueueOutcome, WorkQueue, type WorkQueueOptions } from "./queue.ts";
export {
  Reflector,
  type ReflectorOptions,
  type StoreEventHandler,
  WatchError,
} from "./reflector.ts";
export {
  apiVersionOf,
  builtinResources,
  ownerKeys,
  type PathParts,
  ResourceRegistry,
  type ResourceType,
  resourcePath,
  sameGroupKind,
} from "./resource.ts";
export {
  type IndexFn,
  type ReadonlyStore,
  Store,
  type StoreEvent,
  type StoreOptions,
} from "./store.ts";
export {
  apiError,
  type Connection,
  type ConnectionPool,
  ConnectionWaitTimeout,
  connectionTransport,
  type Headers,
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  instrumentTransport,
  KubeApiError,
  type Method,
  type PooledTransport,
  type PoolUsage,
  parseStatus,
  type RequestCredentials,
  requestJson,
  type TransportOptions,
} from "./transport.ts";
