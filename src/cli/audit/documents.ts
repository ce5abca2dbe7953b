// Reads YAML or JSON text into the objects audit checks: multi-document, Lists, Helm output.
import { type Document, isMap, isSeq, LineCounter, type Node, parseAllDocuments } from "yaml";
import { type FieldPath, isObject, type JsonObject } from "../../app/rules/index.ts";
import { locateField } from "./locate.ts";
import { type InputError, refOf, type Subject } from "./subject.ts";

export interface ReadResult {
  readonly subjects: Subject[];
  readonly errors: InputError[];
}

/**
 * Every Kubernetes object in `text`. `file` names the source in reports. Documents that are not
 * objects with an apiVersion and kind (Helm values, comments-only documents) are skipped.
 * YAML 1.1 is what the Kubernetes tools read: `yes`, `on` and `n` are booleans there.
 */
export function readDocuments(text: string, file: string): ReadResult {
  const lines = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lines, version: "1.1" });
  const docs: Document.Parsed[] = Array.isArray(parsed) ? parsed : [];
  const subjects: Subject[] = [];
  const errors: InputError[] = [];
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error !== undefined) {
      const pos = error.linePos?.[0];
      errors.push({
        file,
        ...(pos === undefined ? {} : { position: { line: pos.line, column: pos.col } }),
        message: firstLine(error.message),
      });
      continue;
    }
    const helmSource = helmSourceOf(doc);
    const value: unknown = doc.toJS({ maxAliasCount: 1000 });
    const origin = { file, ...(helmSource === undefined ? {} : { helmSource }) };
    for (const { object, prefix } of expandLists(value)) {
      const root = nodeAt(doc.contents, prefix);
      subjects.push({
        object,
        ref: refOf(object),
        origin,
        locate: (path: FieldPath) => locateField(root, path, lines),
      });
    }
  }
  return { subjects, errors };
}

function firstLine(message: string): string {
  return (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "");
}

/**
 * Helm prints `# Source: chart/templates/x.yaml` at the top of each rendered document: a
 * comment of the document, or of its first node when it follows the `---` marker.
 */
function helmSourceOf(doc: Document.Parsed): string | undefined {
  const comments = `${doc.commentBefore ?? ""}\n${doc.contents?.commentBefore ?? ""}`;
  return /^\s*Source:\s*(\S.*?)\s*$/m.exec(comments)?.[1];
}

const isKubernetesObject = (v: unknown): v is JsonObject =>
  isObject(v) && typeof v.apiVersion === "string" && typeof v.kind === "string";

/**
 * The objects of a document: itself, or the items of a `List` (kubectl's) or a typed list
 * (`DeploymentList`, whose items may leave out apiVersion and kind).
 */
function expandLists(value: unknown): { object: JsonObject; prefix: FieldPath }[] {
  if (!isKubernetesObject(value)) return [];
  const kind = value.kind as string;
  if (!kind.endsWith("List") || !Array.isArray(value.items)) return [{ object: value, prefix: [] }];
  const itemKind = kind === "List" ? undefined : kind.slice(0, -"List".length);
  return value.items.flatMap((item: unknown, i: number) => {
    if (!isObject(item)) return [];
    const object =
      itemKind === undefined ? item : { apiVersion: value.apiVersion, kind: itemKind, ...item };
    return expandLists(object).map((e) => ({
      object: e.object,
      prefix: ["items", i, ...e.prefix],
    }));
  });
}

function nodeAt(root: Node | null, path: FieldPath): Node | null {
  let node: Node | null = root;
  for (const segment of path) {
    if (typeof segment === "number" && isSeq(node)) node = (node.items[segment] as Node) ?? null;
    else if (typeof segment === "string" && isMap(node))
      node = (node.get(segment, true) as Node) ?? null;
    else return null;
  }
  return node;
}
