// Who may read /metrics, asked of the API server: a TokenReview for the bearer token, a SubjectAccessReview for the URL.
import { createHash } from "node:crypto";
import {
  type Client,
  type HttpTransport,
  httpClient,
  type KubeObject,
  type ResourceType,
} from "../runtime/index.ts";

const TOKEN_REVIEW: ResourceType = {
  group: "authentication.k8s.io",
  version: "v1",
  kind: "TokenReview",
  plural: "tokenreviews",
  namespaced: false,
};
const SUBJECT_ACCESS_REVIEW: ResourceType = {
  group: "authorization.k8s.io",
  version: "v1",
  kind: "SubjectAccessReview",
  plural: "subjectaccessreviews",
  namespaced: false,
};

/** What the metrics server answers: the request goes through, or an HTTP error with a message. */
export type AccessDecision =
  | { readonly allowed: true; readonly user: string }
  | { readonly allowed: false; readonly status: 401 | 403 | 500; readonly message: string };

export interface RequestAuthorizer {
  /** Decides for the `Authorization` header of a request of `verb` (lower-case method) on `path`. */
  decide(authorization: string | undefined, verb: string, path: string): Promise<AccessDecision>;
}

interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export interface DelegatingAuthorizerOptions {
  /** @default Date.now */
  readonly now?: () => number;
  /** How long a TokenReview's answer is reused (controller-runtime: 1 minute). @default 60_000 */
  readonly authenticationTtlMs?: number;
  /** How long an allowing SubjectAccessReview is reused (controller-runtime: 5 minutes). @default 300_000 */
  readonly allowTtlMs?: number;
  /** How long a denying one is reused (controller-runtime: 30 seconds). @default 30_000 */
  readonly denyTtlMs?: number;
  /** Answers kept per cache; the oldest go first. @default 1024 */
  readonly maxEntries?: number;
}

/** A small expiring map: insertion order is age order, so the first key is the oldest. */
class Expiring<T> {
  readonly #entries = new Map<string, { value: T; until: number }>();
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  get(key: string, now: number): T | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (e.until > now) return e.value;
    this.#entries.delete(key);
    return undefined;
  }
  set(key: string, value: T, until: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, until });
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }
}

/**
 * Authentication and authorization delegated to the API server, as controller-runtime's
 * `filters.WithAuthenticationAndAuthorization` does: the bearer token is reviewed
 * (`authentication.k8s.io/v1` TokenReview), then the user is checked for `verb` on the
 * non-resource URL (`authorization.k8s.io/v1` SubjectAccessReview); no anonymous access. Answers
 * are cached for the same times; the token itself is kept only as a SHA-256 digest. An API server
 * that cannot answer gives a 500 (not cached), so the scraper tries again.
 */
export function delegatingAuthorizer(
  transport: HttpTransport | Client,
  options: DelegatingAuthorizerOptions = {},
): RequestAuthorizer {
  const client = typeof transport === "function" ? httpClient(transport) : transport;
  const now = options.now ?? Date.now;
  const max = options.maxEntries ?? 1024;
  const users = new Expiring<UserInfo | null>(max);
  const reviews = new Expiring<{ allowed: boolean; reason: string }>(max);

  async function authenticate(token: string): Promise<UserInfo | null> {
    const key = createHash("sha256").update(token).digest("hex");
    const cached = users.get(key, now());
    if (cached !== undefined) return cached;
    const review = await client.create<
      KubeObject & { status?: { authenticated?: boolean; user?: UserInfo } }
    >(TOKEN_REVIEW, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      spec: { token },
    } as KubeObject);
    const user =
      review.status?.authenticated === true && review.status.user?.username
        ? review.status.user
        : null;
    users.set(key, user, now() + (options.authenticationTtlMs ?? 60_000));
    return user;
  }

  async function authorize(user: UserInfo, verb: string, path: string) {
    const spec = {
      user: user.username,
      ...(user.uid === undefined ? {} : { uid: user.uid }),
      groups: user.groups ?? [],
      ...(user.extra === undefined ? {} : { extra: user.extra }),
      nonResourceAttributes: { path, verb },
    };
    const key = JSON.stringify(spec);
    const cached = reviews.get(key, now());
    if (cached !== undefined) return cached;
    const review = await client.create<
      KubeObject & { status?: { allowed?: boolean; reason?: string } }
    >(SUBJECT_ACCESS_REVIEW, {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec,
    } as KubeObject);
    const answer = {
      allowed: review.status?.allowed === true,
      reason: review.status?.reason ?? "",
    };
    reviews.set(
      key,
      answer,
      now() + (answer.allowed ? (options.allowTtlMs ?? 300_000) : (options.denyTtlMs ?? 30_000)),
    );
    return answer;
  }

  return {
    async decide(authorization, verb, path) {
      const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
      if (token === undefined)
        return { allowed: false, status: 401, message: "Unauthorized: a bearer token is required" };
      let user: UserInfo | null;
      try {
        user = await authenticate(token);
      } catch (error) {
        return {
          allowed: false,
          status: 500,
          message: `Authentication failed: ${(error as Error).message}`,
        };
      }
      if (user === null) return { allowed: false, status: 401, message: "Unauthorized" };
      try {
        const answer = await authorize(user, verb, path);
        return answer.allowed
          ? { allowed: true, user: user.username }
          : {
              allowed: false,
              status: 403,
              message: `Authorization denied for user ${user.username}${answer.reason ? `: ${answer.reason}` : ""}`,
            };
      } catch (error) {
        return {
          allowed: false,
          status: 500,
          message: `Authorization for user ${user.username} failed: ${(error as Error).message}`,
        };
      }
    },
  };
}
