// The chart's generated files agree with each other and with the operator's configuration.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { createTemplating, guarded, yamlAt } from "../../../scripts/install/helm.ts";
import { CHART_DIR, chartDefaults, chartFiles } from "../../../scripts/install/index.ts";
import { configVariables } from "../../../src/platform/config.ts";

const root = resolve(import.meta.dirname, "../../..");
const read = (file: string) => readFileSync(join(root, CHART_DIR, file), "utf8");

describe("the templating", () => {
  test("expressions become actions in place, blocks whole lines at their indentation", () => {
    const t = createTemplating();
    const text = t.text([
      {
        metadata: { name: t.expr(".Values.name | quote"), labels: { a: "b" } },
        list: ["x", t.block((indent) => guarded("if .Values.y", yamlAt(["y"], indent)))],
        spec: { [t.block((indent) => `${" ".repeat(indent)}z: {{ .Values.z }}`)]: null },
      },
    ]);
    expect(text).toBe(
      [
        "---",
        "metadata:",
        "  name: {{ .Values.name | quote }}",
        "  labels:",
        "    a: b",
        "list:",
        "  - x",
        "{{- if .Values.y }}",
        "  - y",
        "{{- end }}",
        "spec:",
        "  z: {{ .Values.z }}",
        "",
      ].join("\n"),
    );
  });

  test("a literal {{ in an object stays literal", () => {
    const t = createTemplating();
    expect(t.text([{ rule: "a {{ b" }])).toBe('---\nrule: a {{ "{{" }} b\n');
  });

  test("a block placeholder inside a value is refused", () => {
    const t = createTemplating();
    expect(() => t.text([{ a: `x-${t.block(() => "")}` }])).toThrow(/not a whole line/);
  });
});

describe("the chart", () => {
  test("values.yaml holds exactly the defaults the templates and schema are made for", () => {
    expect(parse(read("values.yaml"))).toEqual(chartDefaults());
  });

  test("env covers every configuration variable but the ones the pod itself sets", () => {
    const schema = JSON.parse(read("values.schema.json")) as {
      properties: { env: { properties: Record<string, unknown> } };
    };
    const inEnv = Object.keys(schema.properties.env.properties);
    const derived = [
      "WATCH_NAMESPACES",
      "POD_NAMESPACE",
      "POD_NAME",
      "HTTP_ADDRESS",
      "METRICS_ADDRESS",
      "METRICS_SECURE",
      "METRICS_CERT_DIR",
    ];
    expect([...inEnv, ...derived].sort()).toEqual(
      configVariables()
        .map((v) => v.name)
        .sort(),
    );
    expect(read("templates/deployment.yaml")).toContain(
      `list ${inEnv.map((n) => `"${n}"`).join(" ")}`,
    );
  });

  test("the schema closes every object it describes (a typo in a value is an error)", () => {
    const schema = JSON.parse(read("values.schema.json")) as Record<string, unknown>;
    const open: string[] = [];
    const walk = (s: Record<string, unknown>, path: string) => {
      const properties = s.properties as Record<string, Record<string, unknown>> | undefined;
      if (properties === undefined) return;
      if (s.additionalProperties !== false) open.push(path);
      for (const [k, v] of Object.entries(properties)) walk(v, `${path}.${k}`);
    };
    walk(schema, "");
    expect(open).toEqual([]);
  });

  test("no placeholder is left in a template; the README names every value", () => {
    for (const file of chartFiles) expect(file.render(), file.path).not.toMatch(/HELM[EB]\d+X/);
    const readme = read("README.md");
    const leaves = (o: Record<string, unknown>, prefix: string): string[] =>
      Object.entries(o).flatMap(([k, v]) =>
        typeof v === "object" &&
        v !== null &&
        !Array.isArray(v) &&
        !["env", "resources", "tlsConfig"].includes(k) &&
        Object.keys(v).length > 0
          ? leaves(v as Record<string, unknown>, `${prefix}${k}.`)
          : [`${prefix}${k}`],
      );
    for (const key of leaves(chartDefaults(), "")) expect(readme).toContain(`| \`${key}\` |`);
  });

  test("Chart.yaml versions the chart and its app as the package", () => {
    const chart = parse(read("Chart.yaml")) as { version: string; appVersion: string };
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
    expect(chart.version).toBe(pkg.version);
    expect(chart.appVersion).toBe(pkg.version);
  });
});
