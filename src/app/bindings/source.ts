// Reads entries of a source Secret: base64 `data` decoded to UTF-8 text, first of several aliases wins.
import { err, ok, type Result } from "../../api/index.ts";
import { BINDING_PROBLEM_REASONS, type BindingProblem, keyProblem } from "./problem.ts";
import type { SourceSecret } from "./types.ts";

/** Standard, padded base64 — what the apiserver emits. Buffer would silently skip bad characters. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export interface Entry {
  readonly key: string;
  readonly value: string;
}

/** Decodes one base64 value, or says why it is not base64-encoded UTF-8 text. */
export function decodeBase64Text(encoded: string): { text: string } | { fault: string } {
  if (!BASE64.test(encoded)) return { fault: "not valid base64" };
  try {
    return { text: utf8.decode(Buffer.from(encoded, "base64")) };
  } catch {
    return { fault: "not UTF-8 text" };
  }
}

/**
 * The first of `keys` present in the Secret with a non-empty value. Values other than passwords
 * are trimmed: `echo host | base64` leaves a newline that would otherwise break the URI.
 */
export function readEntry(
  source: SourceSecret,
  binding: string,
  secretName: string,
  keys: readonly string[],
  trim = true,
): Result<Entry | undefined, BindingProblem> {
  for (const key of keys) {
    const encoded = source.data?.[key];
    if (encoded === undefined) continue;
    const decoded = decodeBase64Text(encoded);
    if ("fault" in decoded)
      return err(
        keyProblem(
          BINDING_PROBLEM_REASONS.InvalidEncoding,
          binding,
          secretName,
          key,
          decoded.fault,
        ),
      );
    const value = trim ? decoded.text.trim() : decoded.text;
    if (value !== "") return ok({ key, value });
  }
  return ok(undefined);
}
