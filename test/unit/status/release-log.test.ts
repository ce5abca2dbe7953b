import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { RELEASE_LOG_LINE_MAX } from "../../../src/api/index.ts";
import {
  clipLine,
  lastLogLine,
  releaseLogPhrase,
  sanitizeLogLine,
} from "../../../src/app/status/index.ts";

/** What must never reach a condition message or an Event from a log. */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what it finds
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe("lastLogLine: the last line a failed release pod logged, safe to show", () => {
  test.each<[string, string, string | undefined]>([
    ["one line", "migration 0042 failed\n", "migration 0042 failed"],
    ["the last of two", "applying 0042\nmigration 0042 failed\n", "migration 0042 failed"],
    ["trailing empty and blank lines are skipped", "boom\n\n   \n\t\n", "boom"],
    ["no trailing newline", "a\nb", "b"],
    ["CRLF", "a\r\nb\r\n", "b"],
    ["a progress bar: what the terminal shows last", "10%\r50%\r100%\n", "100%"],
    [
      "colours removed",
      "\u001b[1;31mERROR\u001b[0m relation users exists\n",
      "ERROR relation users exists",
    ],
    [
      "an OSC hyperlink and title removed",
      "\u001b]8;;https://x\u0007link\u001b]8;;\u0007 \u001b]0;title\u001b\\ok\n",
      "link ok",
    ],
    ["8-bit CSI removed", "\u009b2Jcleared\n", "cleared"],
    ["other controls removed, tabs become spaces", "a\u0000b\u0007c\td\u007fe\u0085f\n", "abc def"],
    ["bidi overrides removed", "txt\u202egnp.exe\u2066x\u2069\n", "txtgnp.exex"],
    ["nothing logged", "", undefined],
    ["only escapes and blanks", "\u001b[0m\n \n", undefined],
  ])("%s", (_what, log, expected) => {
    expect(lastLogLine(log)).toBe(expected);
  });

  test(`a long line is clipped to ${RELEASE_LOG_LINE_MAX} characters, "…" last, a surrogate pair kept whole`, () => {
    const long = lastLogLine(`${"x".repeat(500)}\n`) ?? "";
    expect(long).toHaveLength(RELEASE_LOG_LINE_MAX);
    expect(long.endsWith("x…")).toBe(true);
    // An emoji straddling the cut: it goes whole rather than leave half of it.
    const emoji = clipLine(`${"x".repeat(RELEASE_LOG_LINE_MAX - 2)}😀tail`);
    expect(emoji).toBe(`${"x".repeat(RELEASE_LOG_LINE_MAX - 2)}…`);
    expect(UNSAFE.test(emoji)).toBe(false);
    expect(clipLine("short")).toBe("short");
  });

  test("whatever the pod logs, the line is at most the maximum, printable, one line", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 600 }), (log) => {
        const line = lastLogLine(log);
        if (line === undefined) return;
        expect(line.length).toBeGreaterThan(0);
        expect(line.length).toBeLessThanOrEqual(RELEASE_LOG_LINE_MAX);
        expect(line).toBe(line.trim());
        expect(UNSAFE.test(line)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  test("sanitizeLogLine leaves printable text as it is", () => {
    expect(sanitizeLogLine('  relation "users" exists — ошибка ✓ ')).toBe(
      'relation "users" exists — ошибка ✓',
    );
  });
});

describe("releaseLogPhrase: the log's part of the ReleaseFailed message", () => {
  test.each([
    [
      { pod: "shop-release-1a-x7k", line: 'relation "users" exists' },
      'last log line of pod shop-release-1a-x7k: "relation \\"users\\" exists"',
    ],
    [
      { pod: "p", unreadable: "BadRequest: pod p does not have a host assigned" },
      "no log line of pod p: BadRequest: pod p does not have a host assigned",
    ],
    [{ pod: "p" }, "pod p logged nothing"],
  ])("%j", (log, phrase) => {
    expect(releaseLogPhrase(log)).toBe(phrase);
  });
});
