// Finds the line of a field path in a parsed YAML document.
import {
  isMap,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type Pair,
  type ParsedNode,
} from "yaml";
import type { FieldPath } from "../../app/rules/index.ts";
import type { Position } from "./subject.ts";

/**
 * The position of `path` under `root`. A path that leads to a missing field (a sizeLimit that
 * is not there) resolves to the deepest part that exists, which is where the fix goes.
 */
export function locateField(
  root: Node | null,
  path: FieldPath,
  lines: LineCounter,
): Position | undefined {
  let node: Node | null | undefined = root;
  let at = startOf(root);
  for (const segment of path) {
    if (node === null || node === undefined) break;
    if (typeof segment === "number") {
      if (!isSeq(node)) break;
      const item: unknown = node.items[segment];
      if (!isNode(item)) break;
      node = item;
      at = startOf(item) ?? at;
      continue;
    }
    if (!isMap(node)) break;
    const key = typeof segment === "string" ? segment : segment.key;
    const pair: Pair<unknown, unknown> | undefined = node.items.find(
      (p) => isScalar(p.key) && String(p.key.value) === key,
    );
    if (pair === undefined) break;
    // The key's line, not the value's: `emptyDir: {}` points at `emptyDir`.
    at = startOf(isNode(pair.key) ? pair.key : null) ?? at;
    node = isNode(pair.value) ? pair.value : null;
  }
  if (at === undefined) return undefined;
  const { line, col } = lines.linePos(at);
  return { line, column: col };
}

function isNode(value: unknown): value is ParsedNode {
  return typeof value === "object" && value !== null && "range" in value;
}

function startOf(node: Node | null | undefined): number | undefined {
  return node?.range?.[0];
}
