// YAML in and out: stable multi-document output, and manifests read as kubectl reads them.
import { LineCounter, type Node, parseAllDocuments, type Scalar, stringify, visit } from "yaml";

/** Objects as multi-document YAML, each document starting with `---`. */
export function toYamlDocuments(objects: readonly unknown[], header?: string): string {
  const body = objects
    .map((o) => `---\n${stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })}`)
    .join("");
  return header === undefined ? body : `${header}\n${body}`;
}

/** Something in a manifest that cannot be read the way kubectl reads it. */
export interface ManifestError {
  readonly line?: number;
  readonly message: string;
}

export interface Manifest {
  /** The documents' values in order; empty documents are left out, as kubectl leaves them. */
  readonly documents: unknown[];
  readonly error?: ManifestError;
}

/**
 * Reads YAML or JSON as kubectl does. kubectl decodes JSON as JSON and YAML as YAML 1.1
 * (go-yaml v2), this library as YAML 1.2: where the two read a scalar differently (`yes`, `on`,
 * `0b101`, `1_000`, `012`, a NEL line break, a `<<` merge key), the manifest is refused with the
 * line, never read one way while kubectl reads it another.
 */
export function readManifest(text: string): Manifest {
  const json = readJson(text);
  if (json !== undefined) return { documents: [json.value] };
  const odd = unreadableCharacter(text);
  if (odd !== undefined) return { documents: [], error: odd };
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, version: "1.2" });
  if (!Array.isArray(docs)) return { documents: [] };
  const documents: unknown[] = [];
  for (const doc of docs) {
    const error = doc.errors[0] ?? doc.warnings[0];
    if (error !== undefined) {
      return {
        documents,
        error: { line: error.linePos?.[0].line, message: firstLine(error.message) },
      };
    }
    let ambiguity: ManifestError | undefined;
    const refuse = (node: Node, message: string) => {
      ambiguity = { line: lines.linePos(node.range?.[0] ?? 0).line, message };
      return visit.BREAK;
    };
    visit(doc, {
      Node(_key, node) {
        const tag = explicitTag(node);
        return tag === undefined ? undefined : refuse(node, tag);
      },
      Scalar(key, node) {
        const problem =
          explicitTag(node) ??
          (key === "key" && node.value === null
            ? "a null key is read differently by kubectl (YAML 1.1): name the key"
            : ambiguous(node, text));
        return problem === undefined ? undefined : refuse(node, problem);
      },
    });
    if (ambiguity !== undefined) return { documents, error: ambiguity };
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) documents.push(value);
  }
  return { documents };
}

/**
 * The first character kubectl's YAML reads otherwise or not at all: NEL, LS and PS are line
 * breaks in YAML 1.1 (go-yaml folds them) and text in YAML 1.2; outside tab, LF, CR and the
 * printable ranges go-yaml refuses the stream ("control characters are not allowed").
 */
function unreadableCharacter(text: string): ManifestError | undefined {
  const m =
    /[\u0085\u2028\u2029]|[^\t\n\r\u0020-\u007e\u00a0-\ud7ff\ue000-\ufffd\ud800-\udfff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.exec(
      text,
    );
  if (m === null) return undefined;
  const code = `U+${(m[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
  const line = lineOf(text, m.index);
  return /[\u0085\u2028\u2029]/.test(m[0])
    ? {
        line,
        message: `${code} is a line break to kubectl (YAML 1.1) and text in YAML 1.2: remove it or write it as an escape in a double-quoted string`,
      }
    : {
        line,
        message: `${code} is not allowed in YAML by kubectl (YAML 1.1, "control characters are not allowed"): write it as an escape in a double-quoted string`,
      };
}

/** JSON text, decoded as JSON (as kubectl does when the input starts with `{`). */
function readJson(text: string): { value: unknown } | undefined {
  if (!text.trimStart().startsWith("{")) return undefined;
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

const STR_TAG = "tag:yaml.org,2002:str";

/** A tag written in the document (only those are set on parsed nodes) other than !!str, which both read alike. */
function explicitTag(node: Node): string | undefined {
  const tag = node.tag;
  if (tag === undefined || tag === STR_TAG) return undefined;
  return `the explicit tag ${tag} may be read differently by kubectl (YAML 1.1): leave it out`;
}

const lineOf = (text: string, index: number) => text.slice(0, index).split("\n").length;

function firstLine(message: string): string {
  return (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "");
}

/** Why kubectl would read this scalar differently, or undefined when both read it the same. */
function ambiguous(node: Scalar, text: string): string | undefined {
  if (node.type === "QUOTE_DOUBLE" && node.range) {
    const raw = text.slice(node.range[0], node.range[1]);
    if (/(^|[^\\])(\\\\)*\\\//.test(raw))
      return 'the escape \\/ is YAML 1.2 only: kubectl (YAML 1.1) does not read it; write "/"';
  }
  if (node.type !== "PLAIN" || node.source === undefined || node.tag === STR_TAG) return undefined;
  const source = node.source;
  if (source === "<<")
    return "<< is a merge key to kubectl (YAML 1.1) and a plain key in YAML 1.2: write the keys out";
  const yaml11 = resolveYaml11(source);
  if (sameValue(yaml11, node.value)) return undefined;
  return `${JSON.stringify(source)} is ${describe(yaml11)} to kubectl (YAML 1.1) but ${describe(node.value)} in YAML 1.2: quote it, or write it as both read it`;
}

const describe = (v: unknown): string =>
  typeof v === "string"
    ? `the string ${JSON.stringify(v)}`
    : `${typeof v === "bigint" ? Number(v) : String(v)}`;

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === "bigint") return typeof b === "number" && Number(a) === b;
  if (typeof a === "number" && typeof b === "number")
    return Object.is(a, b) || (a === b && a !== 0) || (Number.isNaN(a) && Number.isNaN(b));
  return a === b;
}

const YAML11_BOOLEANS: Readonly<Record<string, boolean>> = Object.fromEntries([
  ...["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"].map((s) => [
    s,
    true,
  ]),
  ...["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"].map((s) => [
    s,
    false,
  ]),
]);
const YAML11_NULLS = new Set(["", "~", "null", "Null", "NULL"]);
const YAML11_FLOATS: Readonly<Record<string, number>> = {
  ".nan": Number.NaN,
  ".NaN": Number.NaN,
  ".NAN": Number.NaN,
  ".inf": Number.POSITIVE_INFINITY,
  ".Inf": Number.POSITIVE_INFINITY,
  ".INF": Number.POSITIVE_INFINITY,
  "+.inf": Number.POSITIVE_INFINITY,
  "+.Inf": Number.POSITIVE_INFINITY,
  "+.INF": Number.POSITIVE_INFINITY,
  "-.inf": Number.NEGATIVE_INFINITY,
  "-.Inf": Number.NEGATIVE_INFINITY,
  "-.INF": Number.NEGATIVE_INFINITY,
};
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * The value go-yaml v2 (kubectl's YAML) resolves a plain scalar to: null, a boolean, an integer
 * (bigint), a float or the string itself. Timestamps stay strings there too.
 */
export function resolveYaml11(plain: string): unknown {
  if (YAML11_NULLS.has(plain)) return null;
  const bool = YAML11_BOOLEANS[plain];
  if (bool !== undefined) return bool;
  const special = YAML11_FLOATS[plain];
  if (special !== undefined) return special;
  const first = plain[0] ?? "";
  if (first === ".") return goParseFloat(plain) ?? plain;
  if (!/[-+0-9]/.test(first)) return plain;
  const digits = plain.replaceAll("_", "");
  const int = goParseInt(digits);
  if (int !== undefined) return int;
  if (YAML_STYLE_FLOAT.test(digits)) return goParseFloat(digits) ?? plain;
  return plain;
}

/** strconv.ParseInt(s, 0, 64), then ParseUint(s, 0, 64): sign, 0x / 0o / 0b / leading-0 octal. */
function goParseInt(s: string): bigint | undefined {
  const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (m === null) return undefined;
  const [, sign = "", body = ""] = m;
  let value: bigint;
  if (/^0[oO]/.test(body)) value = BigInt(`0o${body.slice(2)}`);
  else if (/^0[0-7]+$/.test(body)) value = BigInt(`0o${body.slice(1)}`);
  else value = BigInt(body.toLowerCase());
  if (sign === "-") value = -value;
  if (value >= INT64_MIN && value <= INT64_MAX) return value;
  if (sign === "" && value <= UINT64_MAX) return value;
  return undefined;
}

/** strconv.ParseFloat(s, 64) for the decimal forms go-yaml passes it; undefined when out of range. */
function goParseFloat(s: string): number | undefined {
  const clean = s.replaceAll("_", "");
  if (!YAML_STYLE_FLOAT.test(clean)) return undefined;
  if (
    s.includes("_") &&
    !/^[-+]?[.]?[0-9]+(_[0-9]+)*([.][0-9]+(_[0-9]+)*)?([eE][-+]?[0-9]+(_[0-9]+)*)?$/.test(s)
  )
    return undefined;
  const value = Number(clean);
  return Number.isFinite(value) ? value : undefined;
}
