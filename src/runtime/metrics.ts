// Metric hooks the runtime calls; the platform layer binds them to prom-client (names are its business).

/** Work queue instrumentation, one set per queue (the platform binds the queue's name as a label). */
export interface QueueMetrics {
  /** Keys waiting (not counting in-flight or delayed ones). */
  depth(n: number): void;
  /** A key was added (including a deduplicated add). */
  added(): void;
  /** A key was scheduled again after a failure. */
  retried(): void;
  /** How long a key waited in the queue before a worker took it. */
  queueDuration(ms: number): void;
  /** How long the handler ran. */
  workDuration(ms: number): void;
  /** Keys being processed right now. */
  inFlight(n: number): void;
}

/** Reconcile outcomes, labelled like controller-runtime's `result` label. */
export type ReconcileResult = "success" | "error" | "requeue" | "requeue_after";

export interface ReconcileMetrics {
  reconciled(result: ReconcileResult, ms: number): void;
  /** A reconcile failed; `kind` is the error classification. */
  failed(kind: string): void;
}

export interface ReflectorMetrics {
  /** A watch event (ADDED, MODIFIED, DELETED, BOOKMARK) or a relist-derived change arrived. */
  event(type: string): void;
  /** Epoch ms of the last event or bookmark: the platform derives "last event age" from it. */
  lastEventAt(epochMs: number): void;
  /** A full list finished with `count` objects. */
  listed(count: number): void;
  /** A watch ended and will be re-established; reason is a short token (closed, stalled, gone, error, relist). */
  watchRestarted(reason: string): void;
  synced(isSynced: boolean): void;
}

export interface RequestMetrics {
  /**
   * One HTTP request to the apiserver finished; status 0 means no response (network error).
   * `verb` is what it does (list, apply, …), `method` the HTTP method (GET, PATCH, …).
   */
  request(verb: string, status: number, ms: number, method: string): void;
}

/** The transport's connection pools (watch, request, lease). */
export interface ConnectionMetrics {
  /** A request of `pool` could not get a connection within its timeout. */
  waitTimedOut(pool: string): void;
  /** A pool's connections in use and requests waiting for one changed. */
  usage(pool: string, inUse: number, waiting: number): void;
  /** The number of HTTP/2 connections carrying watches changed. */
  http2Connections(open: number): void;
}

export interface ApplyMetrics {
  /** An apply that wrote, or was skipped because the live object already matched. */
  applied(kind: string, outcome: "written" | "skipped"): void;
}

export interface LeaderMetrics {
  leading(isLeader: boolean): void;
}
