import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, test } from "vitest";

// The rules of docs/architecture.md ("What the architecture test enforces"), checked on the source:
// higher layers import lower ones, never the reverse; the pure core does no I/O; only the runtime
// speaks REST.
const root = resolve(import.meta.dirname, "../..");
const src = join(root, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(join(dir, e.name))
      : e.name.endsWith(".ts")
        ? [join(dir, e.name)]
        : [],
  );
}

interface Import {
  readonly file: string;
  readonly target: string;
  readonly typeOnly: boolean;
}

const IMPORT =
  /^\s*(import|export)\s+(type\s+)?[^"';]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;

function importsOf(file: string): Import[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(IMPORT)].map((m) => {
    const spec = m[3] ?? m[4] ?? "";
    const target = spec.startsWith(".") ? relative(src, resolve(file, "..", spec)) : spec;
    return { file: relative(src, file), target, typeOnly: m[2] !== undefined };
  });
}

const all = sourceFiles(src).flatMap(importsOf);
const from = (layer: string) => all.filter((i) => i.file.startsWith(`${layer}/`));
const violations = (imports: Import[], forbidden: (i: Import) => boolean) =>
  imports.filter(forbidden).map((i) => `${i.file} imports ${i.target}`);

const IO_MODULES =
  /^(node:)?(fs|fs\/promises|net|http|https|http2|child_process|dgram|dns|tls|worker_threads)$/;
/** The pure core (docs/architecture.md): folders, and single files given with their extension. */
const PURE_APP = [
  "app/render/",
  "app/rules/",
  "app/bindings/",
  "app/policies/",
  "app/status/",
  "app/reconcile/children.ts",
  "app/reconcile/explain.ts",
  "app/reconcile/forbidden.ts",
  "app/reconcile/ownership.ts",
  "app/reconcile/plan.ts",
  "app/reconcile/prune.ts",
  "app/reconcile/recycle.ts",
  "app/watches.ts",
  "app/config-sources.ts",
];
/** Runtime modules of plain data and functions, which the pure core may use. */
const PURE_RUNTIME = [
  "runtime/object.ts",
  "runtime/resource.ts",
  "runtime/apply-decision.ts",
  "lib/quantity.ts",
];
const isPure = (file: string) =>
  PURE_APP.some((p) => file === p || (p.endsWith("/") && file.startsWith(p)));

describe("layering", () => {
  test("finds the source", () => {
    expect(all.length).toBeGreaterThan(20);
  });

  test("lib/ is dependency-free: it imports nothing", () => {
    expect(violations(from("lib"), () => true)).toEqual([]);
  });

  test("runtime/ knows nothing about StatelessApp: it imports only itself, lib/, node built-ins and client-node's types", () => {
    const allowed = (i: Import) =>
      /^(runtime|lib)\//.test(i.target) ||
      i.target.startsWith("node:") ||
      (i.target === "@kubernetes/client-node" && i.typeOnly);
    expect(violations(from("runtime"), (i) => !allowed(i))).toEqual([]);
  });

  test("api/ imports only zod, lib/ and itself", () => {
    expect(
      violations(from("api"), (i) => !/^(api|lib)\//.test(i.target) && i.target !== "zod"),
    ).toEqual([]);
  });

  test("docs/architecture.md lists the same pure modules", () => {
    const doc = readFileSync(join(root, "docs", "architecture.md"), "utf8");
    const rules = doc.slice(doc.indexOf("## What the architecture test enforces"));
    for (const p of PURE_APP) {
      const name = p.endsWith("/") ? p : (p.split("/").at(-1) ?? p).replace(/\.ts$/, "");
      expect(rules, p).toContain(name);
    }
  });

  test("the pure list names only files that exist", () => {
    const files = sourceFiles(src).map((f) => relative(src, f));
    for (const p of [...PURE_APP, ...PURE_RUNTIME])
      expect(
        files.some((f) => f === p || (p.endsWith("/") && f.startsWith(p))),
        p,
      ).toBe(true);
  });

  test("the pure parts of app/ do no I/O: their value imports are pure too, client-node for types only", () => {
    const pure = all.filter((i) => isPure(i.file));
    expect(pure.length).toBeGreaterThan(50);
    expect(
      violations(
        pure,
        (i) =>
          IO_MODULES.test(i.target) ||
          /^(platform|cli)\//.test(i.target) ||
          (i.target === "@kubernetes/client-node" && !i.typeOnly) ||
          (!i.typeOnly &&
            /^(app|runtime)\//.test(i.target) &&
            !isPure(i.target) &&
            !PURE_RUNTIME.includes(i.target)),
      ),
    ).toEqual([]);
  });

  test("the pure runtime modules import only each other", () => {
    const imports = all.filter((i) => PURE_RUNTIME.includes(i.file));
    expect(violations(imports, (i) => !PURE_RUNTIME.includes(i.target))).toEqual([]);
  });

  test("only platform/ and cli/ read the environment or build API clients", () => {
    const offenders = sourceFiles(src)
      .filter((f) => !/\/src\/(platform|cli)\//.test(f))
      .filter((f) =>
        /process\.env|new KubeConfig\(|loadFromDefault\(/.test(readFileSync(f, "utf8")),
      )
      .map((f) => relative(src, f));
    expect(offenders).toEqual([]);
  });
});

// REST belongs to the client port (src/runtime/client.ts) and the other runtime parts that talk
// to the API server (transport, list/watch, leases, Events): nothing above them builds a request.
const REST = [
  [/\brequestJson\s*\(/, "sends a raw request (requestJson)"],
  [/\bresourcePath\s*\(/, "builds a REST path (resourcePath)"],
  [/["'`]\/apis?\//, "spells a REST path"],
  [/\bcontentType\s*:/, "sets a content type"],
  [
    /application\/(json-patch|merge-patch|strategic-merge-patch|apply-patch)/,
    "names a patch content type",
  ],
  [/\bmethod\s*:\s*["'](GET|POST|PUT|PATCH|DELETE)["']/, "sets an HTTP method"],
  [/\bverb\s*:\s*["']/, "sets a request verb"],
] as const;

describe("the client port", () => {
  test("no REST path, verb, method or content type outside src/runtime", () => {
    const offenders = sourceFiles(src)
      .filter((f) => !relative(src, f).startsWith("runtime/"))
      .flatMap((f) => {
        const text = readFileSync(f, "utf8");
        return REST.filter(([pattern]) => pattern.test(text)).map(
          ([, what]) => `${relative(src, f)} ${what}`,
        );
      });
    expect(offenders).toEqual([]);
  });

  test("the checks catch what they look for", () => {
    const samples = [
      'await requestJson(t, { method: "GET", verb: "get", path: "/api/v1/pods" })',
      'contentType: "application/json-patch+json"',
      "resourcePath(type, { name })",
    ];
    for (const sample of samples)
      expect(
        REST.some(([p]) => p.test(sample)),
        sample,
      ).toBe(true);
  });
});
