// Test doubles shared by the runtime unit tests: deferred promises and a recording logger.
import type { LogFields, Logger } from "../../../src/runtime/logger.ts";

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => {};
  let reject: (err: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export interface LogLine {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly fields: LogFields;
  readonly msg: string;
}

/** A logger that keeps every line, so tests can assert that a failure was logged. */
export function recordingLogger(
  lines: LogLine[] = [],
  bindings: LogFields = {},
): Logger & {
  lines: LogLine[];
} {
  const at =
    (level: LogLine["level"]) =>
    (fields: LogFields, msg: string): void => {
      lines.push({ level, fields: { ...bindings, ...fields }, msg });
    };
  return {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (more) => recordingLogger(lines, { ...bindings, ...more }),
  };
}
