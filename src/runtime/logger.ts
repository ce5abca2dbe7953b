// The logging interface the runtime writes to: a pino-compatible subset the caller injects.

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(fields: LogFields, msg: string): void;
  info(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
  /** A logger that adds `bindings` to every line (pino's `child`). */
  child(bindings: LogFields): Logger;
}

const ignore = () => {};

/** Discards everything; the default when a caller injects no logger. */
export const silentLogger: Logger = {
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
  child: () => silentLogger,
};
