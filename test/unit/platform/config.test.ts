import { describe, expect, test } from "vitest";
import { ConfigError, loadConfig } from "../../../src/platform/config.ts";

const problems = (env: Record<string, string>): readonly string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
};

describe("loadConfig", () => {
  test("has defaults for everything", () => {
    const c = loadConfig({ POD_NAME: "op-1" });
    expect(c).toEqual({
      watchNamespaces: [],
      workers: 4,
      resyncPeriodMs: 600_000,
      leaderElection: {
        enabled: false,
        name: "stateless-operator",
        namespace: "default",
        identity: "op-1",
      },
      logLevel: "info",
      httpAddress: { host: "", port: 8080 },
      metrics: { secure: true, address: { host: "", port: 8443 }, certDir: undefined },
      shutdownTimeoutMs: 30_000,
      watchInactivityTimeoutMs: 180_000,
      streamingLists: false,
      api: { connections: 32, timeoutMs: 30_000, watchHttp2: true },
      policyReportIntervalMs: 0,
    });
  });

  test("reads every variable", () => {
    const c = loadConfig({
      WATCH_NAMESPACES: "web, shop ,",
      WORKERS: "8",
      RESYNC_PERIOD: "1h30m",
      LEADER_ELECT: "true",
      LEASE_NAME: "lease",
      POD_NAMESPACE: "stateless-operator-system",
      POD_NAME: "op-2",
      LOG_LEVEL: "debug",
      HTTP_ADDRESS: "127.0.0.1:0",
      METRICS_ADDRESS: "[::1]:9443",
      METRICS_SECURE: "false",
      METRICS_CERT_DIR: "/etc/tls",
      SHUTDOWN_TIMEOUT: "10s",
      WATCH_INACTIVITY_TIMEOUT: "20s",
      STREAMING_LISTS: "true",
      API_CONNECTIONS: "8",
      WATCH_HTTP2: "false",
      API_TIMEOUT: "1m",
      POLICY_REPORT_INTERVAL: "15m",
    });
    expect(c).toEqual({
      watchNamespaces: ["web", "shop"],
      workers: 8,
      resyncPeriodMs: 5_400_000,
      leaderElection: {
        enabled: true,
        name: "lease",
        namespace: "stateless-operator-system",
        identity: "op-2",
      },
      logLevel: "debug",
      httpAddress: { host: "127.0.0.1", port: 0 },
      metrics: { secure: false, address: { host: "::1", port: 9443 }, certDir: "/etc/tls" },
      shutdownTimeoutMs: 10_000,
      watchInactivityTimeoutMs: 20_000,
      streamingLists: true,
      api: { connections: 8, timeoutMs: 60_000, watchHttp2: false },
      policyReportIntervalMs: 900_000,
    });
  });

  test("an explicit LEASE_NAMESPACE wins over the pod's namespace", () => {
    expect(
      loadConfig({ LEASE_NAMESPACE: "ops", POD_NAMESPACE: "x" }).leaderElection.namespace,
    ).toBe("ops");
  });

  test("names every bad variable, once each, with its value", () => {
    expect(
      problems({
        WORKERS: "many",
        RESYNC_PERIOD: "10 minutes",
        LEADER_ELECT: "maybe",
        LOG_LEVEL: "loud",
        HTTP_ADDRESS: "8080",
        WATCH_NAMESPACES: "Web",
      }),
    ).toEqual([
      'WATCH_NAMESPACES: must be a comma-separated list of namespace names (got "Web")',
      'WORKERS: must be an integer (got "many")',
      'RESYNC_PERIOD: must be a duration such as 30s, 10m or 1h (got "10 minutes")',
      'LEADER_ELECT: must be true or false (got "maybe")',
      'LOG_LEVEL: must be one of trace, debug, info, warn, error, fatal (got "loud")',
      'HTTP_ADDRESS: must be host:port, e.g. :8080 or 127.0.0.1:8080 (got "8080")',
    ]);
  });

  test.each([
    ["0", "WORKERS: must be at least 1"],
    ["65", "WORKERS: must be at most 64"],
    ["1.5", "WORKERS: must be an integer"],
  ])("WORKERS=%s", (value, message) => {
    expect(problems({ WORKERS: value })).toEqual([`${message} (got "${value}")`]);
  });

  test.each([
    ["1s", "POLICY_REPORT_INTERVAL: must be 0s (off) or at least 5s"],
    ["often", "POLICY_REPORT_INTERVAL: must be a duration such as 10m, or 0s for off"],
  ])("POLICY_REPORT_INTERVAL=%s", (value, message) => {
    expect(problems({ POLICY_REPORT_INTERVAL: value })).toEqual([`${message} (got "${value}")`]);
  });

  test("an empty variable means its default", () => {
    expect(loadConfig({ WORKERS: "", LOG_LEVEL: "" }).workers).toBe(4);
  });
});
