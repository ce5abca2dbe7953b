// The last log line of a failed release's pod: read through the API once per Job, remembered by the Job's uid until the Job goes.
import { type Client, describeError, type Logger, silentLogger } from "../../runtime/index.ts";
import { RELEASE_CONTAINER } from "../render/index.ts";
import {
  clipLine,
  lastLogLine,
  RELEASE_LOG_LIMIT_BYTES,
  RELEASE_LOG_TAIL_LINES,
  type ReleaseLog,
  sanitizeLogLine,
} from "../status/index.ts";
import type { ReleaseLogTarget } from "./plan.ts";

/** How long one log read may take: the API server asks the pod's kubelet, which may not answer. */
export const RELEASE_LOG_TIMEOUT_MS = 10_000;

/** Why there is no log when the API server has no node to read it from. */
const NO_NODE = "the pod was never scheduled on a node";

/** The longest API server message kept in `no log line of pod …: <why>`. */
const UNREADABLE_MAX = 120;

/** What reconcile reads a failed release's log through. */
export interface ReleaseLogReader {
  /**
   * The last log line of `target.pod`, or why it could not be read. Read through the API the
   * first time a Job's pod is asked for, then remembered: a failed read is an answer too, never
   * an error (a reconcile never fails for a log). Throws only when `signal` aborts.
   */
  read(target: ReleaseLogTarget, signal: AbortSignal): Promise<ReleaseLog>;
}

/**
 * The reads by the failed Job's uid (the last pod read of each). The operator drops a Job's entry
 * when its Job leaves the cache (`forget`), so it holds at most one entry per failed Job that
 * still exists: the apps' last KEPT_RELEASE_JOBS.
 */
export class ReleaseLogs implements ReleaseLogReader {
  readonly #client: Pick<Client, "podLog">;
  readonly #logger: Logger;
  readonly #read = new Map<string, ReleaseLog>();

  constructor(client: Pick<Client, "podLog">, logger: Logger = silentLogger) {
    this.#client = client;
    this.#logger = logger;
  }

  async read(target: ReleaseLogTarget, signal: AbortSignal): Promise<ReleaseLog> {
    const known = this.#read.get(target.jobUid);
    if (known?.pod === target.pod) return known;
    const log = await this.#fetch(target, signal);
    this.#read.set(target.jobUid, log);
    return log;
  }

  /** The Job went: its pods' logs went with it. */
  forget(jobUid: string): void {
    this.#read.delete(jobUid);
  }

  /** Jobs whose read is remembered. */
  get size(): number {
    return this.#read.size;
  }

  async #fetch(target: ReleaseLogTarget, signal: AbortSignal): Promise<ReleaseLog> {
    const { namespace, pod } = target;
    try {
      const text = await this.#client.podLog(
        { namespace, name: pod },
        {
          container: RELEASE_CONTAINER,
          tailLines: RELEASE_LOG_TAIL_LINES,
          limitBytes: RELEASE_LOG_LIMIT_BYTES,
          timeoutMs: RELEASE_LOG_TIMEOUT_MS,
          signal,
        },
      );
      if (text === undefined) return { pod, unreadable: NO_NODE };
      const line = lastLogLine(text);
      return line === undefined ? { pod } : { pod, line };
    } catch (error) {
      if (signal.aborted) throw error;
      this.#logger.warn(
        { namespace, pod, ...describeError(error) },
        "the failed release pod's log could not be read",
      );
      return { pod, unreadable: unreadable(error) };
    }
  }
}

/** `BadRequest: pod … does not have a host assigned`, `HTTP 403`, `no answer from the API server`. */
export function unreadable(error: unknown): string {
  const { errCode, reason, err } = describeError(error);
  if (errCode === undefined) return "no answer from the API server";
  const why = typeof reason === "string" && reason !== "" ? reason : `HTTP ${errCode}`;
  const detail = typeof err === "string" ? clipLine(sanitizeLogLine(err), UNREADABLE_MAX) : "";
  return detail === "" ? why : `${why}: ${detail}`;
}
