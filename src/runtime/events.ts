// Records events.k8s.io/v1 Events on objects: deduplicated into series, rate limited, never throwing.
import { type Clock, realClock, type Timer } from "./clock.ts";
import { describeError, httpStatusOf } from "./errors.ts";
import { formatMicroTime } from "./leader.ts";
import { type Logger, silentLogger } from "./logger.ts";
import type { KubeObject } from "./object.ts";
import { builtinResources, resourcePath } from "./resource.ts";
import { type HttpTransport, requestJson } from "./transport.ts";

export const EventType = { normal: "Normal", warning: "Warning" } as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

export interface EventInput {
  /** The object the event is about (must have apiVersion, kind, metadata.name and uid). */
  readonly regarding: KubeObject;
  readonly type: EventType;
  /** UpperCamelCase, machine-readable (e.g. "DriftCorrected"). */
  readonly reason: string;
  /** What was done (e.g. "Apply"). */
  readonly action: string;
  /** Human-readable; truncated to 1 kB. Never put Secret data here. */
  readonly note: string;
  readonly related?: KubeObject;
}

export interface EventRecorderOptions {
  readonly transport: HttpTransport;
  /** e.g. "twelvefactor.dev/stateless-operator". */
  readonly reportingController: string;
  /** This process, e.g. the pod name. */
  readonly reportingInstance: string;
  /** A repeat within this time of the previous occurrence joins its series. @default 360_000 (6 min) */
  readonly seriesWindowMs?: number;
  /** A series is written at most this often (repeats in between are counted). @default 30_000 */
  readonly seriesUpdateIntervalMs?: number;
  /** New events per object allowed at once. @default 25 */
  readonly burst?: number;
  /** One more new event per object is allowed after each interval. @default 300_000 (5 min) */
  readonly refillIntervalMs?: number;
  /** Checked before every write; false drops the event (a standby does not record). */
  readonly writeGate?: () => boolean;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** One deduplicated event: the Event object written, and the occurrences since. */
interface Series {
  readonly namespace: string;
  name: string | undefined;
  count: number;
  writtenCount: number;
  lastAt: number;
  lastWriteAt: number;
  timer: Timer | undefined;
  /** Writes of one series run in order (a series update after its create). */
  chain: Promise<void>;
  readonly input: EventInput;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * events.k8s.io/v1 rather than core/v1: it is the current API, it has `series` for repeats
 * (which `kubectl describe` shows as "(x5 over 2m)"), and `reportingController` /
 * `reportingInstance` say which replica acted. Both APIs store the same objects, so
 * `kubectl describe` and `kubectl get events` see them either way.
 */
export class EventRecorder {
  readonly #o: EventRecorderOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #series = new Map<string, Series>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #pending = new Set<Promise<void>>();
  #seq = 0;
  #lastSweep = 0;

  constructor(options: EventRecorderOptions) {
    this.#o = options;
    this.#clock = options.clock ?? realClock;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Records an event in the background. Never throws, never waits. */
  record(input: EventInput): void {
    try {
      this.#record(input);
    } catch (err) {
      this.#logger.warn(describeError(err), "recording an event failed");
    }
  }

  /** Resolves when every write started so far has finished (for shutdown and tests). */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Cancels scheduled series updates. */
  close(): void {
    for (const s of this.#series.values()) s.timer?.cancel();
    this.#series.clear();
  }

  #record(input: EventInput): void {
    if (!(this.#o.writeGate?.() ?? true)) return;
    const now = this.#clock.now();
    this.#sweep(now);
    const meta = input.regarding.metadata;
    const key = [
      meta?.uid,
      meta?.namespace,
      meta?.name,
      input.type,
      input.reason,
      input.action,
      input.note,
    ].join("\u0000");
    const existing = this.#series.get(key);
    if (existing !== undefined && now - existing.lastAt <= this.#windowMs) {
      existing.count++;
      existing.lastAt = now;
      this.#scheduleSeriesWrite(existing);
      return;
    }
    if (!this.#take(meta?.uid ?? `${meta?.namespace}/${meta?.name}`, now)) {
      this.#logger.debug({ reason: input.reason }, "event dropped by rate limit");
      return;
    }
    const series: Series = {
      namespace: meta?.namespace || "default",
      name: undefined,
      count: 1,
      writtenCount: 1,
      lastAt: now,
      lastWriteAt: now,
      timer: undefined,
      chain: Promise.resolve(),
      input,
    };
    this.#series.set(key, series);
    this.#enqueue(series, () => this.#create(series));
  }

  get #windowMs(): number {
    return this.#o.seriesWindowMs ?? 360_000;
  }

  #scheduleSeriesWrite(series: Series): void {
    if (series.timer !== undefined) return;
    const interval = this.#o.seriesUpdateIntervalMs ?? 30_000;
    const wait = Math.max(0, series.lastWriteAt + interval - this.#clock.now());
    const write = () => {
      series.timer = undefined;
      this.#enqueue(series, () => this.#updateSeries(series));
    };
    if (wait === 0) write();
    else series.timer = this.#clock.setTimer(wait, write);
  }

  #enqueue(series: Series, write: () => Promise<void>): void {
    const next = series.chain.then(write).catch((err: unknown) => {
      this.#logger.warn(
        { ...describeError(err), reason: series.input.reason },
        "writing an event failed",
      );
    });
    series.chain = next;
    this.#pending.add(next);
    void next.finally(() => this.#pending.delete(next));
  }

  async #create(series: Series): Promise<void> {
    if (!(this.#o.writeGate?.() ?? true)) return;
    const { input } = series;
    const now = this.#clock.now();
    const regardingName = input.regarding.metadata?.name ?? "unknown";
    const name = `${regardingName}.${(BigInt(now) * 1_000_000n + BigInt(this.#seq++ % 1_000_000)).toString(16)}`;
    series.name = name;
    series.lastWriteAt = now;
    series.writtenCount = series.count;
    await requestJson(this.#o.transport, {
      method: "POST",
      verb: "create",
      path: resourcePath(builtinResources.event, { namespace: series.namespace }),
      contentType: "application/json",
      body: JSON.stringify({
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        metadata: { name, namespace: series.namespace },
        eventTime: formatMicroTime(now),
        reportingController: this.#o.reportingController,
        reportingInstance: this.#o.reportingInstance,
        type: input.type,
        reason: input.reason.slice(0, 128),
        action: input.action.slice(0, 128),
        note: truncateNote(input.note),
        regarding: reference(input.regarding),
        ...(input.related ? { related: reference(input.related) } : {}),
      }),
    });
  }

  async #updateSeries(series: Series): Promise<void> {
    if (series.count === series.writtenCount || series.name === undefined) return;
    if (!(this.#o.writeGate?.() ?? true)) return;
    const count = series.count;
    series.lastWriteAt = this.#clock.now();
    try {
      await requestJson(this.#o.transport, {
        method: "PATCH",
        verb: "patch",
        path: resourcePath(builtinResources.event, {
          namespace: series.namespace,
          name: series.name,
        }),
        contentType: "application/merge-patch+json",
        body: JSON.stringify({
          series: { count, lastObservedTime: formatMicroTime(series.lastAt) },
        }),
      });
      series.writtenCount = count;
    } catch (err) {
      // Events expire (1 h by default): start a new one.
      if (httpStatusOf(err) === 404) {
        series.count = 1;
        await this.#create(series);
        return;
      }
      throw err;
    }
  }

  /** Token bucket per object: `burst` new events, then one per refill interval. */
  #take(id: string, now: number): boolean {
    const burst = this.#o.burst ?? 25;
    const refill = this.#o.refillIntervalMs ?? 300_000;
    const bucket = this.#buckets.get(id) ?? { tokens: burst, at: now };
    const refilled = Math.floor((now - bucket.at) / refill);
    if (refilled > 0) {
      bucket.tokens = Math.min(burst, bucket.tokens + refilled);
      bucket.at += refilled * refill;
    }
    if (bucket.tokens >= burst) bucket.at = now;
    this.#buckets.set(id, bucket);
    if (bucket.tokens <= 0) return false;
    bucket.tokens--;
    return true;
  }

  /** Forgets series past their window and full buckets, at most once per window. */
  #sweep(now: number): void {
    if (now - this.#lastSweep < this.#windowMs) return;
    this.#lastSweep = now;
    for (const [key, s] of this.#series) {
      if (now - s.lastAt > this.#windowMs && s.timer === undefined) this.#series.delete(key);
    }
    const burst = this.#o.burst ?? 25;
    const refill = this.#o.refillIntervalMs ?? 300_000;
    for (const [id, b] of this.#buckets) {
      if (b.tokens + Math.floor((now - b.at) / refill) >= burst) this.#buckets.delete(id);
    }
  }
}

function reference(obj: KubeObject): Record<string, unknown> {
  const m = obj.metadata ?? {};
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
    resourceVersion: m.resourceVersion,
  };
}

/** The apiserver limits `note` to 1024 bytes (not characters). */
function truncateNote(note: string): string {
  if (Buffer.byteLength(note) <= 1024) return note;
  let cut = note.slice(0, 1021);
  while (Buffer.byteLength(cut) > 1021) cut = cut.slice(0, -1);
  return `${cut}...`;
}
