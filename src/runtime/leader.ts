// Leader election on a coordination.k8s.io/v1 Lease, so that of several replicas exactly one writes.
import { type Clock, realClock, type Timer } from "./clock.ts";
import { describeError, httpStatusOf } from "./errors.ts";
import { type Logger, silentLogger } from "./logger.ts";
import type { LeaderMetrics } from "./metrics.ts";
import { builtinResources, resourcePath } from "./resource.ts";
import { type HttpTransport, requestJson } from "./transport.ts";

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** MicroTime: RFC 3339 with six fractional digits. */
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string; [field: string]: unknown };
  spec?: LeaseSpec;
}

/** The Lease calls the elector makes; `replace` must fail with HTTP 409 on a stale resourceVersion. */
export interface LeaseApi {
  get(namespace: string, name: string, signal?: AbortSignal): Promise<Lease | undefined>;
  create(lease: Lease, signal?: AbortSignal): Promise<Lease>;
  replace(lease: Lease, signal?: AbortSignal): Promise<Lease>;
}

/** Leases over raw HTTP JSON (MicroTime strings pass through untouched). */
export function httpLeaseApi(transport: HttpTransport): LeaseApi {
  const type = builtinResources.lease;
  const withSignal = (signal?: AbortSignal) => (signal ? { signal } : {});
  // Lease requests have connections of their own: a renewal never waits behind other requests.
  return {
    async get(namespace, name, signal) {
      try {
        return await requestJson<Lease>(transport, {
          pool: "lease",
          method: "GET",
          verb: "get",
          path: resourcePath(type, { namespace, name }),
          ...withSignal(signal),
        });
      } catch (err) {
        if (httpStatusOf(err) === 404) return undefined;
        throw err;
      }
    },
    create: (lease, signal) =>
      requestJson<Lease>(transport, {
        pool: "lease",
        method: "POST",
        verb: "create",
        path: resourcePath(type, { namespace: lease.metadata.namespace }),
        contentType: "application/json",
        body: JSON.stringify({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", ...lease }),
        ...withSignal(signal),
      }),
    replace: (lease, signal) =>
      requestJson<Lease>(transport, {
        pool: "lease",
        method: "PUT",
        verb: "update",
        path: resourcePath(type, {
          namespace: lease.metadata.namespace,
          name: lease.metadata.name,
        }),
        contentType: "application/json",
        body: JSON.stringify({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", ...lease }),
        ...withSignal(signal),
      }),
  };
}

/**
 * Formats epoch milliseconds as a Kubernetes MicroTime: `2026-01-01T00:00:00.000000Z`.
 * The apiserver parses MicroTime with exactly six fractional digits; `Date#toISOString`
 * gives three, which it rejects.
 */
export function formatMicroTime(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return `${iso.slice(0, -1)}000Z`;
}

export interface LeaderElectorOptions {
  readonly api: LeaseApi;
  readonly namespace: string;
  readonly name: string;
  /** Unique per process, e.g. the pod name plus a random suffix. */
  readonly identity: string;
  /** How long a lease is valid after its last renewal, as observed by the others. @default 15_000 */
  readonly leaseDurationMs?: number;
  /** The leader gives up when it could not renew for this long. Must be < leaseDurationMs. @default 10_000 */
  readonly renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. @default 2_000 */
  readonly retryPeriodMs?: number;
  /** Extra random fraction of retryPeriodMs between acquire attempts. @default 0.2 */
  readonly jitter?: number;
  readonly onStartedLeading?: () => void;
  /** Called the moment leadership is lost or released: stop writing at once. */
  readonly onStoppedLeading?: () => void;
  /** Called when another holder is observed. */
  readonly onNewLeader?: (identity: string) => void;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly metrics?: Partial<LeaderMetrics>;
  readonly random?: () => number;
}

/**
 * Acquires the Lease when it is free, released, or not renewed for its duration (measured on
 * this process's clock from when the current record was first seen, so clock skew between
 * replicas does not matter), then renews it every retry period. Leadership ends — and
 * `onStoppedLeading` fires — as soon as renewals have failed for the renew deadline, even if a
 * request hangs, which is before any other replica may take over (renew deadline < lease
 * duration). `stop()` releases the Lease so a successor takes over without waiting.
 */
export class LeaderElector {
  readonly identity: string;
  readonly #o: LeaderElectorOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  #leading = false;
  #stop = new AbortController();
  #running: Promise<void> | undefined;
  /** The Lease as last read or written, its resourceVersion, and when we first saw that version. */
  #observed: Lease | undefined;
  #observedAt = 0;
  #observedHolder: string | undefined;
  #watchdog: Timer | undefined;
  /** Aborts the in-flight renewal when the deadline passes. */
  #attempt: AbortController | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#o = options;
    this.identity = options.identity;
    this.#clock = options.clock ?? realClock;
    this.#logger = (options.logger ?? silentLogger).child({
      lease: `${options.namespace}/${options.name}`,
    });
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (this.#renewDeadlineMs >= this.#leaseDurationMs) {
      throw new Error("renewDeadlineMs must be shorter than leaseDurationMs");
    }
    if (this.#retryPeriodMs >= this.#renewDeadlineMs) {
      throw new Error("retryPeriodMs must be shorter than renewDeadlineMs");
    }
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /** The holder seen in the Lease most recently (ourselves when leading). */
  get leader(): string | undefined {
    return this.#observedHolder;
  }

  /** Starts campaigning in the background (once). */
  start(): void {
    if (this.#running !== undefined) return;
    this.#stop = new AbortController();
    this.#running = this.#run();
  }

  /** Stops campaigning; if leading, stops leading and releases the Lease. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#attempt?.abort();
    await this.#running;
    this.#running = undefined;
    if (this.#leading) {
      this.#lose("released");
      await this.#release();
    }
  }

  async #run(): Promise<void> {
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      if (!this.#leading) {
        if (await this.#tryAcquireOrRenew(stop)) {
          this.#become();
          continue;
        }
        const jitter = 1 + (this.#o.jitter ?? 0.2) * (this.#o.random ?? Math.random)();
        await this.#clock.sleep(this.#retryPeriodMs * jitter, stop);
        continue;
      }
      await this.#clock.sleep(this.#retryPeriodMs, stop);
      if (stop.aborted || !this.#leading) continue;
      this.#attempt = new AbortController();
      const renewed = await this.#tryAcquireOrRenew(AbortSignal.any([stop, this.#attempt.signal]));
      this.#attempt = undefined;
      if (!this.#leading) continue; // the watchdog fired while the request was in flight
      if (renewed) {
        this.#armWatchdog();
      } else if (this.#observedHolder !== undefined && this.#observedHolder !== this.identity) {
        this.#lose(`taken over by ${this.#observedHolder}`);
      }
    }
  }

  #become(): void {
    this.#leading = true;
    this.#armWatchdog();
    this.#o.metrics?.leading?.(true);
    this.#logger.info({ identity: this.identity }, "became leader");
    this.#call(this.#o.onStartedLeading, "onStartedLeading");
  }

  #lose(why: string): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#watchdog?.cancel();
    this.#attempt?.abort();
    this.#o.metrics?.leading?.(false);
    this.#logger.warn({ identity: this.identity, why }, "stopped leading");
    this.#call(this.#o.onStoppedLeading, "onStoppedLeading");
  }

  /** Leadership ends `renewDeadlineMs` after the last successful renewal unless renewed again. */
  #armWatchdog(): void {
    this.#watchdog?.cancel();
    this.#watchdog = this.#clock.setTimer(this.#renewDeadlineMs, () =>
      this.#lose("renew deadline passed"),
    );
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const { api, namespace, name } = this.#o;
    const now = this.#clock.now();
    try {
      // While leading, write from the last known version (one request per renewal);
      // a conflict re-reads on the next attempt.
      let lease = this.#leading ? this.#observed : undefined;
      if (lease === undefined) {
        lease = await api.get(namespace, name, signal);
        if (lease === undefined) {
          const created = await api.create(
            { metadata: { name, namespace }, spec: this.#spec(now, undefined) },
            signal,
          );
          this.#observe(created, now);
          return true;
        }
        this.#observe(lease, now);
      }
      const spec = lease.spec ?? {};
      const holder = spec.holderIdentity ?? "";
      const validFor = (spec.leaseDurationSeconds ?? 0) * 1000;
      if (holder !== "" && holder !== this.identity && this.#observedAt + validFor > now)
        return false;
      const written = await api.replace({ ...lease, spec: this.#spec(now, spec) }, signal);
      this.#observe(written, now);
      return true;
    } catch (err) {
      if (httpStatusOf(err) === 409) {
        // Someone else wrote first; read afresh next time.
        this.#observed = undefined;
        this.#logger.debug({}, "lease update conflict");
      } else if (!signal.aborted) {
        this.#logger.warn(describeError(err), "lease acquire/renew failed");
      }
      return false;
    }
  }

  #spec(now: number, previous: LeaseSpec | undefined): LeaseSpec {
    const renewing = previous?.holderIdentity === this.identity;
    const transitions = previous?.leaseTransitions ?? 0;
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.#leaseDurationMs / 1000),
      acquireTime: renewing && previous?.acquireTime ? previous.acquireTime : formatMicroTime(now),
      renewTime: formatMicroTime(now),
      leaseTransitions: previous === undefined ? 0 : renewing ? transitions : transitions + 1,
    };
  }

  /** Remembers the Lease; the expiry clock restarts only when its content (version) changed. */
  #observe(lease: Lease, now: number): void {
    if (
      lease.metadata.resourceVersion !== this.#observed?.metadata.resourceVersion ||
      this.#observed === undefined
    ) {
      this.#observedAt = now;
    }
    this.#observed = lease;
    const holder = lease.spec?.holderIdentity ?? "";
    if (holder !== "" && holder !== this.#observedHolder && holder !== this.identity) {
      this.#logger.info({ leader: holder }, "observed a new leader");
      this.#observedHolder = holder;
      this.#call(() => this.#o.onNewLeader?.(holder), "onNewLeader");
    }
    this.#observedHolder = holder || undefined;
  }

  /** Clears the holder and shortens the duration to 1 s, so another replica takes over at once. */
  async #release(): Promise<void> {
    const lease = this.#observed;
    if (lease === undefined || lease.spec?.holderIdentity !== this.identity) return;
    const now = this.#clock.now();
    const { holderIdentity: _h, ...rest } = lease.spec;
    try {
      const released = await this.#o.api.replace({
        ...lease,
        spec: {
          ...rest,
          leaseDurationSeconds: 1,
          renewTime: formatMicroTime(now),
          acquireTime: formatMicroTime(now),
        },
      });
      this.#observe(released, now);
      this.#logger.info({}, "released the lease");
    } catch (err) {
      // The lease then expires on its own after leaseDurationMs.
      this.#logger.warn(describeError(err), "releasing the lease failed");
    }
  }

  #call(fn: (() => void) | undefined, what: string): void {
    try {
      fn?.();
    } catch (err) {
      this.#logger.error(
        { ...describeError(err), callback: what },
        "leader election callback threw",
      );
    }
  }
}
