// Reflector: keeps a Store equal to the apiserver's view of one resource type (list, then watch, forever).
import { Backoff, type BackoffOptions } from "./backoff.ts";
import { type Clock, realClock, type Timer } from "./clock.ts";
import { describeError, httpStatusOf } from "./errors.ts";
import { StringInterner, shareStrings } from "./intern.ts";
import { endsInitialEvents, type ListWatchSource, type WatchEvent } from "./listwatch.ts";
import { type Logger, silentLogger } from "./logger.ts";
import type { ReflectorMetrics } from "./metrics.ts";
import { cacheForm, type KubeObject, objectKey, type Status } from "./object.ts";
import type { ResourceType } from "./resource.ts";
import { type ReadonlyStore, Store, type StoreEvent } from "./store.ts";
import { EventLoopTurns } from "./turns.ts";

/**
 * Objects per list page: parsing a page is one piece of work nothing can interrupt, about 25 ms
 * and a burst of garbage for 500 pods on a 2-core machine, so pages are half client-go's 500.
 */
export const DEFAULT_PAGE_SIZE = 250;

/** How long a streaming list may deliver nothing before its end bookmark (`initialEventsSilenceMs`). */
const DEFAULT_INITIAL_EVENTS_SILENCE_MS = 30_000;

export interface ReflectorOptions<T extends KubeObject = KubeObject> {
  readonly resource: ResourceType;
  readonly source: ListWatchSource;
  /** For logs and metrics. @default the resource's plural */
  readonly name?: string;
  /**
   * Namespaces to watch: one list+watch per namespace, all into one store. Omitted or empty:
   * all namespaces with a single list+watch. Ignored for cluster-scoped types.
   */
  readonly namespaces?: readonly string[];
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Objects per list page. @default DEFAULT_PAGE_SIZE (250) */
  readonly pageSize?: number;
  /**
   * Fill the store from a streaming list (a watch with `sendInitialEvents`, one object per
   * event) instead of list pages, then go on watching on the same connection. A server that
   * refuses it (400 or 422: the WatchList feature off), or ends the stream or falls silent
   * before the bookmark that ends the initial events (a server that ignores the parameter),
   * makes the reflector list from then on. @default false
   */
  readonly streamingList?: boolean;
  /**
   * A streaming list that delivers nothing for this long before its end bookmark is taken to
   * be one the server does not honour: the reflector lists instead. A server that honours it
   * sends the initial events back to back and the bookmark right after them.
   * @default DEFAULT_INITIAL_EVENTS_SILENCE_MS (30 s)
   */
  readonly initialEventsSilenceMs?: number;
  /**
   * Server-side watch timeout, picked at random in this range for each watch so that many
   * watches do not all reconnect at the same moment. @default {min: 300, max: 600}
   */
  readonly watchTimeoutSeconds?: { readonly min: number; readonly max: number };
  /**
   * A watch that delivers no event and no bookmark for this long is presumed dead (a half-open
   * connection never errors) and re-established from the last resourceVersion. The apiserver
   * sends a bookmark about once a minute on an idle watch, so keep this well above 60 s.
   * @default 180_000
   */
  readonly inactivityTimeoutMs?: number;
  /** A watch that ends sooner than this without any event counts as a failure (backoff). @default 5_000 */
  readonly minHealthyWatchMs?: number;
  /**
   * Periodic full relist: restarts from a fresh list this often, turning any event the watch
   * may have lost into add/update/delete events. 0 disables it (a watch resumed from its
   * resourceVersion loses nothing, and a list of a large type is expensive). @default 0
   */
  readonly relistIntervalMs?: number;
  /**
   * Delay after consecutive failures. The cap bounds how long a watch stays down after the API
   * server returns from an outage. @default {baseMs: 1_000, capMs: 15_000}
   */
  readonly backoff?: BackoffOptions;
  /**
   * Field managers whose `managedFields` entries are kept; all others are dropped to save
   * memory. Server-side apply keeps its own entry to detect fields it stopped setting.
   * @default []
   */
  readonly keepManagedFieldsOf?: readonly string[];
  /**
   * Called for each failed list or watch (other than 410 Gone), before the backoff: lets an owner
   * report a resource it cannot watch (RBAC, a kind that is not served) instead of waiting.
   */
  readonly onError?: (error: unknown) => void;
  /** Trims objects further before they are stored (e.g. drops a large annotation). */
  readonly transform?: (obj: KubeObject) => T;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly metrics?: Partial<ReflectorMetrics>;
  /** Randomness for watch timeouts and backoff jitter. @default Math.random */
  readonly random?: () => number;
}

/** Shared by every cache of the process: a Deployment and its Service repeat the same labels. */
const cachedStrings = new StringInterner();

export type StoreEventHandler<T extends KubeObject = KubeObject> = (event: StoreEvent<T>) => void;

/** Why one watch ended. */
type WatchEnd = "closed" | "stalled" | "gone" | "relist" | "stopped" | "unfinished";

/** Per-namespace progress: where to resume, and when the last full list happened. */
interface Cursor {
  resourceVersion: string | undefined;
  listedAt: number;
  /** The current watch delivered an event: the connection worked, so backoff starts over. */
  delivered: boolean;
}

/**
 * Lists (paginated), then watches from the list's resourceVersion with bookmarks and a
 * server-side timeout, resuming from the last seen resourceVersion after every interruption:
 * - a failed request or broken stream: jittered exponential backoff, then resume (no relist);
 * - no event or bookmark for `inactivityTimeoutMs`: abort, backoff, resume;
 * - 410 Gone (HTTP or an ERROR event in the stream): full relist, which also emits deletes for
 *   objects that vanished meanwhile;
 * - a normal close (server timeout): resume at once;
 * - a streaming list (`streamingList`) refused with 400/422, or closed or silent before its
 *   end bookmark: list page by page from then on.
 * It never throws out of its loop, and a subscriber that throws is logged, not propagated.
 */
export class Reflector<T extends KubeObject = KubeObject> {
  readonly resource: ResourceType;
  readonly name: string;
  readonly #options: ReflectorOptions<T>;
  readonly #store: Store<T>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #metrics: Partial<ReflectorMetrics>;
  readonly #random: () => number;
  readonly #handlers = new Set<StoreEventHandler<T>>();
  readonly #scopes: ReadonlyArray<string | undefined>;
  readonly #syncedScopes = new Set<string | undefined>();
  #syncWaiters: Array<() => void> = [];
  #stop = new AbortController();
  #loops: Promise<void>[] = [];
  #lastEventAt: number | undefined;
  #lastError: unknown;
  /** Starts from a streaming list; false once the server has refused one. */
  #streaming: boolean;

  constructor(options: ReflectorOptions<T>) {
    this.#options = options;
    this.resource = options.resource;
    this.name = options.name ?? options.resource.plural;
    this.#clock = options.clock ?? realClock;
    this.#logger = (options.logger ?? silentLogger).child({ reflector: this.name });
    this.#metrics = options.metrics ?? {};
    this.#random = options.random ?? Math.random;
    this.#streaming = options.streamingList ?? false;
    this.#store = new Store<T>({
      onIndexError: (index, key, error) =>
        this.#logger.error(
          { ...describeError(error), index, key },
          "index function threw; the object is stored but not indexed",
        ),
    });
    const namespaces = options.resource.namespaced ? (options.namespaces ?? []) : [];
    this.#scopes = namespaces.length > 0 ? [...new Set(namespaces)] : [undefined];
  }

  get store(): ReadonlyStore<T> {
    return this.#store;
  }

  /** True once every namespace has been listed once. */
  get synced(): boolean {
    return this.#syncedScopes.size === this.#scopes.length;
  }

  /** Epoch ms of the last watch event, bookmark or completed list. */
  get lastEventAt(): number | undefined {
    return this.#lastEventAt;
  }

  /** The last list or watch failure since the last successful list, if any. */
  get lastError(): unknown {
    return this.#lastError;
  }

  get running(): boolean {
    return this.#loops.length > 0;
  }

  /** Resolves once synced (at once if it already is). */
  whenSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  /** Adds an index to the store (see `Store.addIndex`). */
  addIndex(name: string, fn: (obj: T) => readonly string[]): this {
    this.#store.addIndex(name, fn);
    return this;
  }

  /** Calls `handler` for every change; returns the unsubscribe function. */
  subscribe(handler: StoreEventHandler<T>): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Starts the list+watch loops (once; later calls do nothing). */
  start(): void {
    if (this.#loops.length > 0) return;
    this.#stop = new AbortController();
    this.#loops = this.#scopes.map((ns) => this.#run(ns));
  }

  /** Aborts the watches and resolves when the loops have exited. The store keeps its content. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#loops);
    this.#loops = [];
  }

  async #run(namespace: string | undefined): Promise<void> {
    const stop = this.#stop.signal;
    const log = namespace === undefined ? this.#logger : this.#logger.child({ namespace });
    const backoff = new Backoff({
      baseMs: 1_000,
      capMs: 15_000,
      random: this.#random,
      ...this.#options.backoff,
    });
    const cursor: Cursor = { resourceVersion: undefined, listedAt: 0, delivered: false };
    // Consecutive 410s: the first relists at once (the usual end of an outage, whatever the
    // backoff grew to while the server was away); a 410 right after a relist backs off.
    let goneBefore = false;
    const goneDelay = () => {
      const delay = goneBefore ? backoff.next() : 0;
      goneBefore = true;
      return delay;
    };
    while (!stop.aborted) {
      let delay = 0;
      let gone = false;
      try {
        if (cursor.resourceVersion === undefined && !this.#streaming) {
          cursor.resourceVersion = await this.#list(namespace, stop);
          cursor.listedAt = this.#clock.now();
        }
        const started = this.#clock.now();
        cursor.delivered = false;
        const end = await this.#watch(namespace, cursor, stop);
        if (end === "stopped") return;
        this.#metrics.watchRestarted?.(end);
        if (cursor.delivered) backoff.reset();
        switch (end) {
          case "closed": {
            const healthy =
              cursor.delivered ||
              this.#clock.now() - started >= (this.#options.minHealthyWatchMs ?? 5_000);
            if (!healthy) delay = backoff.next();
            log.debug({ delay }, "watch closed; resuming");
            break;
          }
          case "stalled":
            delay = backoff.next();
            log.warn(
              { delay, resourceVersion: cursor.resourceVersion },
              "watch silent past the inactivity timeout; restarting",
            );
            break;
          case "gone":
            gone = true;
            delay = goneDelay();
            cursor.resourceVersion = undefined;
            log.info({ delay }, "watch resourceVersion expired (410); relisting");
            break;
          case "relist":
            cursor.resourceVersion = undefined;
            log.debug({}, "periodic relist");
            break;
          case "unfinished":
            // Progress beats waiting for a bookmark that may never come: list, as with a 400.
            this.#streaming = false;
            log.warn(
              {
                silenceMs:
                  this.#options.initialEventsSilenceMs ?? DEFAULT_INITIAL_EVENTS_SILENCE_MS,
              },
              "the streaming list ended or fell silent before its end bookmark (the API server may not honour sendInitialEvents); listing page by page from now on",
            );
            break;
        }
      } catch (err) {
        if (stop.aborted) return;
        if (cursor.delivered) backoff.reset();
        cursor.delivered = false;
        const status = httpStatusOf(err);
        if (this.#streaming && cursor.resourceVersion === undefined && refusesStreaming(status)) {
          // An API server without the WatchList feature validates the parameter away: list.
          this.#streaming = false;
          log.info(
            describeError(err),
            "the API server refused a streaming list; listing page by page from now on",
          );
          continue;
        }
        if (status === 410) {
          gone = true;
          delay = goneDelay();
          cursor.resourceVersion = undefined;
          this.#metrics.watchRestarted?.("gone");
          log.info({ delay }, "resourceVersion expired (410); relisting");
        } else {
          delay = backoff.next();
          this.#lastError = err;
          this.#metrics.watchRestarted?.("error");
          try {
            this.#options.onError?.(err);
          } catch (handlerError) {
            log.error(describeError(handlerError), "error handler threw");
          }
          // Resumes from cursor.resourceVersion: a failed list leaves it unset (list again),
          // a failed watch keeps the last version it saw.
          log.warn(
            { ...describeError(err), delay, listing: cursor.resourceVersion === undefined },
            "list/watch failed; retrying",
          );
        }
      }
      if (!gone) goneBefore = false;
      if (delay > 0) await this.#clock.sleep(delay, stop);
    }
  }

  async #list(namespace: string | undefined, signal: AbortSignal): Promise<string> {
    const o = this.#options;
    const items: T[] = [];
    let token: string | undefined;
    let resourceVersion = "";
    // Trimming a page of 500 objects, or telling the handlers about 20 000, is tens to hundreds
    // of milliseconds of work: it is done in slices, so the event loop is never held that long.
    const turns = new EventLoopTurns();
    do {
      // A 410 on a continue token (it expired) propagates: the loop relists from the start.
      const page = await o.source.list(
        {
          namespace,
          labelSelector: o.labelSelector,
          fieldSelector: o.fieldSelector,
          limit: o.pageSize ?? DEFAULT_PAGE_SIZE,
          continue: token,
        },
        signal,
      );
      for (const item of page.items) {
        items.push(this.#prepare(item));
        if (turns.due()) await turns.yield();
      }
      resourceVersion = page.resourceVersion;
      token = page.continue;
    } while (token !== undefined && token !== "");
    await this.#replace(namespace, items, turns);
    return resourceVersion;
  }

  /** Makes the store hold exactly `items` in the scope, tells the handlers, and marks it synced. */
  async #replace(namespace: string | undefined, items: T[], turns: EventLoopTurns): Promise<void> {
    const inScope =
      namespace === undefined ? () => true : (obj: T) => obj.metadata?.namespace === namespace;
    const events = this.#store.replace(items, inScope);
    this.#lastError = undefined;
    this.#touch();
    this.#metrics.listed?.(items.length);
    // The store is replaced at once (readers never see half a list); only the telling is sliced.
    for (const event of events) {
      this.#emit(event);
      if (turns.due()) await turns.yield();
    }
    this.#markSynced(namespace);
  }

  async #watch(
    namespace: string | undefined,
    cursor: Cursor,
    stop: AbortSignal,
  ): Promise<WatchEnd> {
    const o = this.#options;
    const aborter = new AbortController();
    let reason: WatchEnd | undefined;
    const end = (why: WatchEnd) => {
      reason ??= why;
      aborter.abort();
    };
    const onStop = () => end("stopped");
    stop.addEventListener("abort", onStop, { once: true });
    // Without a resourceVersion this watch is a streaming list: its objects are gathered
    // (sliced like a list page's) until the bookmark that ends them replaces the store.
    let initial =
      cursor.resourceVersion === undefined && this.#streaming ? new Map<string, T>() : undefined;
    const silenceMs = () =>
      initial === undefined
        ? (o.inactivityTimeoutMs ?? 180_000)
        : (o.initialEventsSilenceMs ?? DEFAULT_INITIAL_EVENTS_SILENCE_MS);
    // Closed, or silent, before the end bookmark: the server did not finish a streaming list.
    const unlessUnfinished = (why: WatchEnd): WatchEnd =>
      initial !== undefined && (why === "closed" || why === "stalled") ? "unfinished" : why;
    let inactivity: Timer = this.#clock.setTimer(silenceMs(), () => end("stalled"));
    let relist: Timer | undefined;
    const armRelist = () => {
      if ((o.relistIntervalMs ?? 0) <= 0) return;
      const due = cursor.listedAt + (o.relistIntervalMs ?? 0) - this.#clock.now();
      relist = this.#clock.setTimer(Math.max(0, due), () => end("relist"));
    };
    if (cursor.resourceVersion !== undefined) armRelist();
    try {
      if (stop.aborted) return "stopped";
      const range = o.watchTimeoutSeconds ?? { min: 300, max: 600 };
      const timeoutSeconds = Math.floor(range.min + this.#random() * (range.max - range.min + 1));
      const turns = new EventLoopTurns();
      const events = o.source.watch(
        {
          namespace,
          labelSelector: o.labelSelector,
          fieldSelector: o.fieldSelector,
          resourceVersion: cursor.resourceVersion ?? "",
          timeoutSeconds,
          allowWatchBookmarks: true,
          ...(initial ? { sendInitialEvents: true } : {}),
        },
        aborter.signal,
      );
      for await (const event of events) {
        if (reason !== undefined) break;
        inactivity.cancel();
        if (event.type === "ERROR") {
          const status = event.object as Status;
          if (status.code === 410) return "gone";
          throw new WatchError(status);
        }
        if (initial !== undefined) {
          if (endsInitialEvents(event)) {
            await this.#replace(namespace, [...initial.values()], turns);
            initial = undefined;
            cursor.listedAt = this.#clock.now();
            cursor.resourceVersion = event.object.metadata?.resourceVersion ?? "";
            cursor.delivered = true;
            armRelist();
          } else if (event.type !== "BOOKMARK") {
            const key = objectKey(event.object);
            if (event.type === "DELETED") initial.delete(key);
            else initial.set(key, this.#prepare(event.object));
          }
        } else {
          this.#apply(event, cursor);
          cursor.delivered = true;
        }
        // Armed after the event, so that the end bookmark's event already gets the watch's limit.
        inactivity = this.#clock.setTimer(silenceMs(), () => end("stalled"));
        if (initial !== undefined && turns.due()) await turns.yield();
      }
      return unlessUnfinished(reason ?? "closed");
    } catch (err) {
      if (reason !== undefined) return unlessUnfinished(reason);
      throw err;
    } finally {
      inactivity.cancel();
      relist?.cancel();
      stop.removeEventListener("abort", onStop);
      aborter.abort();
    }
  }

  #apply(event: WatchEvent, cursor: Cursor): void {
    const version = event.object.metadata?.resourceVersion;
    this.#touch();
    this.#metrics.event?.(event.type);
    switch (event.type) {
      case "BOOKMARK":
        break;
      case "ADDED":
      case "MODIFIED": {
        const obj = this.#prepare(event.object);
        const old = this.#store.set(obj);
        this.#emit(
          old === undefined ? { type: "add", object: obj } : { type: "update", object: obj, old },
        );
        break;
      }
      case "DELETED": {
        const obj = this.#prepare(event.object);
        this.#store.delete(objectKey(obj));
        this.#emit({ type: "delete", object: obj });
        break;
      }
    }
    if (version !== undefined && version !== "") cursor.resourceVersion = version;
  }

  #prepare(obj: KubeObject): T {
    return shareStrings(this.#trim(obj), cachedStrings);
  }

  #trim(obj: KubeObject): T {
    const stripped = cacheForm(obj, this.#options.keepManagedFieldsOf);
    const transform = this.#options.transform;
    if (transform === undefined) return stripped as T;
    try {
      return transform(stripped);
    } catch (err) {
      // Keeping the untrimmed object beats losing it.
      this.#logger.error(
        { ...describeError(err), key: objectKey(obj) },
        "transform threw; storing the object as is",
      );
      return stripped as T;
    }
  }

  #emit(event: StoreEvent<T>): void {
    for (const handler of this.#handlers) {
      try {
        handler(event);
      } catch (err) {
        this.#logger.error(
          { ...describeError(err), event: event.type, key: objectKey(event.object) },
          "event handler threw",
        );
      }
    }
  }

  #touch(): void {
    this.#lastEventAt = this.#clock.now();
    this.#metrics.lastEventAt?.(this.#lastEventAt);
  }

  #markSynced(namespace: string | undefined): void {
    if (this.#syncedScopes.has(namespace)) return;
    this.#syncedScopes.add(namespace);
    if (!this.synced) return;
    this.#metrics.synced?.(true);
    this.#logger.info({ objects: this.#store.size }, "synced");
    for (const resolve of this.#syncWaiters.splice(0)) resolve();
  }
}

/** A streaming list refused by validation: the API server does not serve it (WatchList off). */
function refusesStreaming(status: number | undefined): boolean {
  return status === 400 || status === 422;
}

/** A watch `ERROR` event other than 410, carrying the Status code so it classifies like an HTTP error. */
export class WatchError extends Error {
  override readonly name = "WatchError";
  readonly code: number | undefined;
  readonly reason: string | undefined;

  constructor(status: Status) {
    super(
      `watch error: ${status.reason ?? "unknown"}${status.message ? `: ${status.message.slice(0, 300)}` : ""}`,
    );
    this.code = status.code;
    this.reason = status.reason;
  }
}
