// Service URIs: parses redis://, rediss:// and memcached:// connection strings and builds canonical ones.
import { err, ok, type Result } from "../../api/index.ts";
import { type Endpoint, formatEndpoint, parseEndpoint } from "./endpoint.ts";
import type { BindingProblemReason } from "./problem.ts";
import type { BindingType } from "./types.ts";

export interface ServiceUri {
  readonly type: BindingType;
  readonly tls: boolean;
  readonly username?: string;
  readonly password?: string;
  /** At least one; memcached URIs may list several (`host:port,host:port`). */
  readonly endpoints: readonly Endpoint[];
  /** Redis logical database, from the path (`/2`). */
  readonly database?: number;
}

export interface UriFault {
  readonly reason: BindingProblemReason;
  /** Says what is wrong without repeating any part of the URI, which may hold a password. */
  readonly detail: string;
}

const SCHEMES: Readonly<Record<string, { type: BindingType; tls: boolean }>> = {
  redis: { type: "redis", tls: false },
  rediss: { type: "redis", tls: true },
  // Valkey clients accept these for the same protocol.
  valkey: { type: "redis", tls: false },
  valkeys: { type: "redis", tls: true },
  memcached: { type: "memcached", tls: false },
  memcache: { type: "memcached", tls: false },
};

export const DEFAULT_PORTS: Readonly<Record<BindingType, number>> = {
  redis: 6379,
  memcached: 11211,
};

const USAGE: Readonly<Record<BindingType, string>> = {
  redis: "expected redis://[username:password@]host[:port][/database] or rediss://…",
  memcached: "expected memcached://[username:password@]host[:port][,host:port…]",
};

const fault = (reason: BindingProblemReason, detail: string) => err<UriFault>({ reason, detail });

/**
 * Parses a service URI of the expected type. Lenient where real Secrets are sloppy: the user
 * information ends at the LAST `@`, so an unencoded `@`, `/` or `#` in a password still parses.
 * Query and fragment are ignored.
 */
export function parseServiceUri(text: string, expected: BindingType): Result<ServiceUri, UriFault> {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(text);
  const schemeText = match?.[1];
  const afterScheme = match?.[2];
  if (schemeText === undefined || afterScheme === undefined)
    return fault("InvalidURI", `not a URI (${USAGE[expected]})`);
  const scheme = SCHEMES[schemeText.toLowerCase()];
  if (scheme === undefined) return fault("InvalidURI", `unknown scheme (${USAGE[expected]})`);
  if (scheme.type !== expected)
    return fault("TypeMismatch", `a ${scheme.type} URI, but the binding's type is ${expected}`);

  const at = afterScheme.lastIndexOf("@");
  const userinfo = at < 0 ? undefined : afterScheme.slice(0, at);
  const rest = afterScheme.slice(at + 1);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const tail = authorityEnd < 0 ? "" : rest.slice(authorityEnd);
  const path = tail.startsWith("/") ? tail.slice(0, tail.search(/[?#]|$/)) : "";

  const credentials = parseUserinfo(userinfo);
  if (credentials === undefined)
    return fault("InvalidURI", "bad percent-encoding in the username or password");

  if (authority === "") return fault("InvalidURI", "has no host");
  const hostTexts = authority.split(",");
  if (hostTexts.length > 1 && expected === "redis")
    return fault("InvalidURI", "names more than one host; bind one Redis endpoint");
  const endpoints: Endpoint[] = [];
  for (const hostText of hostTexts) {
    const parsed = parseEndpoint(hostText, DEFAULT_PORTS[expected]);
    if ("fault" in parsed)
      return fault(
        "InvalidURI",
        parsed.fault === "port"
          ? "the port is not a number from 1 to 65535"
          : "the host is not a host name or IP address",
      );
    endpoints.push(parsed.endpoint);
  }

  let database: number | undefined;
  if (expected === "redis" && path !== "" && path !== "/") {
    const db = /^\/([0-9]{1,9})\/?$/.exec(path)?.[1];
    if (db === undefined)
      return fault("InvalidURI", "the path is not a database number (/0, /1, …)");
    database = Number(db);
  }

  return ok({
    type: scheme.type,
    tls: scheme.tls,
    ...credentials,
    endpoints,
    ...(database === undefined ? {} : { database }),
  });
}

/** `user:password` → parts, percent-decoded; an empty part is absent. Undefined on bad encoding. */
function parseUserinfo(
  userinfo: string | undefined,
): { username?: string; password?: string } | undefined {
  if (userinfo === undefined || userinfo === "") return {};
  const colon = userinfo.indexOf(":");
  const user = decodeComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const pass = decodeComponent(colon < 0 ? "" : userinfo.slice(colon + 1));
  if (user === undefined || pass === undefined) return undefined;
  return {
    ...(user === "" ? {} : { username: user }),
    ...(pass === "" ? {} : { password: pass }),
  };
}

function decodeComponent(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * RFC 3986 percent-encoding of everything but unreserved characters, over UTF-8 bytes. Unlike
 * encodeURIComponent it never throws (a lone surrogate becomes U+FFFD) and also encodes `!*'()`.
 */
export function percentEncode(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(char)
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * The canonical URI: scheme by type and TLS, percent-encoded credentials (`:password@` when there
 * is no username), every endpoint with its port, and `/database` when there is one.
 */
export function formatServiceUri(uri: ServiceUri): string {
  const scheme = uri.type === "memcached" ? "memcached" : uri.tls ? "rediss" : "redis";
  const userinfo =
    uri.password !== undefined
      ? `${percentEncode(uri.username ?? "")}:${percentEncode(uri.password)}@`
      : uri.username !== undefined
        ? `${percentEncode(uri.username)}@`
        : "";
  const hosts = uri.endpoints.map(formatEndpoint).join(",");
  const path = uri.type === "redis" && uri.database !== undefined ? `/${uri.database}` : "";
  return `${scheme}://${userinfo}${hosts}${path}`;
}
