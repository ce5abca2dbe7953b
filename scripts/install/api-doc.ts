// docs/api.md: the StatelessApp API reference, rendered from the generated CRD's schema and descriptions.
import { type JsonSchema, renderCrd, VALIDATION_OVERVIEW } from "../../src/api/index.ts";

interface Crd {
  spec: {
    group: string;
    names: { kind: string; plural: string; shortNames?: string[]; categories?: string[] };
    scope: string;
    versions: {
      name: string;
      schema: { openAPIV3Schema: JsonSchema };
      additionalPrinterColumns?: {
        name: string;
        jsonPath: string;
        description?: string;
        priority?: number;
      }[];
    }[];
  };
}

interface Row {
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly fallback: string;
  readonly description: string;
}

interface CelRule {
  readonly path: string;
  readonly rule: string;
  readonly message: string;
}

type Schema = JsonSchema & {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  required?: string[];
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  maxLength?: number;
  format?: string;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-validations"?: { rule: string; message?: string }[];
};

const cell = (text: string) => text.replace(/\s+/g, " ").replace(/\|/g, "\\|").trim();
const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;

function typeOf(s: Schema): string {
  if (s["x-kubernetes-int-or-string"]) return "int-or-string";
  if (s.type === "array") return `[]${s.items === undefined ? "any" : typeOf(s.items)}`;
  if (
    s.type === "object" &&
    s.properties === undefined &&
    typeof s.additionalProperties === "object"
  )
    return `map[string]${typeOf(s.additionalProperties)}`;
  return s.type ?? "any";
}

function constraints(s: Schema): string[] {
  const out: string[] = [];
  if (s.enum !== undefined) out.push(`one of ${s.enum.map((v) => code(String(v))).join(", ")}`);
  if (s.minimum !== undefined && s.maximum !== undefined) out.push(`${s.minimum}–${s.maximum}`);
  else if (s.minimum !== undefined) out.push(`≥ ${s.minimum}`);
  else if (s.maximum !== undefined) out.push(`≤ ${s.maximum}`);
  if (s.minItems !== undefined && s.minItems > 0) out.push(`at least ${s.minItems} item(s)`);
  if (s.maxItems !== undefined) out.push(`at most ${s.maxItems} items`);
  if (s.maxLength !== undefined) out.push(`at most ${s.maxLength} characters`);
  if (s.format !== undefined) out.push(`format ${s.format}`);
  if (s["x-kubernetes-list-type"] === "map")
    out.push(`list map keyed by ${(s["x-kubernetes-list-map-keys"] ?? []).map(code).join(", ")}`);
  return out;
}

function walk(s: Schema, path: string, required: boolean, rows: Row[], rules: CelRule[]): void {
  const extra = constraints(s);
  rows.push({
    path,
    type: typeOf(s),
    required,
    fallback: s.default === undefined ? "" : code(JSON.stringify(s.default)),
    description: [s.description ?? "", ...(extra.length > 0 ? [`(${extra.join("; ")})`] : [])]
      .join(" ")
      .trim(),
  });
  for (const v of s["x-kubernetes-validations"] ?? [])
    rules.push({ path, rule: v.rule, message: v.message ?? "" });
  const children = (node: Schema, prefix: string) => {
    for (const [name, child] of Object.entries(node.properties ?? {}))
      walk(child, `${prefix}.${name}`, (node.required ?? []).includes(name), rows, rules);
  };
  if (s.properties !== undefined) children(s, path);
  if (s.type === "array" && s.items !== undefined) {
    for (const v of s.items["x-kubernetes-validations"] ?? [])
      rules.push({ path: `${path}[]`, rule: v.rule, message: v.message ?? "" });
    children(s.items, `${path}[]`);
  }
}

function table(rows: readonly Row[]): string {
  const lines = [
    "| Field | Type | Required | Default | Description |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map(
      (r) =>
        `| ${code(r.path)} | ${code(r.type)} | ${r.required ? "yes" : ""} | ${r.fallback} | ${cell(r.description)} |`,
    ),
  ];
  return lines.join("\n");
}

/** The reference as Markdown: names, printer columns, spec and status fields, CEL rules. */
export function renderApiReference(): string {
  const crd = renderCrd() as unknown as Crd;
  const version = crd.spec.versions[0];
  if (version === undefined) throw new Error("the CRD has no version");
  const root = version.schema.openAPIV3Schema as Schema;
  const names = crd.spec.names;
  const sections: string[] = [];
  const rules: CelRule[] = [];
  for (const part of ["spec", "status"] as const) {
    const schema = root.properties?.[part];
    if (schema === undefined) continue;
    const rows: Row[] = [];
    walk(schema, part, (root.required ?? []).includes(part), rows, rules);
    sections.push(`## ${part}\n\n${cell(schema.description ?? "")}\n\n${table(rows.slice(1))}`);
  }
  for (const v of root["x-kubernetes-validations"] ?? [])
    rules.unshift({ path: "(object)", rule: v.rule, message: v.message ?? "" });
  const columns = (version.additionalPrinterColumns ?? []).map(
    (c) =>
      `| ${c.name} | ${(c.priority ?? 0) === 0 ? "always" : "with `-o wide`"} | ${code(c.jsonPath)} | ${cell(c.description ?? "")} |`,
  );
  return [
    "<!-- Generated by `npm run generate` from the CRD (src/api). Do not edit by hand. -->",
    `# ${names.kind} API reference (\`${crd.spec.group}/${version.name}\`)`,
    "",
    cell(root.description ?? ""),
    "",
    `${crd.spec.scope}; plural \`${names.plural}\`, short name${(names.shortNames ?? []).length === 1 ? "" : "s"} ${(names.shortNames ?? []).map(code).join(", ")}, categories ${(names.categories ?? []).map(code).join(", ")}. The same descriptions answer \`kubectl explain ${names.plural}.spec\`.`,
    "",
    "`kubectl get` columns:",
    "",
    "| Column | Shown | JSONPath | Meaning |",
    "| --- | --- | --- | --- |",
    ...columns,
    "",
    sections.join("\n\n"),
    "",
    VALIDATION_OVERVIEW,
    "## Validation rules",
    "",
    "Checked by the API server (CEL `x-kubernetes-validations`) when an object is created or updated:",
    "",
    "| Where | Message | Rule |",
    "| --- | --- | --- |",
    ...rules.map((r) => `| ${code(r.path)} | ${cell(r.message)} | ${code(cell(r.rule))} |`),
    "",
  ].join("\n");
}
