import { describe, expect, test } from "vitest";
import { type JsonSchema, renderCrd } from "../../../src/api/index.ts";

const crd = renderCrd() as {
  spec: {
    versions: {
      schema: { openAPIV3Schema: JsonSchema };
      additionalPrinterColumns: { name: string }[];
    }[];
  };
};
const version = crd.spec.versions[0];
if (version === undefined) throw new Error("the CRD has no version");
const root = version.schema.openAPIV3Schema;

/** Every schema node with its JSON path, e.g. `.spec.processes[].ports`. */
function* nodes(node: JsonSchema, at = ""): Generator<[string, JsonSchema]> {
  yield [at, node];
  for (const [name, child] of Object.entries(
    (node.properties ?? {}) as Record<string, JsonSchema>,
  )) {
    yield* nodes(child, `${at}.${name}`);
  }
  if (node.items !== undefined) yield* nodes(node.items as JsonSchema, `${at}[]`);
  if (typeof node.additionalProperties === "object")
    yield* nodes(node.additionalProperties as JsonSchema, `${at}{}`);
}

const byPath = new Map(nodes(root));
const at = (path: string): JsonSchema => {
  const node = byPath.get(path);
  if (node === undefined) throw new Error(`no schema at ${path}`);
  return node;
};

describe("the generated CRD schema", () => {
  test("is structural: a type on every node, no references or unions but int-or-string", () => {
    for (const [path, node] of byPath) {
      if (node["x-kubernetes-int-or-string"] === true) {
        expect(node.anyOf, path).toEqual([{ type: "integer" }, { type: "string" }]);
        continue;
      }
      expect(node.type, path).toBeDefined();
      for (const key of ["$ref", "oneOf", "allOf", "anyOf", "not"])
        expect(node[key], `${path} ${key}`).toBeUndefined();
      if (node.properties !== undefined) expect(node.additionalProperties, path).toBeUndefined();
    }
  });

  test("describes every field, so kubectl explain is useful", () => {
    const missing = [...byPath]
      .filter(
        ([path, node]) =>
          path.startsWith(".spec") && !path.endsWith("[]") && node.description === undefined,
      )
      .map(([path]) => path);
    expect(missing).toEqual([]);
  });

  test.each([
    ".spec.processes",
    ".spec.scratch",
    ".spec.backingServices",
    ".spec.env",
    ".spec.processes[].ports",
    ".spec.processes[].env",
    ".status.processes",
    ".status.bindings",
  ])("%s is a list map keyed by name", (path) => {
    expect(at(path)["x-kubernetes-list-type"]).toBe("map");
    expect(at(path)["x-kubernetes-list-map-keys"]).toEqual(["name"]);
  });

  test("conditions are a list map keyed by type", () => {
    expect(at(".status.conditions")["x-kubernetes-list-map-keys"]).toEqual(["type"]);
  });

  test.each<[string, string]>([
    [".spec.processes[]", "!(has(self.replicas) && has(self.autoscale))"],
    [
      ".spec.processes[].autoscale",
      "!has(self.minReplicas) || self.minReplicas <= self.maxReplicas",
    ],
    [".spec.backingServices[]", "has(self.secretRef) != has(self.service)"],
    [".spec.scratch", "self.all(p, self.filter(q, q.mountPath == p.mountPath).size() == 1)"],
    [
      ".spec.maxPodLifetime",
      "!self.matches(r'^([0-9]{1,5}([.][0-9]{1,9})?(ns|us|µs|μs|ms|s|m|h))+$') || duration(self) >= duration('1m') && duration(self) <= duration('8760h')",
    ],
    ["", "self.metadata.name.matches(r'^[a-z]([-a-z0-9]*[a-z0-9])?$')"],
  ])("%s carries the CEL rule %s", (path, rule) => {
    const rules = (at(path)["x-kubernetes-validations"] as { rule: string }[]).map((r) => r.rule);
    expect(rules).toContain(rule);
  });

  test("bounds every list, map and string, so the API server can estimate the cost of CEL", () => {
    for (const [path, node] of byPath) {
      if (node.type === "array") expect(node.maxItems, path).toBeTypeOf("number");
      if (node.type === "object" && node.additionalProperties !== undefined)
        expect(node.maxProperties, path).toBeTypeOf("number");
      if (
        path.startsWith(".spec") &&
        (node.type === "string" || node["x-kubernetes-int-or-string"])
      )
        if (node.enum === undefined) expect(node.maxLength, path).toBeTypeOf("number");
    }
  });

  test("API was wrong: integers above 2^53-1 were admitted; every integer now has zod's bounds", () => {
    for (const [path, node] of byPath) {
      if (node.type !== "integer" && node["x-kubernetes-int-or-string"] !== true) continue;
      expect(node.minimum, path).toBeGreaterThanOrEqual(-Number.MAX_SAFE_INTEGER);
      expect(node.maximum, path).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
    }
  });

  test('API was wrong: a probe port of "" was admitted; an int-or-string keeps its string bounds', () => {
    const port = at(".spec.processes[].readinessProbe.httpGet.port");
    expect(port).toMatchObject({ minimum: 1, maximum: 65535, maxLength: 15 });
    expect(port["x-kubernetes-validations"]).toHaveLength(1);
    expect(at(".spec.processes[].resources.requests{}")).toMatchObject({ maxLength: 64 });
  });

  test("every regular expression keeps to what JavaScript and the API server's RE2 read alike", () => {
    const sources: [string, string][] = [];
    for (const [path, node] of byPath) {
      if (typeof node.pattern === "string") sources.push([path, node.pattern]);
      for (const v of (node["x-kubernetes-validations"] ?? []) as { rule: string }[])
        for (const m of v.rule.matchAll(/matches\(r?(['"])(.*?)\1\)/g))
          sources.push([path, m[2] ?? ""]);
    }
    expect(sources.length).toBeGreaterThan(10);
    for (const [path, source] of sources) {
      // \s \w \d \b are Unicode-aware in one and ASCII in the other; '.' differs on line breaks.
      expect(source, path).not.toMatch(/\\[sSwWdDbB]|\(\?|\\[1-9]/);
      expect(source.replace(/\\./g, "").replace(/\[[^\]]*\]/g, ""), path).not.toContain(".");
    }
  });

  test("requires the fields the design requires", () => {
    expect(at(".spec").required).toEqual(["image", "processes"]);
    expect(at(".spec.scratch[]").required).toEqual(["name", "mountPath", "sizeLimit"]);
    expect(at(".spec.processes").minItems).toBe(1);
  });

  test("has the printer columns Ready, Processes, Image and Age, and the status subresource", () => {
    expect(version.additionalPrinterColumns.map((c) => c.name)).toEqual([
      "Ready",
      "Processes",
      "Image",
      "Reason",
      "Age",
    ]);
    expect(renderCrd()).toMatchObject({
      spec: {
        scope: "Namespaced",
        names: {
          kind: "StatelessApp",
          plural: "statelessapps",
          shortNames: ["sapp"],
          categories: ["all"],
        },
        versions: [{ name: "v1alpha1", served: true, storage: true, subresources: { status: {} } }],
      },
    });
  });
});
