// `run`: the operator process — configuration, cluster connection, endpoints, graceful SIGTERM.
import { startOperator } from "../app/operator.ts";
import { startPolicyReporting } from "../app/reports/index.ts";
import { ConfigError, loadConfig } from "../platform/config.ts";
import { serveEndpoints } from "../platform/http.ts";
import { loadConnection, NoClusterError } from "../platform/kube/index.ts";
import { createLogger } from "../platform/logging.ts";
import { createMetrics } from "../platform/metrics.ts";
import { connectionTransport, instrumentTransport, safeTimeout } from "../runtime/index.ts";
import type { Command } from "./io.ts";

const USAGE = `usage: stateless-operator run

Runs the operator against the current kubeconfig context (KUBECONFIG or ~/.kube/config), or the
in-cluster configuration inside a pod. Configured by environment variables: see docs/operations.md.
`;

export const run: Command = async (argv, io) => {
  if (argv.includes("-h") || argv.includes("--help")) {
    io.stdout(USAGE);
    return 0;
  }
  if (argv.length > 0) {
    io.stderr(`run: unexpected arguments: ${argv.join(" ")}\n${USAGE}`);
    return 2;
  }
  let config: ReturnType<typeof loadConfig>;
  let connection: Awaited<ReturnType<typeof loadConnection>>;
  try {
    config = loadConfig(process.env);
    connection = await loadConnection(process.env);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof NoClusterError) {
      io.stderr(`stateless-operator: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  const logger = createLogger(config.logLevel);
  const metrics = createMetrics();
  const connections = connectionTransport(connection, {
    requestConnections: config.api.connections,
    timeoutMs: config.api.timeoutMs,
    logger,
    metrics: metrics.connections,
  });
  const transport = instrumentTransport(connections, metrics.requests);
  const operator = startOperator({
    transport,
    connections,
    namespaces: config.watchNamespaces,
    workers: config.workers,
    resyncPeriodMs: config.resyncPeriodMs,
    ...(config.leaderElection.enabled ? { leaderElection: config.leaderElection } : {}),
    instance: config.leaderElection.identity,
    reflector: { inactivityTimeoutMs: config.watchInactivityTimeoutMs },
    logger,
    metrics: {
      queue: metrics.queue("statelessapp"),
      reconcile: metrics.reconcile("statelessapp"),
      reflector: metrics.reflector,
      apply: metrics.apply,
      leader: metrics.leader(config.leaderElection.name),
    },
  });
  const reports =
    config.policyReportIntervalMs > 0
      ? startPolicyReporting({
          transport,
          intervalMs: config.policyReportIntervalMs,
          namespaces: config.watchNamespaces,
          logger,
          isLeader: operator.isLeader,
        })
      : undefined;
  let endpoints: Awaited<ReturnType<typeof serveEndpoints>>;
  try {
    endpoints = await serveEndpoints(config.httpAddress, metrics.registry, {
      notReady: operator.notReady,
    });
  } catch (error) {
    logger.error({ err: String(error) }, "cannot serve /healthz, /readyz and /metrics");
    await reports?.stop();
    await operator.stop();
    return 1;
  }
  logger.info(
    {
      server: connection.server,
      namespaces: config.watchNamespaces.length === 0 ? "all" : config.watchNamespaces,
      address: `${endpoints.address.address}:${endpoints.address.port}`,
      leaderElection: config.leaderElection.enabled,
    },
    "operator started",
  );

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  logger.info({ signal }, "shutting down: finishing in-flight reconciles");
  // A second signal, or a stop that takes too long, ends the process at once.
  const force = () => {
    logger.warn({}, "shutdown did not finish in time; exiting");
    process.exit(1);
  };
  process.once("SIGTERM", force);
  process.once("SIGINT", force);
  const timer = safeTimeout(force, config.shutdownTimeoutMs);
  await reports?.stop();
  await operator.stop();
  await endpoints.close();
  timer.cancel();
  logger.info({}, "stopped");
  return 0;
};
