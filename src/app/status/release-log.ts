// The last line of a failed release pod's log, made safe for a condition message and an Event. Pure.
import { RELEASE_LOG_LINE_MAX } from "../../api/index.ts";

/** Lines of the release container's log the operator asks for: the last non-empty one of them is kept. */
export const RELEASE_LOG_TAIL_LINES = 2;

/** Bytes of those lines the operator asks for at most: a pod cannot make the read large. */
export const RELEASE_LOG_LIMIT_BYTES = 4096;

/** What the reconcile read of a failed release pod's log: its last line, or why there is none. */
export interface ReleaseLog {
  /** The pod read: the newest pod of the failed Job. */
  readonly pod: string;
  /** Its last non-empty log line, sanitised (lastLogLine); undefined when it logged nothing. */
  readonly line?: string;
  /** Why the log could not be read, short (`BadRequest: pod … does not have a host assigned`). */
  readonly unreadable?: string;
}

/**
 * Terminal escape sequences: CSI (`ESC [` … final byte, colours and cursor moves, or its 8-bit
 * form), OSC (`ESC ]` … BEL or ST: titles, hyperlinks), and the other two-character escapes.
 */
const ESCAPES =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences start with one
  /\u001b\[[0-?]*[ -/]*[@-~]|\u009b[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-Z\\-_]/g;

/**
 * What is left out of a line: C0 and C1 controls and DEL (a tab is a space first), the bidi
 * controls that make `kubectl describe` show text in another order than it is, and the
 * noncharacters U+FFFE/U+FFFF that the API server's YAML decoder refuses.
 */
const UNPRINTABLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what it removes
  /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffe\uffff]/g;

/** One line without escapes or controls, trimmed. */
export function sanitizeLogLine(line: string): string {
  return line.replace(ESCAPES, "").replace(/\t/g, " ").replace(UNPRINTABLE, "").trim();
}

/** `text` cut to `max` UTF-16 code units, "…" last, never between the halves of a surrogate pair. */
export function clipLine(text: string, max = RELEASE_LOG_LINE_MAX): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/**
 * The last line of `log` that has something to show once sanitised (a `\r` starts the line over,
 * as a terminal shows a progress bar), clipped to RELEASE_LOG_LINE_MAX; undefined when none has.
 */
export function lastLogLine(log: string): string | undefined {
  const lines = log.split(/[\r\n]+/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = sanitizeLogLine(lines[i] ?? "");
    if (line !== "") return clipLine(line);
  }
  return undefined;
}

/**
 * The log's part of the ReleaseFailed message: `last log line of pod <pod>: "<line>"`, `pod <pod>
 * logged nothing`, or `no log line of pod <pod>: <why>`.
 */
export function releaseLogPhrase(log: ReleaseLog): string {
  if (log.line !== undefined) return `last log line of pod ${log.pod}: ${JSON.stringify(log.line)}`;
  if (log.unreadable !== undefined) return `no log line of pod ${log.pod}: ${log.unreadable}`;
  return `pod ${log.pod} logged nothing`;
}
