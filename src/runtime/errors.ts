// Error vocabulary of the controller: permanent, transient or conflict, and how to classify what was thrown.

import type { LogFields } from "./logger.ts";
import { parseStatus } from "./transport.ts";

export const ErrorKind = {
  /** Retrying cannot help until the input changes (an invalid spec, a rejected object). No retry. */
  permanent: "permanent",
  /** The world may fix itself (apiserver overloaded, network, RBAC being granted). Retry with backoff. */
  transient: "transient",
  /** Someone wrote first (stale resourceVersion). Retry at once: the next attempt reads fresh state. */
  conflict: "conflict",
} as const;
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

/** Thrown by reconcilers for failures that retrying cannot fix. */
export class PermanentError extends Error {
  override readonly name = "PermanentError";
}

/** Thrown for an optimistic-concurrency conflict detected outside the apiserver. */
export class ConflictError extends Error {
  override readonly name = "ConflictError";
}

/** Thrown by writers when this process may not write (it is not, or no longer, the leader). */
export class NotLeaderError extends Error {
  override readonly name = "NotLeaderError";
}

/** The HTTP status of an apiserver error (client-node's `ApiException` or ours), if it has one. */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === "number" && code >= 100 && code < 600 ? code : undefined;
}

/**
 * Classifies an error by what a retry can achieve:
 * - 409 Conflict (stale resourceVersion, or a create racing another): conflict.
 * - 408, 429, 5xx, no response at all (network, timeout, abort): transient.
 * - 401 (credentials rotating), 403 (RBAC not granted yet, or a terminating namespace refusing
 *   new objects), 404 (a namespace or CRD not there yet, or the object vanished between read and
 *   write), 410 Gone: transient. Nothing else would wake the controller when these clear, so
 *   they retry with backoff (capped, so a misconfiguration costs a request every few minutes).
 * - 400, 413, 415 and 422 (the apiserver or an admission policy rejected what we sent): permanent
 *   until the input changes, and a change arrives as a new event anyway.
 * - Anything else (including errors without an HTTP status): transient, so a bug or an unknown
 *   failure is retried slowly rather than silently dropped.
 */
export function classifyError(err: unknown): ErrorKind {
  if (err instanceof PermanentError) return ErrorKind.permanent;
  if (err instanceof ConflictError) return ErrorKind.conflict;
  if (err instanceof NotLeaderError) return ErrorKind.transient;
  const code = httpStatusOf(err);
  if (code === undefined) return ErrorKind.transient;
  if (code === 409) return ErrorKind.conflict;
  if (code === 400 || code === 413 || code === 415 || code === 422) return ErrorKind.permanent;
  return ErrorKind.transient;
}

/**
 * What to log about an error without leaking a response body: client-node's
 * `ApiException.message` embeds the whole HTTP response, which may carry Secret data.
 */
export function describeError(err: unknown): LogFields {
  const code = httpStatusOf(err);
  if (code !== undefined) {
    const body = (err as { body?: unknown }).body;
    const status = typeof body === "string" ? parseStatus(body) : undefined;
    return {
      errName: (err as Error).name,
      errCode: code,
      reason: status?.reason,
      err: status?.message,
    };
  }
  if (err instanceof Error) {
    return {
      errName: err.name,
      err: err.message.length > 300 ? `${err.message.slice(0, 300)}…` : err.message,
    };
  }
  return { err: String(err).slice(0, 300) };
}
