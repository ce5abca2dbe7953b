// The applier's memory of its own last write per object, so a cache that has not caught up yet does not cause a second write.
import { createHash } from "node:crypto";
import { isRecord, type KubeObject } from "./object.ts";

/** How long an object we just created may be absent from the cache before it is written again. */
const CREATE_GRACE_MS = 10_000;

/** Forgetting an entry costs at most one redundant write, so a simple bound is enough. */
const MAX_REMEMBERED_WRITES = 10_000;

/** What we wrote last to one object. */
interface LastWrite {
  readonly hash: string;
  /** The resourceVersion the cache showed when we wrote: still seeing it means the cache lags. */
  readonly before: string | undefined;
  /** The resourceVersion our write produced. */
  readonly after: string | undefined;
  /** When we wrote. */
  readonly at: number;
  /** The resourceVersions the cache may show that already include this write. */
  readonly versions: ReadonlySet<string>;
}

/** Why a write is not sent: the cache has not shown our own last write yet. */
export interface HeldWrite {
  readonly reason: string;
  /** The caller should look again shortly: the event it waits for may never come. */
  readonly deferred: boolean;
  /** The live object does not show our last write yet: what the caller read from it is stale. */
  readonly behind: boolean;
}

export class WriteMemo {
  readonly #writes = new Map<string, LastWrite>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * Whether writing `hash` (a function: it is computed only when there is a last write to compare
   * with) to the object under `key`, which the cache shows as `live`, repeats
   * our last write before the cache has caught up with it. With `deferWhileCacheLags`, also
   * holds the write while the cache has not shown the object we created moments ago (for up to
   * 10 s) or our last write that changed it (its watch event reconciles again, against fresh
   * data). Undefined: the decision is up to the comparison with `live`.
   */
  held(
    key: string,
    hashOfWrite: () => string,
    live: KubeObject | undefined,
    deferWhileCacheLags: boolean,
  ): HeldWrite | undefined {
    const last = this.#writes.get(key);
    if (last === undefined) return undefined;
    const hash = hashOfWrite();
    const liveVersion = live?.metadata?.resourceVersion;
    const behind =
      liveVersion !== undefined && liveVersion === last.before && last.after !== last.before;
    if (last.hash === hash && liveVersion !== undefined && last.versions.has(liveVersion))
      return { reason: "just applied; cache not caught up", deferred: false, behind };
    if (!deferWhileCacheLags) return undefined;
    // Bounded in time, so an object deleted since is written again.
    if (
      live === undefined &&
      last.hash === hash &&
      last.before === undefined &&
      this.#now() - last.at < CREATE_GRACE_MS
    ) {
      return { reason: "just created; cache not caught up", deferred: true, behind: true };
    }
    // Only when our last write changed the object: a no-op write brings no event to wait for.
    if (behind && last.after !== undefined) {
      return {
        reason: "our last write is not in the cache yet; its event reconciles again",
        deferred: true,
        behind: true,
      };
    }
    return undefined;
  }

  /** Records a write of `hash` over `live`; `written` is the API server's response. */
  remember(
    key: string,
    hash: string,
    live: KubeObject | undefined,
    written: KubeObject | undefined,
  ): void {
    const before = live?.metadata?.resourceVersion;
    const after = written?.metadata?.resourceVersion;
    const versions = new Set<string>();
    if (before !== undefined) versions.add(before);
    if (after !== undefined) versions.add(after);
    // Keeps the most recent writes only: objects deleted by garbage collection are never forgotten.
    this.#writes.delete(key);
    this.#writes.set(key, { hash, before, after, at: this.#now(), versions });
    if (this.#writes.size > MAX_REMEMBERED_WRITES) {
      const oldest = this.#writes.keys().next().value;
      if (oldest !== undefined) this.#writes.delete(oldest);
    }
  }

  forget(key: string): void {
    this.#writes.delete(key);
  }
}

/** A stable digest of a JSON value (key order does not matter). */
export function hashOf(value: unknown): string {
  return createHash("sha256").update(stableJson(value)).digest("hex");
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
