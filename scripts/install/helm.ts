// Helm template text from rendered objects: placeholders in the objects become Go template actions.
import { stringify } from "yaml";

/**
 * The chart's templates are the install's own objects, rendered by the same functions, with some
 * values swapped for placeholders: `expr()` for a scalar (`{{ .Values.replicaCount }}`),
 * `block()` for lines that may or may not be there (an optional map entry, list items under an
 * `if`). Serializing then yields YAML whose placeholder tokens are replaced by template text, so
 * the rest of each template is exactly what dist/install.yaml holds.
 */
export interface Templating {
  /** A string that becomes `{{ action }}` where it stands (whole value or part of one). */
  expr(action: string): string;
  /**
   * A placeholder that becomes whole lines: use it as a map key (`{ [block(...)]: null }`) or as
   * a list item. `render` gets the column the key or the item's dash stands at.
   */
  block(render: (indent: number) => string): string;
  /** Objects as template text: multi-document YAML with the placeholders replaced. */
  text(objects: readonly unknown[]): string;
}

const TOKEN = /HELM([EB])(\d+)X/g;
/** A block stands alone: a map key of its own line, or a whole list item (never a list item's first key). */
const BLOCK_LINE = /^( *)(- )?HELMB(\d+)X(: null)?$/;

export function createTemplating(): Templating {
  const exprs: string[] = [];
  const blocks: ((indent: number) => string)[] = [];
  return {
    expr: (action) => `HELME${exprs.push(action) - 1}X`,
    block: (render) => `HELMB${blocks.push(render) - 1}X`,
    text: (objects) => {
      const yaml = objects
        .map((o) => `---\n${stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })}`)
        .join("");
      // Literal `{{` in the objects (none today) must not start an action.
      const escaped = yaml.replaceAll("{{", '{{ "{{" }}');
      const lines = escaped.split("\n").map((line) => {
        const m = BLOCK_LINE.exec(line);
        if (m === null) return line;
        if (m[2] !== undefined && m[4] !== undefined)
          throw new Error("a block placeholder cannot be the first key of a list item");
        const render = blocks[Number(m[3])];
        if (render === undefined) throw new Error(`unknown block ${line}`);
        return render((m[1] ?? "").length).replace(/\n$/, "");
      });
      return lines.join("\n").replace(TOKEN, (token, kind: string, index: string) => {
        if (kind === "B") throw new Error(`block placeholder ${token} is not a whole line`);
        const action = exprs[Number(index)];
        if (action === undefined) throw new Error(`unknown placeholder ${token}`);
        return `{{ ${action} }}`;
      });
    },
  };
}

/** Lines of YAML for `value`, each indented by `indent` spaces (a list stays a list). */
export function yamlAt(value: unknown, indent: number): string {
  const text = stringify(value, { lineWidth: 0, aliasDuplicateObjects: false }).replace(/\n$/, "");
  const pad = " ".repeat(indent);
  return text
    .split("\n")
    .map((l) => pad + l)
    .join("\n");
}

/** Lines wrapped in `{{- if condition }}` … `{{- end }}` (or another opening action). */
export function guarded(opening: string, body: string): string {
  return `{{- ${opening} }}\n${body}\n{{- end }}`;
}
