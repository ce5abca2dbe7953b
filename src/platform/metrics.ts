// Prometheus metrics: controller-runtime's names where they apply, bound to the runtime's hooks.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type {
  ApplyMetrics,
  ConnectionMetrics,
  LeaderMetrics,
  QueueMetrics,
  ReconcileMetrics,
  ReflectorMetrics,
  RequestMetrics,
} from "../runtime/metrics.ts";
import { type BuildInfo, readBuildInfo } from "./build.ts";

const seconds = (ms: number) => ms / 1000;
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface OperatorMetrics {
  readonly registry: Registry;
  queue(name: string): QueueMetrics;
  reconcile(controller: string): ReconcileMetrics;
  reflector(resource: string): ReflectorMetrics;
  readonly requests: RequestMetrics;
  readonly connections: ConnectionMetrics;
  readonly apply: ApplyMetrics;
  leader(lease: string): LeaderMetrics;
}

export function createMetrics(
  now: () => number = Date.now,
  build: BuildInfo = readBuildInfo(),
): OperatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const r = [registry];

  new Gauge({
    name: "stateless_operator_build_info",
    help: "Always 1; the labels name the running version and the commit it was built from",
    labelNames: ["version", "commit"],
    registers: r,
  }).set({ version: build.version, commit: build.commit }, 1);

  const reconcileTotal = new Counter({
    name: "controller_runtime_reconcile_total",
    help: "Total number of reconciliations per controller",
    labelNames: ["controller", "result"],
    registers: r,
  });
  const reconcileErrors = new Counter({
    name: "controller_runtime_reconcile_errors_total",
    help: "Total number of reconciliation errors per controller",
    labelNames: ["controller"],
    registers: r,
  });
  const terminalErrors = new Counter({
    name: "controller_runtime_terminal_reconcile_errors_total",
    help: "Total number of terminal (permanent) reconciliation errors per controller",
    labelNames: ["controller"],
    registers: r,
  });
  const reconcileTime = new Histogram({
    name: "controller_runtime_reconcile_time_seconds",
    help: "Length of time per reconciliation per controller",
    labelNames: ["controller"],
    buckets: LATENCY_BUCKETS,
    registers: r,
  });
  const depth = new Gauge({
    name: "workqueue_depth",
    help: "Current depth of workqueue",
    labelNames: ["name"],
    registers: r,
  });
  const adds = new Counter({
    name: "workqueue_adds_total",
    help: "Total number of adds handled by workqueue",
    labelNames: ["name"],
    registers: r,
  });
  const retries = new Counter({
    name: "workqueue_retries_total",
    help: "Total number of retries handled by workqueue",
    labelNames: ["name"],
    registers: r,
  });
  const queueDuration = new Histogram({
    name: "workqueue_queue_duration_seconds",
    help: "How long in seconds an item stays in workqueue before being requested",
    labelNames: ["name"],
    buckets: LATENCY_BUCKETS,
    registers: r,
  });
  const workDuration = new Histogram({
    name: "workqueue_work_duration_seconds",
    help: "How long in seconds processing an item from workqueue takes",
    labelNames: ["name"],
    buckets: LATENCY_BUCKETS,
    registers: r,
  });
  const activeWorkers = new Gauge({
    name: "controller_runtime_active_workers",
    help: "Number of currently used workers per controller",
    labelNames: ["controller"],
    registers: r,
  });
  const requests = new Counter({
    name: "rest_client_requests_total",
    help: "Number of HTTP requests to the API server, partitioned by status code, HTTP method and verb",
    labelNames: ["code", "method", "verb"],
    registers: r,
  });
  const requestLatency = new Histogram({
    name: "rest_client_request_duration_seconds",
    help: "Request latency in seconds, by verb",
    labelNames: ["verb"],
    buckets: LATENCY_BUCKETS,
    registers: r,
  });
  const connectionWaitTimeouts = new Counter({
    name: "stateless_operator_api_connection_wait_timeouts_total",
    help: "Requests to the API server that could not get a connection within their timeout, by pool (watch, request, lease)",
    labelNames: ["pool"],
    registers: r,
  });
  const connections = new Gauge({
    name: "stateless_operator_api_connections",
    help: "Connections to the API server by pool (watch, request, lease): in_use, and requests waiting for one",
    labelNames: ["pool", "state"],
    registers: r,
  });
  const http2Connections = new Gauge({
    name: "stateless_operator_api_http2_connections",
    help: "HTTP/2 connections to the API server that carry the watches (WATCH_HTTP2), each up to the server's stream limit",
    registers: r,
  });
  const applies = new Counter({
    name: "stateless_operator_apply_total",
    help: "Server-side applies of owned objects, by kind and outcome (written, or skipped because nothing changed)",
    labelNames: ["kind", "outcome"],
    registers: r,
  });
  const leading = new Gauge({
    name: "leader_election_master_status",
    help: "1 while this instance holds the Lease, 0 otherwise",
    labelNames: ["name"],
    registers: r,
  });
  const informerEvents = new Counter({
    name: "stateless_operator_informer_events_total",
    help: "Watch events received, by resource and type",
    labelNames: ["resource", "type"],
    registers: r,
  });
  const watchRestarts = new Counter({
    name: "stateless_operator_informer_watch_restarts_total",
    help: "Watches re-established, by resource and reason (closed, stalled, gone, error, relist, unfinished: a streaming list that ended before its end bookmark)",
    labelNames: ["resource", "reason"],
    registers: r,
  });
  const informerSynced = new Gauge({
    name: "stateless_operator_informer_synced",
    help: "1 when the resource's cache holds a complete list",
    labelNames: ["resource"],
    registers: r,
  });
  const informerObjects = new Gauge({
    name: "stateless_operator_informer_list_objects",
    help: "Objects in the resource's last full list",
    labelNames: ["resource"],
    registers: r,
  });
  const lastEvent = new Map<string, number>();
  new Gauge({
    name: "stateless_operator_informer_last_event_age_seconds",
    help: "Seconds since the resource's watch last delivered an event or bookmark",
    labelNames: ["resource"],
    registers: r,
    collect() {
      for (const [resource, at] of lastEvent) this.set({ resource }, seconds(now() - at));
    },
  });

  return {
    registry,
    queue: (name) => ({
      depth: (n) => depth.set({ name }, n),
      added: () => adds.inc({ name }),
      retried: () => retries.inc({ name }),
      queueDuration: (ms) => queueDuration.observe({ name }, seconds(ms)),
      workDuration: (ms) => workDuration.observe({ name }, seconds(ms)),
      inFlight: (n) => activeWorkers.set({ controller: name }, n),
    }),
    reconcile: (controller) => ({
      reconciled: (result, ms) => {
        reconcileTotal.inc({ controller, result });
        reconcileTime.observe({ controller }, seconds(ms));
      },
      failed: (kind) => {
        reconcileErrors.inc({ controller });
        if (kind === "permanent") terminalErrors.inc({ controller });
      },
    }),
    reflector: (resource) => {
      // Unsynced until its first complete list: a cache that never lists shows as 0 (an alert).
      informerSynced.set({ resource }, 0);
      return {
        event: (type) => informerEvents.inc({ resource, type }),
        lastEventAt: (at) => lastEvent.set(resource, at),
        listed: (count) => informerObjects.set({ resource }, count),
        watchRestarted: (reason) => watchRestarts.inc({ resource, reason }),
        synced: (isSynced) => informerSynced.set({ resource }, isSynced ? 1 : 0),
      };
    },
    requests: {
      request: (verb, status, ms, method) => {
        requests.inc({ code: status === 0 ? "<error>" : String(status), method, verb });
        requestLatency.observe({ verb }, seconds(ms));
      },
    },
    connections: {
      waitTimedOut: (pool) => connectionWaitTimeouts.inc({ pool }),
      usage: (pool, inUse, waiting) => {
        connections.set({ pool, state: "in_use" }, inUse);
        connections.set({ pool, state: "waiting" }, waiting);
      },
      http2Connections: (open) => http2Connections.set(open),
    },
    apply: { applied: (kind, outcome) => applies.inc({ kind, outcome }) },
    leader: (name) => {
      // A candidate that never leads still says so: "no leader" is an alert (docs/operations.md).
      leading.set({ name }, 0);
      return { leading: (isLeader) => leading.set({ name }, isLeader ? 1 : 0) };
    },
  };
}
