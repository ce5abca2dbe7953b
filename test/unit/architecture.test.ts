import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, test } from "vitest";

// The layering of DESIGN.md §5, checked on the source: higher layers import lower ones, never the reverse.
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
const PURE_APP = ["app/render", "app/rules", "app/bindings", "app/policies", "app/status"];

describe("layering", () => {
  test("finds the source", () => {
    expect(all.length).toBeGreaterThan(20);
  });

  test("lib/ is dependency-free: it imports nothing", () => {
    expect(violations(from("lib"), () => true)).toEqual([]);
  });

  test("runtime/ knows nothing about StatelessApp: it imports only itself, lib/, node built-ins and client-node", () => {
    const allowed = (i: Import) =>
      /^(runtime|lib)\//.test(i.target) ||
      i.target.startsWith("node:") ||
      i.target === "@kubernetes/client-node";
    expect(violations(from("runtime"), (i) => !allowed(i))).toEqual([]);
  });

  test("api/ imports only zod, lib/ and itself", () => {
    expect(
      violations(from("api"), (i) => !/^(api|lib)\//.test(i.target) && i.target !== "zod"),
    ).toEqual([]);
  });

  test("the pure parts of app/ do no I/O and use client-node for types only", () => {
    const pure = all.filter((i) => PURE_APP.some((p) => i.file.startsWith(`${p}/`)));
    expect(
      violations(
        pure,
        (i) =>
          IO_MODULES.test(i.target) ||
          /^(runtime|platform|cli)\//.test(i.target) ||
          (i.target === "@kubernetes/client-node" && !i.typeOnly),
      ),
    ).toEqual([]);
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
