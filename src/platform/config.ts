// The operator's configuration, read from environment variables and validated once at start.
import { hostname } from "node:os";
import { z } from "zod";
import { parseDuration } from "../api/index.ts";

const DURATION = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/;

const duration = (fallback: string) =>
  z
    .string()
    .regex(DURATION, "must be a duration such as 30s, 10m or 1h")
    .default(fallback)
    .transform(parseDuration);

const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" })
    .default(fallback ? "true" : "false")
    .transform((v) => v === "true" || v === "1" || v === "yes");

const address = z
  .string()
  .regex(
    /^(\[[0-9a-fA-F:.]+\]|[^:\s]*):[0-9]{1,5}$/,
    "must be host:port, e.g. :8080 or 127.0.0.1:8080",
  )
  .refine((v) => Number(v.slice(v.lastIndexOf(":") + 1)) <= 65535, "port must be ≤ 65535");

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Each variable, its schema and what it means (the docs table is generated from `description`). */
const variables = {
  WATCH_NAMESPACES: z
    .string()
    .default("")
    .transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    )
    .refine(
      (list) => list.every((ns) => DNS_LABEL.test(ns)),
      "must be a comma-separated list of namespace names",
    )
    .describe("Namespaces to watch, comma-separated; empty watches all namespaces."),
  WORKERS: z.coerce
    .number({ error: "must be an integer" })
    .int("must be an integer")
    .min(1, "must be at least 1")
    .max(64, "must be at most 64")
    .default(4)
    .describe("Concurrent reconciles (of different apps)."),
  RESYNC_PERIOD: duration("10m").describe(
    "How often every app is reconciled even without a change.",
  ),
  LEADER_ELECT: bool(false).describe(
    "Elect a leader through a Lease so several replicas run safely.",
  ),
  LEASE_NAME: z
    .string()
    .regex(DNS_LABEL, "must be a DNS label")
    .default("stateless-operator")
    .describe("Name of the Lease."),
  LEASE_NAMESPACE: z
    .string()
    .regex(DNS_LABEL, "must be a namespace name")
    .optional()
    .describe(
      "Namespace of the Lease; the pod's namespace (POD_NAMESPACE) by default, else default.",
    ),
  POD_NAMESPACE: z
    .string()
    .optional()
    .describe("The operator pod's namespace (from the downward API)."),
  POD_NAME: z
    .string()
    .optional()
    .describe("The operator pod's name: its identity in the Lease; the host name by default."),
  LOG_LEVEL: z
    .enum(["trace", "debug", "info", "warn", "error", "fatal"], {
      error: "must be one of trace, debug, info, warn, error, fatal",
    })
    .default("info")
    .describe("Least severe log level written."),
  HTTP_ADDRESS: address
    .default(":8080")
    .describe(
      "Address of /healthz and /readyz (plain HTTP; also /metrics when METRICS_SECURE=false).",
    ),
  METRICS_ADDRESS: address
    .default(":8443")
    .describe(
      "Address of /metrics over HTTPS, for callers the API server authenticates and authorizes (get on /metrics).",
    ),
  METRICS_SECURE: bool(true).describe(
    "false serves /metrics in plain HTTP on HTTP_ADDRESS to anyone, with no TLS and no authorization: for a local run only.",
  ),
  METRICS_CERT_DIR: z
    .string()
    .optional()
    .describe(
      "Directory with tls.crt and tls.key for /metrics (a kubernetes.io/tls Secret, e.g. from cert-manager), re-read as they rotate; without it a self-signed certificate is made at start.",
    ),
  SHUTDOWN_TIMEOUT: duration("30s").describe("How long SIGTERM waits for in-flight reconciles."),
  API_CONNECTIONS: z.coerce
    .number({ error: "must be an integer" })
    .int("must be an integer")
    .min(1, "must be at least 1")
    .max(1024, "must be at most 1024")
    .default(32)
    .describe(
      "Connections to the API server for ordinary requests (gets, lists, writes, Events); the watches have connections of their own (WATCH_HTTP2), and the Lease two.",
    ),
  WATCH_HTTP2: bool(true).describe(
    "true carries the watches on shared HTTP/2 connections (up to the API server's stream limit each, 100 on kube-apiserver by default) instead of one HTTP/1.1 connection per watch; an API server or proxy that does not offer HTTP/2 gets HTTP/1.1 watches. Other requests use HTTP/1.1 (API_CONNECTIONS).",
  ),
  API_TIMEOUT: duration("30s").describe(
    "How long a request to the API server may wait for a connection and its response; a watch, for its response to start.",
  ),
  POLICY_REPORT_INTERVAL: z
    .string()
    .regex(DURATION, "must be a duration such as 10m, or 0s for off")
    .default("0s")
    .transform(parseDuration)
    .refine((ms) => ms === 0 || ms >= 5_000, "must be 0s (off) or at least 5s")
    .describe(
      "How often the leader writes PolicyReports (wgpolicyk8s.io/v1alpha2) for the namespaces labelled twelvefactor.dev/enforce; 0s, the default, is off.",
    ),
  WATCH_INACTIVITY_TIMEOUT: duration("3m").describe(
    "A watch that delivers no event or bookmark for this long is treated as stalled and restarted.",
  ),
  STREAMING_LISTS: bool(false).describe(
    "true fills the caches from streaming lists (a watch with sendInitialEvents, the WatchList feature) instead of list pages; an API server that refuses them, or ends or stalls one (30 s of silence) before its end bookmark, is listed page by page from then on.",
  ),
} as const;

const schema = z.object(variables);

export interface Config {
  readonly watchNamespaces: readonly string[];
  readonly workers: number;
  readonly resyncPeriodMs: number;
  readonly leaderElection: {
    readonly enabled: boolean;
    readonly name: string;
    readonly namespace: string;
    readonly identity: string;
  };
  readonly logLevel: "trace" | "debug" | "info" | "warn" | "error" | "fatal";
  readonly httpAddress: { readonly host: string; readonly port: number };
  readonly metrics: {
    /** false: plain /metrics on httpAddress, for anyone. */
    readonly secure: boolean;
    readonly address: { readonly host: string; readonly port: number };
    readonly certDir: string | undefined;
  };
  readonly shutdownTimeoutMs: number;
  readonly watchInactivityTimeoutMs: number;
  /** Fill the caches from streaming lists (watch-list) rather than list pages. */
  readonly streamingLists: boolean;
  readonly api: {
    readonly connections: number;
    readonly timeoutMs: number;
    /** WATCH_HTTP2: watches on shared HTTP/2 connections. */
    readonly watchHttp2: boolean;
  };
  /** 0: no PolicyReports. */
  readonly policyReportIntervalMs: number;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** The variables with their descriptions, for documentation. */
export const configVariables = (): { name: string; description: string }[] =>
  Object.entries(variables).map(([name, s]) => ({ name, description: s.description ?? "" }));

/** Each variable's accepted text as JSON Schema (draft 7): the Helm chart's values schema uses it. */
export const configInputSchemas = (): Record<string, Record<string, unknown>> =>
  Object.fromEntries(
    Object.entries(variables).map(([name, s]) => [
      name,
      z.toJSONSchema(s, { io: "input", target: "draft-7", unrepresentable: "any" }) as Record<
        string,
        unknown
      >,
    ]),
  );

/** Reads the configuration; throws a ConfigError naming every bad variable. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const input = Object.fromEntries(
    Object.keys(variables).map((k) => [
      k,
      env[k] === "" && k !== "WATCH_NAMESPACES" ? undefined : env[k],
    ]),
  );
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? "");
        return `${name}: ${i.message} (got ${JSON.stringify(env[name])})`;
      }),
    );
  }
  const c = parsed.data;
  const [host, port] = splitAddress(c.HTTP_ADDRESS);
  const [metricsHost, metricsPort] = splitAddress(c.METRICS_ADDRESS);
  return {
    watchNamespaces: c.WATCH_NAMESPACES,
    workers: c.WORKERS,
    resyncPeriodMs: c.RESYNC_PERIOD,
    leaderElection: {
      enabled: c.LEADER_ELECT,
      name: c.LEASE_NAME,
      namespace: c.LEASE_NAMESPACE ?? c.POD_NAMESPACE ?? "default",
      identity: c.POD_NAME ?? `${hostname()}-${process.pid}`,
    },
    logLevel: c.LOG_LEVEL,
    httpAddress: { host, port },
    metrics: {
      secure: c.METRICS_SECURE,
      address: { host: metricsHost, port: metricsPort },
      certDir: c.METRICS_CERT_DIR,
    },
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT,
    watchInactivityTimeoutMs: c.WATCH_INACTIVITY_TIMEOUT,
    streamingLists: c.STREAMING_LISTS,
    api: { connections: c.API_CONNECTIONS, timeoutMs: c.API_TIMEOUT, watchHttp2: c.WATCH_HTTP2 },
    policyReportIntervalMs: c.POLICY_REPORT_INTERVAL,
  };
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(":");
  const host = address.slice(0, at).replace(/^\[|\]$/g, "");
  return [host, Number(address.slice(at + 1))];
}
