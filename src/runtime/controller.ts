// The controller loop: reflector events → keys → work queue → reconcile(key) → Action, with error classification.
import { randomUUID } from "node:crypto";
import type { BackoffOptions } from "./backoff.ts";
import { type Clock, realClock, type Timer } from "./clock.ts";
import { classifyError, describeError, ErrorKind } from "./errors.ts";
import { type Logger, silentLogger } from "./logger.ts";
import type { QueueMetrics, ReconcileMetrics } from "./metrics.ts";
import { type KubeObject, objectKey } from "./object.ts";
import { type QueueOutcome, WorkQueue } from "./queue.ts";
import type { Reflector } from "./reflector.ts";
import { ownerKeys } from "./resource.ts";
import type { StoreEvent } from "./store.ts";

/** What reconcile asks for next: nothing until something changes, or another run after a delay. */
export type Action =
  | { readonly type: "awaitChange" }
  | { readonly type: "requeueAfter"; readonly ms: number };

export const awaitChange = (): Action => ({ type: "awaitChange" });
export const requeueAfter = (ms: number): Action => ({ type: "requeueAfter", ms });

export interface ReconcileContext {
  readonly key: string;
  /** Unique per run, for correlating log lines. */
  readonly reconcileId: string;
  /** Bound to `key` and `reconcileId`. */
  readonly logger: Logger;
  /** Aborted when workers stop (shutdown, or leadership lost): stop writing at once. */
  readonly signal: AbortSignal;
}

/** Level-based: it learns only which object to look at, never why. */
export type Reconciler = (key: string, ctx: ReconcileContext) => Promise<Action>;

/** What to do after reconcile threw. */
export type ErrorAction =
  | Action
  /** Retry after the key's jittered exponential backoff. */
  | { readonly type: "backoff" }
  /** Retry at once (a few times in a row; then it falls back to backoff). */
  | { readonly type: "retryNow" };

export interface ErrorContext extends ReconcileContext {
  readonly kind: ErrorKind;
  /** Consecutive failures of this key before this one. */
  readonly failures: number;
}

export type ErrorPolicy = (key: string, error: unknown, ctx: ErrorContext) => ErrorAction;

/** Permanent: wait for a change; conflict: retry now; transient: back off. */
export const defaultErrorPolicy: ErrorPolicy = (_key, _error, { kind }) => {
  switch (kind) {
    case ErrorKind.permanent:
      return awaitChange();
    case ErrorKind.conflict:
      return { type: "retryNow" };
    case ErrorKind.transient:
      return { type: "backoff" };
  }
};

/** A watch of other objects whose changes matter to some primaries (e.g. a Secret → the apps binding it). */
export interface MappedWatch {
  readonly reflector: Reflector;
  /** The primary keys (`namespace/name`) to reconcile when `obj` changes. */
  readonly map: (obj: KubeObject) => readonly string[];
}

export interface ControllerOptions {
  /** For logs and metrics labels. */
  readonly name: string;
  /** The reconciled resource; its keys are the queue's keys. */
  readonly primary: Reflector;
  /** Child resources: an event on one reconciles its controlling owner of the primary's kind. */
  readonly owns?: readonly Reflector[];
  readonly watches?: readonly MappedWatch[];
  readonly reconcile: Reconciler;
  /** @default defaultErrorPolicy */
  readonly errorPolicy?: ErrorPolicy;
  /** Concurrent reconciles (of distinct keys). @default 1 */
  readonly workers?: number;
  /**
   * Every primary key is reconciled this often even without events, so anything missed or
   * changed outside the watched types converges. 0 disables. @default 600_000 (10 min)
   */
  readonly resyncIntervalMs?: number;
  /** Per-key retry delays. @default {baseMs: 500, capMs: 300_000} */
  readonly backoff?: BackoffOptions;
  /** Immediate retries (conflicts) in a row before falling back to backoff. @default 3 */
  readonly maxImmediateRetries?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly metrics?: {
    readonly queue?: Partial<QueueMetrics>;
    readonly reconcile?: Partial<ReconcileMetrics>;
  };
  /** @default crypto.randomUUID */
  readonly newReconcileId?: () => string;
}

/**
 * Wires reflectors to a work queue and runs `reconcile` for each key. Caches and workers start
 * separately so a leader-election standby keeps its caches warm without reconciling:
 * `startCaches()` at boot, `startWorkers()` when leading, `stopWorkers()` when not.
 */
export class Controller {
  readonly name: string;
  readonly #options: ControllerOptions;
  readonly #queue: WorkQueue;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #reconcileMetrics: Partial<ReconcileMetrics>;
  readonly #newId: () => string;
  readonly #unsubscribe: Array<() => void> = [];
  #workers: AbortController | undefined;
  #resync: Timer | undefined;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#logger = (options.logger ?? silentLogger).child({ controller: options.name });
    this.#reconcileMetrics = options.metrics?.reconcile ?? {};
    this.#newId = options.newReconcileId ?? randomUUID;
    this.#queue = new WorkQueue({
      handler: (key) => this.#handle(key),
      workers: options.workers ?? 1,
      backoff: options.backoff ?? {},
      clock: this.#clock,
      logger: this.#logger,
      ...(options.metrics?.queue ? { metrics: options.metrics.queue } : {}),
    });
  }

  /** Every reflector this controller reads. */
  get reflectors(): Reflector[] {
    const o = this.#options;
    return [o.primary, ...(o.owns ?? []), ...(o.watches ?? []).map((w) => w.reflector)];
  }

  /** True when every store has been listed once (the readiness signal). */
  get synced(): boolean {
    return this.reflectors.every((r) => r.synced);
  }

  get leading(): boolean {
    return this.#workers !== undefined;
  }

  /** The queue, for inspection (length, in flight) and tests. */
  get queue(): WorkQueue {
    return this.#queue;
  }

  async whenSynced(): Promise<void> {
    await Promise.all(this.reflectors.map((r) => r.whenSynced()));
  }

  /** Subscribes to every reflector and starts them (a reflector shared with another controller starts once). */
  startCaches(): void {
    if (this.#unsubscribe.length > 0) return;
    const o = this.#options;
    const primaryType = o.primary.resource;
    this.#unsubscribe.push(
      o.primary.subscribe((e) => this.#enqueueAll(e, (obj) => [objectKey(obj)])),
    );
    for (const owned of o.owns ?? []) {
      this.#unsubscribe.push(
        owned.subscribe((e) => this.#enqueueAll(e, (obj) => ownerKeys(obj, primaryType))),
      );
    }
    for (const watch of o.watches ?? []) {
      this.#unsubscribe.push(watch.reflector.subscribe((e) => this.#enqueueAll(e, watch.map)));
    }
    for (const r of this.reflectors) r.start();
  }

  /**
   * Waits for the caches, then reconciles every primary key once and keeps processing events
   * (and the periodic resync) until `stopWorkers()`.
   */
  async startWorkers(): Promise<void> {
    if (this.#workers !== undefined) return;
    const workers = new AbortController();
    this.#workers = workers;
    await this.whenSynced();
    if (workers.signal.aborted || this.#queue.isShutDown) return;
    this.#logger.info({}, "starting workers");
    this.#resyncAll();
    this.#queue.start();
    this.#scheduleResync(workers.signal);
  }

  /**
   * Stops handing out keys, aborts the signal of in-flight reconciles, and resolves when they
   * have returned. Keys keep being collected, so a later `startWorkers()` resumes.
   */
  async stopWorkers(): Promise<void> {
    const workers = this.#workers;
    if (workers === undefined) return;
    this.#workers = undefined;
    this.#resync?.cancel();
    workers.abort();
    await this.#queue.pause();
    this.#logger.info({}, "workers stopped");
  }

  /** Stops workers (draining in-flight reconciles) and reflectors; final. */
  async shutdown(): Promise<void> {
    this.#resync?.cancel();
    this.#workers?.abort();
    this.#workers = undefined;
    await this.#queue.shutdown();
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    await Promise.all(this.reflectors.map((r) => r.stop()));
  }

  /** Schedules a reconcile of `key` (e.g. from an external trigger). */
  enqueue(key: string): void {
    this.#queue.add(key);
  }

  #enqueueAll(event: StoreEvent, map: (obj: KubeObject) => readonly string[]): void {
    const keys = new Set<string>();
    const collect = (obj: KubeObject) => {
      try {
        for (const key of map(obj)) keys.add(key);
      } catch (err) {
        this.#logger.error(
          { ...describeError(err), object: objectKey(obj) },
          "mapping an event to keys threw",
        );
      }
    };
    collect(event.object);
    // An update may have moved the object from one owner (or referrer) to another: both care.
    if (event.type === "update") collect(event.old);
    for (const key of keys) this.#queue.add(key);
  }

  #resyncAll(): void {
    for (const key of this.#options.primary.store.keys()) this.#queue.add(key);
  }

  #scheduleResync(signal: AbortSignal): void {
    const every = this.#options.resyncIntervalMs ?? 600_000;
    if (every <= 0) return;
    this.#resync = this.#clock.setTimer(every, () => {
      if (signal.aborted) return;
      this.#logger.debug({}, "periodic resync");
      this.#resyncAll();
      this.#scheduleResync(signal);
    });
  }

  async #handle(key: string): Promise<QueueOutcome> {
    const signal = this.#workers?.signal ?? AbortSignal.abort();
    const reconcileId = this.#newId();
    const logger = this.#logger.child({ key, reconcileId });
    const ctx: ReconcileContext = { key, reconcileId, logger, signal };
    const started = this.#clock.now();
    try {
      const action = await this.#options.reconcile(key, ctx);
      const ms = this.#clock.now() - started;
      if (action.type === "requeueAfter") {
        this.#reconcileMetrics.reconciled?.("requeue_after", ms);
        return { type: "requeueAfter", ms: action.ms };
      }
      this.#reconcileMetrics.reconciled?.("success", ms);
      return { type: "done" };
    } catch (error) {
      return this.#onError(key, error, ctx, this.#clock.now() - started);
    }
  }

  #onError(key: string, error: unknown, ctx: ReconcileContext, ms: number): QueueOutcome {
    const kind = classifyError(error);
    const failures = this.#queue.failures(key);
    this.#reconcileMetrics.reconciled?.("error", ms);
    this.#reconcileMetrics.failed?.(kind);
    let decision: ErrorAction;
    try {
      decision = (this.#options.errorPolicy ?? defaultErrorPolicy)(key, error, {
        ...ctx,
        kind,
        failures,
      });
    } catch (policyError) {
      ctx.logger.error(describeError(policyError), "error policy threw; backing off");
      decision = { type: "backoff" };
    }
    const fields = { ...describeError(error), kind, failures, next: decision.type };
    if (kind === ErrorKind.conflict) ctx.logger.debug(fields, "reconcile conflict");
    else if (kind === ErrorKind.permanent) ctx.logger.error(fields, "reconcile failed permanently");
    else ctx.logger.warn(fields, "reconcile failed");
    switch (decision.type) {
      case "awaitChange":
        return { type: "done" };
      case "requeueAfter":
        return { type: "requeueAfter", ms: decision.ms };
      case "backoff":
        return { type: "retry" };
      case "retryNow":
        return { type: "retry", immediate: failures < (this.#options.maxImmediateRetries ?? 3) };
    }
  }
}
