// docs/api.md: every field of the CRD's schema and every validation rule is in the reference.
import { expect, test } from "vitest";
import { renderApiReference } from "../../../scripts/install/api-doc.ts";
import { type JsonSchema, renderCrd } from "../../../src/api/index.ts";

type Schema = JsonSchema & {
  properties?: Record<string, Schema>;
  items?: Schema;
  "x-kubernetes-validations"?: { message?: string }[];
};

function paths(s: Schema, path: string, out: string[], messages: string[]): void {
  out.push(path);
  for (const v of s["x-kubernetes-validations"] ?? []) messages.push(v.message ?? "");
  const node = s.items ?? s;
  const prefix = s.items === undefined ? path : `${path}[]`;
  if (s.items !== undefined)
    for (const v of s.items["x-kubernetes-validations"] ?? []) messages.push(v.message ?? "");
  for (const [name, child] of Object.entries(node.properties ?? {}))
    paths(child, `${prefix}.${name}`, out, messages);
}

test("the API reference lists every spec and status field and every CEL rule's message", () => {
  const crd = renderCrd() as unknown as {
    spec: { versions: { schema: { openAPIV3Schema: Schema } }[] };
  };
  const root = crd.spec.versions[0]?.schema.openAPIV3Schema;
  if (root === undefined) throw new Error("no schema");
  const fields: string[] = [];
  const messages: string[] = [
    ...(root["x-kubernetes-validations"] ?? []).map((v) => v.message ?? ""),
  ];
  for (const part of ["spec", "status"]) {
    const schema = root.properties?.[part];
    if (schema === undefined) throw new Error(`no ${part}`);
    paths(schema, part, fields, messages);
  }
  const doc = renderApiReference();
  expect(fields.length).toBeGreaterThan(50);
  for (const field of fields.filter((f) => f.includes(".")))
    expect(doc, field).toContain(`| \`${field}\` |`);
  expect(messages.length).toBeGreaterThan(10);
  for (const message of messages) expect(doc, message).toContain(message.replace(/\|/g, "\\|"));
});

test("the columns table says which columns plain `kubectl get` shows and which need -o wide", () => {
  const crd = renderCrd() as unknown as {
    spec: { versions: { additionalPrinterColumns: { name: string; priority?: number }[] }[] };
  };
  const columns = crd.spec.versions[0]?.additionalPrinterColumns ?? [];
  const doc = renderApiReference();
  expect(columns.length).toBeGreaterThan(0);
  for (const c of columns) {
    const shown = (c.priority ?? 0) === 0 ? "always" : "with `-o wide`";
    expect(doc).toContain(`| ${c.name} | ${shown} |`);
  }
  expect(doc).toContain("| Reason | with `-o wide` |");
});
