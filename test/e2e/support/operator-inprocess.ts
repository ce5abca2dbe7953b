// The operator wired as `run` wires it (pino logs, Prometheus metrics), but in the test process, for tuning the runtime allows.

import { type Operator, startOperator } from "../../../src/app/operator.ts";
import { createLogger } from "../../../src/platform/logging.ts";
import { createMetrics } from "../../../src/platform/metrics.ts";
import { instrumentTransport } from "../../../src/runtime/index.ts";
import { transportOf } from "../../support/connection.ts";
import { type Metrics, parseMetrics } from "./metrics.ts";

export interface InProcessOperator {
  readonly operator: Operator;
  readonly name: string;
  /** The JSON log lines it wrote. */
  output(): string;
  metrics(): Promise<Metrics>;
  stop(): Promise<void>;
}

export async function startInProcessOperator(options: {
  name: string;
  kubeconfig: string;
  namespaces: readonly string[];
  resyncPeriodMs?: number;
  reflector?: { inactivityTimeoutMs?: number };
  /** Watches on shared HTTP/2 connections (WATCH_HTTP2). @default true */
  watchHttp2?: boolean;
}): Promise<InProcessOperator> {
  const lines: string[] = [];
  const logger = createLogger("debug", { write: (line: string) => void lines.push(line) });
  const metrics = createMetrics();
  const operator = startOperator({
    transport: instrumentTransport(
      transportOf(options.kubeconfig, { watchHttp2: options.watchHttp2 ?? true }),
      metrics.requests,
    ),
    namespaces: options.namespaces,
    workers: 4,
    resyncPeriodMs: options.resyncPeriodMs ?? 3_600_000,
    instance: options.name,
    logger,
    metrics: {
      queue: metrics.queue("statelessapp"),
      reconcile: metrics.reconcile("statelessapp"),
      reflector: metrics.reflector,
      apply: metrics.apply,
    },
    ...(options.reflector === undefined ? {} : { reflector: options.reflector }),
  });
  const deadline = Date.now() + 60_000;
  while (operator.notReady().length > 0) {
    if (Date.now() > deadline) throw new Error(`not ready: ${operator.notReady().join(", ")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    operator,
    name: options.name,
    output: () => lines.join(""),
    metrics: async () => parseMetrics(await metrics.registry.metrics()),
    stop: () => operator.stop(),
  };
}
