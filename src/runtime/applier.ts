// Server-side apply with field manager `stateless-operator`, skipping writes the live object or our last write make pointless.
import { applyNeeded, defaultFieldManager } from "./apply-decision.ts";
import type { Client } from "./client.ts";
import { NotLeaderError } from "./errors.ts";
import { type Logger, silentLogger } from "./logger.ts";
import type { ApplyMetrics } from "./metrics.ts";
import type { KubeObject } from "./object.ts";
import { ResourceRegistry, type ResourceType } from "./resource.ts";
import { hashOf, WriteMemo } from "./write-memo.ts";

export interface ApplierOptions {
  readonly client: Client;
  /** Maps apiVersion/kind to resource types. @default the built-in kinds */
  readonly registry?: ResourceRegistry;
  /** @default "stateless-operator" */
  readonly fieldManager?: string;
  /** Checked before every write; false throws NotLeaderError (a standby must not write). */
  readonly writeGate?: () => boolean;
  readonly metrics?: Partial<ApplyMetrics>;
  readonly logger?: Logger;
  /** For how long a freshly created object may be missing from the cache. @default Date.now */
  readonly now?: () => number;
}

export interface ApplyOptions {
  /** The cached object (from a reflector that keeps our managedFields entry). */
  readonly live?: KubeObject | undefined;
  readonly signal?: AbortSignal;
  /**
   * Skip the write while the cache has not yet seen our previous write to this object: an object
   * we created moments ago (for up to 10 s), or a write that changed it (even if the new content
   * differs: that write's watch event reconciles again, against fresh data — for content that
   * embeds the time, such as status conditions). The result says `deferred`; a caller that asks
   * for this must look again shortly, since an object deleted meanwhile brings no further event.
   */
  readonly deferWhileCacheLags?: boolean;
}

export interface ApplyResult {
  readonly written: boolean;
  /** The apiserver's response after a write, else the live object. */
  readonly object: KubeObject | undefined;
  readonly reason: string;
  /**
   * Not written because the cache has not caught up with our own last write: the caller should
   * look again shortly (its watch event normally triggers that on its own).
   */
  readonly deferred?: boolean;
  /**
   * Not written because the live object given does not show our last write to it yet: anything
   * the caller concluded from that object (a status transition, say) is stale.
   */
  readonly behind?: boolean;
}

/**
 * Applies, status-applies and deletes objects for a controller. Stateful only to remember the
 * last write per object: right after a write the cache still shows the old version, and a
 * reconcile running before the watch event arrives must not write the same thing again.
 */
export class Applier {
  readonly fieldManager: string;
  readonly #client: Client;
  readonly #registry: ResourceRegistry;
  readonly #writeGate: () => boolean;
  readonly #metrics: Partial<ApplyMetrics>;
  readonly #logger: Logger;
  readonly #memo: WriteMemo;

  constructor(options: ApplierOptions) {
    this.#client = options.client;
    this.#registry = options.registry ?? new ResourceRegistry();
    this.fieldManager = options.fieldManager ?? defaultFieldManager;
    this.#writeGate = options.writeGate ?? (() => true);
    this.#metrics = options.metrics ?? {};
    this.#logger = options.logger ?? silentLogger;
    this.#memo = new WriteMemo(options.now);
  }

  /** Server-side applies `desired` (force, our field manager) unless `live` already matches it. */
  apply(desired: KubeObject, options: ApplyOptions = {}): Promise<ApplyResult> {
    return this.#apply(desired, desired, undefined, options);
  }

  /**
   * Server-side applies `status` through the `/status` subresource, unless the live status
   * already matches. SSA (not a merge patch) so that status fields we stop setting are removed.
   */
  applyStatus(
    target: KubeObject,
    status: unknown,
    options: ApplyOptions = {},
  ): Promise<ApplyResult> {
    const body: KubeObject = {
      apiVersion: target.apiVersion,
      kind: target.kind,
      metadata: { name: target.metadata?.name, namespace: target.metadata?.namespace },
      status,
    };
    return this.#apply(target, body, "status", options);
  }

  /**
   * Deletes with background propagation, only if the object still has `target`'s uid (a new
   * object of the same name is not ours to delete). Returns false when it was already gone.
   */
  async delete(
    target: KubeObject,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<boolean> {
    const { type, namespace, name } = this.#locate(target);
    this.#checkGate(options.signal);
    let deleted: boolean;
    try {
      deleted = await this.#client.delete(
        type,
        { namespace, name },
        { uid: target.metadata?.uid, signal: options.signal },
      );
    } finally {
      this.#memo.forget(memoKey(type, namespace, name, ""));
      this.#memo.forget(memoKey(type, namespace, name, "status"));
    }
    if (deleted) this.#logger.info({ kind: type.kind, namespace, name }, "deleted");
    return deleted;
  }

  async #apply(
    target: KubeObject,
    body: KubeObject,
    subresource: "status" | undefined,
    options: ApplyOptions,
  ): Promise<ApplyResult> {
    const { type, namespace, name } = this.#locate(target);
    const live = options.live;
    const key = memoKey(type, namespace, name, subresource ?? "");
    // Hashed at most once, and only when there is a last write to compare with or a write to
    // remember: a restart's no-op reconciles have neither (about 5 % of their CPU).
    let hash: string | undefined;
    const hashed = () => (hash ??= hashOf(body));
    const held = this.#memo.held(key, hashed, live, options.deferWhileCacheLags === true);
    if (held !== undefined) {
      this.#metrics.applied?.(type.kind, "skipped");
      return {
        written: false,
        object: live,
        reason: held.reason,
        ...(held.deferred ? { deferred: true } : {}),
        ...(held.behind ? { behind: true } : {}),
      };
    }
    const decision = applyNeeded(body, live, {
      fieldManager: this.fieldManager,
      ...(subresource ? { subresource } : {}),
    });
    if (!decision.write) {
      this.#metrics.applied?.(type.kind, "skipped");
      return { written: false, object: live, reason: decision.reason };
    }
    this.#checkGate(options.signal);
    const write = { fieldManager: this.fieldManager, signal: options.signal };
    const written =
      subresource === "status"
        ? await this.#client.applyStatus(type, body, write)
        : await this.#client.apply(type, body, write);
    this.#memo.remember(key, hashed(), live, written);
    this.#metrics.applied?.(type.kind, "written");
    this.#logger.info(
      { kind: type.kind, namespace, name, subresource, reason: decision.reason },
      "applied",
    );
    return { written: true, object: written, reason: decision.reason };
  }

  #locate(obj: KubeObject): { type: ResourceType; namespace: string | undefined; name: string } {
    const apiVersion = obj.apiVersion ?? "";
    const kind = obj.kind ?? "";
    const type = this.#registry.require(apiVersion, kind);
    const name = obj.metadata?.name;
    if (!name) throw new Error(`${kind} without metadata.name`);
    const namespace = type.namespaced ? obj.metadata?.namespace : undefined;
    if (type.namespaced && !namespace)
      throw new Error(`${kind} ${name} without metadata.namespace`);
    return { type, namespace, name };
  }

  /** Refuses to write for a standby, or for a reconcile whose workers were stopped. */
  #checkGate(signal?: AbortSignal): void {
    if (!this.#writeGate()) throw new NotLeaderError("not the leader: refusing to write");
    signal?.throwIfAborted();
  }
}

const memoKey = (
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  subresource: string,
) => `${type.group}/${type.kind}/${namespace ?? ""}/${name}/${subresource}`;
