// `run`: the operator process — configuration, cluster connection, endpoints, graceful SIGTERM.
import { startOperator } from "../app/operator.ts";
import { delegatingAuthorizer } from "../platform/auth.ts";
import { readBuildInfo } from "../platform/build.ts";
import { ConfigError, loadConfig } from "../platform/config.ts";
import { type Endpoint, serveHealth, serveSecureMetrics } from "../platform/http.ts";
import { loadConnection, NoClusterError } from "../platform/kube/index.ts";
import { createLogger } from "../platform/logging.ts";
import { createMetrics } from "../platform/metrics.ts";
import { type KeyPair, readKeyPair, selfSignedCertificate, watchKeyPair } from "../platform/tls.ts";
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
  // The metrics server's key pair: from METRICS_CERT_DIR, or self-signed like controller-runtime's.
  let keyPair: KeyPair | undefined;
  if (config.metrics.secure) {
    const dir = config.metrics.certDir;
    try {
      keyPair =
        dir === undefined
          ? selfSignedCertificate("stateless-operator-metrics", ["localhost", "127.0.0.1", "::1"])
          : await readKeyPair(dir);
    } catch (error) {
      io.stderr(`stateless-operator: METRICS_CERT_DIR: ${(error as Error).message}\n`);
      return 2;
    }
  }

  const logger = createLogger(config.logLevel);
  const metrics = createMetrics();
  const connections = connectionTransport(connection, {
    requestConnections: config.api.connections,
    timeoutMs: config.api.timeoutMs,
    watchHttp2: config.api.watchHttp2,
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
    reflector: {
      inactivityTimeoutMs: config.watchInactivityTimeoutMs,
      streamingList: config.streamingLists,
    },
    logger,
    metrics: {
      queue: metrics.queue("statelessapp"),
      reconcile: metrics.reconcile("statelessapp"),
      reflector: metrics.reflector,
      apply: metrics.apply,
      // Only a candidate reports leader_election_master_status (a single replica has no Lease).
      ...(config.leaderElection.enabled
        ? { leader: metrics.leader(config.leaderElection.name) }
        : {}),
    },
  });
  // Loaded only when on (off by default): the rule set and its CEL are not needed to reconcile.
  const reports =
    config.policyReportIntervalMs > 0
      ? (await import("../app/reports/index.ts")).startPolicyReporting({
          transport,
          intervalMs: config.policyReportIntervalMs,
          namespaces: config.watchNamespaces,
          logger,
          isLeader: operator.isLeader,
        })
      : undefined;
  const endpoints: Endpoint[] = [];
  let stopWatch = () => {};
  try {
    endpoints.push(
      await serveHealth(
        config.httpAddress,
        { notReady: operator.notReady },
        config.metrics.secure ? undefined : metrics.registry,
      ),
    );
    if (keyPair !== undefined) {
      const secure = await serveSecureMetrics(config.metrics.address, metrics.registry, {
        keyPair,
        authorizer: delegatingAuthorizer(transport),
      });
      endpoints.push(secure);
      const dir = config.metrics.certDir;
      if (dir !== undefined) {
        stopWatch = watchKeyPair(
          dir,
          keyPair,
          (pair) => {
            secure.setKeyPair(pair);
            logger.info({ dir }, "metrics certificate reloaded");
          },
          (error) => logger.error({ dir, err: error.message }, "metrics certificate not reloaded"),
        ).stop;
      }
    }
  } catch (error) {
    logger.error({ err: String(error) }, "cannot serve /healthz, /readyz and /metrics");
    await reports?.stop();
    await Promise.all(endpoints.map((e) => e.close()));
    await operator.stop();
    return 1;
  }
  const at = (e: Endpoint | undefined) =>
    e === undefined ? undefined : `${e.address.address}:${e.address.port}`;
  logger.info(
    {
      server: connection.server,
      namespaces: config.watchNamespaces.length === 0 ? "all" : config.watchNamespaces,
      address: at(endpoints[0]),
      metricsAddress: config.metrics.secure ? at(endpoints[1]) : at(endpoints[0]),
      metricsSecure: config.metrics.secure,
      leaderElection: config.leaderElection.enabled,
      ...readBuildInfo(),
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
  stopWatch();
  await Promise.all(endpoints.map((e) => e.close()));
  timer.cancel();
  logger.info({}, "stopped");
  return 0;
};
