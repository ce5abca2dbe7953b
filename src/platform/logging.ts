// JSON logs through pino, with every secret-bearing field redacted wherever it appears.
import { type DestinationStream, pino } from "pino";
import type { Logger } from "../runtime/logger.ts";

/**
 * Field names that can carry credentials: Secret payloads, binding entries, URIs with a password,
 * request headers. Redacted at the top level and up to two levels down.
 */
const SECRET_FIELDS = [
  "data",
  "stringData",
  "password",
  "uri",
  "url",
  "authorization",
  "token",
  "entries",
];
const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal";

export function createLogger(
  level: LogLevel,
  destination?: DestinationStream,
): Logger & { level: string } {
  return pino(
    {
      level,
      base: { name: "stateless-operator" },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
