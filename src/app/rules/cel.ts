// Small builders for the CEL text the rules carry.

/** A CEL string literal. */
export function celString(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** A CEL list literal of strings. */
export function celStrings(texts: readonly string[]): string {
  return `[${texts.map(celString).join(", ")}]`;
}

/** `base + '[' + string(index) + ']' + rest`: an indexed path built at evaluation time. */
export function celIndexed(base: string, index: string, rest = ""): string {
  const tail = rest === "" ? "" : ` + ${celString(rest)}`;
  return `${base} + '[' + string(${index}) + ']'${tail}`;
}

/**
 * Flattens a list of lists of strings. CEL's `flatten()` needs Kubernetes 1.35; joining
 * with a separator no path contains and splitting again works on every version we support.
 */
export function celFlatten(listOfLists: string): string {
  return `${listOfLists}.map(l, l.join('\\n')).join('\\n').split('\\n').filter(p, p != '')`;
}
