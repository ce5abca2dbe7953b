// Work queue of object keys: deduplicated, one in flight per key, N workers, per-key backoff, delayed adds.
import { type BackoffOptions, backoffDelay } from "./backoff.ts";
import { type Clock, realClock, type Timer } from "./clock.ts";
import { describeError } from "./errors.ts";
import { type Logger, silentLogger } from "./logger.ts";
import type { QueueMetrics } from "./metrics.ts";

/** What the handler wants done with the key it just processed. */
export type QueueOutcome =
  | { readonly type: "done" }
  | { readonly type: "requeueAfter"; readonly ms: number }
  /** A failure: the key comes back after its backoff delay (or at once when `immediate`). */
  | { readonly type: "retry"; readonly immediate?: boolean };

export type QueueHandler = (key: string) => Promise<QueueOutcome>;

export interface WorkQueueOptions {
  readonly handler: QueueHandler;
  /** Keys processed concurrently (always distinct keys). @default 1 */
  readonly workers?: number;
  /** Per-key retry delays after failures. @default {baseMs: 500, capMs: 300_000} */
  readonly backoff?: BackoffOptions;
  /** @default realClock */
  readonly clock?: Clock;
  readonly metrics?: Partial<QueueMetrics>;
  readonly logger?: Logger;
}

interface Delayed {
  readonly due: number;
  readonly timer: Timer;
}

/** Longest stretch of back-to-back work before the event loop gets a turn. */
const YIELD_AFTER_MS = 20;

/**
 * A key added while it is in flight is remembered and processed once more afterwards, never
 * concurrently: the handler reads the latest state, so one extra run covers any number of adds.
 * The queue starts paused (a controller waits for its caches first); `start()` begins dispatching.
 */
export class WorkQueue {
  #yieldedAt = performance.now();
  #yieldScheduled = false;
  readonly #handler: QueueHandler;
  readonly #workers: number;
  readonly #backoff: BackoffOptions;
  readonly #clock: Clock;
  readonly #metrics: Partial<QueueMetrics>;
  readonly #logger: Logger;

  /** Keys waiting for a worker, in arrival order. */
  #ready: string[] = [];
  /** Keys that must be processed (waiting, or re-added while in flight), with when they were added. */
  #dirty = new Map<string, number>();
  #inFlight = new Set<string>();
  #delayed = new Map<string, Delayed>();
  #failures = new Map<string, number>();
  #running = false;
  #shutDown = false;
  #idleWaiters: Array<() => void> = [];

  constructor(options: WorkQueueOptions) {
    this.#handler = options.handler;
    this.#workers = Math.max(1, options.workers ?? 1);
    this.#backoff = options.backoff ?? {};
    this.#clock = options.clock ?? realClock;
    this.#metrics = options.metrics ?? {};
    this.#logger = options.logger ?? silentLogger;
  }

  /** Keys waiting for a worker. */
  get length(): number {
    return this.#ready.length;
  }

  /** Keys being processed. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Keys scheduled for later. */
  get delayed(): number {
    return this.#delayed.size;
  }

  get isShutDown(): boolean {
    return this.#shutDown;
  }

  /** Consecutive failures of `key` since its last success. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Schedules `key` for processing; returns false once the queue is shut down. */
  add(key: string): boolean {
    if (this.#shutDown) return false;
    this.#metrics.added?.();
    if (this.#dirty.has(key)) return true;
    this.#dirty.set(key, this.#clock.now());
    if (!this.#inFlight.has(key)) {
      this.#ready.push(key);
      this.#metrics.depth?.(this.#ready.length);
      this.#pump();
    }
    return true;
  }

  /** Adds `key` after `ms`; of several pending delayed adds of one key, the earliest wins. */
  addAfter(key: string, ms: number): boolean {
    if (this.#shutDown) return false;
    if (ms <= 0) return this.add(key);
    const due = this.#clock.now() + ms;
    const pending = this.#delayed.get(key);
    if (pending !== undefined) {
      if (pending.due <= due) return true;
      pending.timer.cancel();
    }
    const timer = this.#clock.setTimer(ms, () => {
      this.#delayed.delete(key);
      this.add(key);
    });
    this.#delayed.set(key, { due, timer });
    return true;
  }

  /** Begins (or resumes) handing keys to workers. */
  start(): void {
    if (this.#shutDown) return;
    this.#running = true;
    this.#pump();
  }

  /**
   * Stops handing out keys but keeps accepting (and deduplicating) adds; resolves once the
   * in-flight keys finished. Used when leadership is lost: the standby must not write.
   */
  pause(): Promise<void> {
    this.#running = false;
    return this.#whenIdle();
  }

  /**
   * Refuses new keys, drops waiting and delayed ones, and resolves when in-flight keys finished.
   * Dropping is safe: whoever processes these objects next starts from a full list.
   */
  shutdown(): Promise<void> {
    this.#shutDown = true;
    this.#running = false;
    for (const { timer } of this.#delayed.values()) timer.cancel();
    this.#delayed.clear();
    this.#ready = [];
    this.#dirty.clear();
    this.#metrics.depth?.(0);
    return this.#whenIdle();
  }

  #whenIdle(): Promise<void> {
    if (this.#inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (this.#running && this.#inFlight.size < this.#workers) {
      const key = this.#ready.shift();
      if (key === undefined) return;
      const addedAt = this.#dirty.get(key) ?? this.#clock.now();
      this.#dirty.delete(key);
      this.#inFlight.add(key);
      this.#metrics.depth?.(this.#ready.length);
      this.#metrics.inFlight?.(this.#inFlight.size);
      this.#metrics.queueDuration?.(this.#clock.now() - addedAt);
      void this.#process(key);
    }
  }

  async #process(key: string): Promise<void> {
    const started = this.#clock.now();
    let outcome: QueueOutcome;
    try {
      outcome = await this.#handler(key);
    } catch (err) {
      // The handler is expected to classify its own errors; an escaped one is a plain retry.
      this.#logger.error({ key, ...describeError(err) }, "work queue handler threw");
      outcome = { type: "retry" };
    }
    this.#metrics.workDuration?.(this.#clock.now() - started);
    // Settle while the key still counts as in flight, so an immediate re-add only marks it dirty.
    this.#settle(key, outcome);
    this.#inFlight.delete(key);
    this.#metrics.inFlight?.(this.#inFlight.size);
    if (this.#dirty.has(key) && !this.#shutDown) {
      this.#ready.push(key);
      this.#metrics.depth?.(this.#ready.length);
    }
    if (this.#inFlight.size === 0) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
    // Handlers that never wait for I/O (a no-op reconcile reads only caches) would otherwise run a
    // whole pass of keys in one go of microtasks, holding up timers, watches and /healthz.
    if (performance.now() - this.#yieldedAt < YIELD_AFTER_MS) {
      this.#pump();
    } else if (!this.#yieldScheduled) {
      this.#yieldScheduled = true;
      setImmediate(() => {
        this.#yieldScheduled = false;
        this.#yieldedAt = performance.now();
        this.#pump();
      });
    }
  }

  #settle(key: string, outcome: QueueOutcome): void {
    switch (outcome.type) {
      case "done":
        this.#failures.delete(key);
        return;
      case "requeueAfter":
        this.#failures.delete(key);
        this.addAfter(key, outcome.ms);
        return;
      case "retry": {
        const failures = this.failures(key);
        this.#failures.set(key, failures + 1);
        if (this.#shutDown) return;
        this.#metrics.retried?.();
        this.addAfter(key, outcome.immediate ? 0 : backoffDelay(failures, this.#backoff));
        return;
      }
    }
  }
}
