// YAML output shared by the commands and the generated files: stable, unwrapped, multi-document.
import { stringify } from "yaml";

/** Objects as multi-document YAML, each document starting with `---`. */
export function toYamlDocuments(objects: readonly unknown[], header?: string): string {
  const body = objects
    .map((o) => `---\n${stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })}`)
    .join("");
  return header === undefined ? body : `${header}\n${body}`;
}
