// The Flux snippet: targets the StatelessApp kind, reads only conditions the operator writes, matches docs/gitops.md.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect, test } from "vitest";
import { parse } from "yaml";
import { API_VERSION, KIND } from "../../../src/api/index.ts";
import { ConditionType } from "../../../src/app/status/conditions.ts";

const root = resolve(import.meta.dirname, "../../..");

interface Expr {
  apiVersion: string;
  kind: string;
  inProgress: string;
  failed: string;
  current: string;
}

const kustomization = parse(readFileSync(join(root, "gitops/flux-kustomization.yaml"), "utf8")) as {
  apiVersion: string;
  kind: string;
  spec: { wait: boolean; healthCheckExprs: Expr[] };
};
const expr = kustomization.spec.healthCheckExprs[0] as Expr;

test("targets the StatelessApp kind of a Flux Kustomization that waits", () => {
  expect(kustomization.apiVersion).toBe("kustomize.toolkit.fluxcd.io/v1");
  expect(kustomization.kind).toBe("Kustomization");
  expect(kustomization.spec.wait).toBe(true);
  expect(kustomization.spec.healthCheckExprs).toHaveLength(1);
  expect(expr.apiVersion).toBe(API_VERSION);
  expect(expr.kind).toBe(KIND);
});

test("reads only condition types the operator writes, and observedGeneration", () => {
  const types = new Set<string>(Object.values(ConditionType));
  for (const text of [expr.inProgress, expr.failed, expr.current]) {
    for (const [, type] of text.matchAll(/e\.type == '([A-Za-z]+)'/g))
      expect(types).toContain(type);
  }
  expect(expr.current).toContain("'Ready'");
  expect(expr.failed).toContain("'Stalled'");
  expect(expr.inProgress).toContain("'Reconciling'");
  for (const text of [expr.inProgress, expr.current])
    expect(text).toMatch(/status\.\?observedGeneration\.orValue\(-1\) [!=]= metadata\.generation/);
});

test("docs/gitops.md shows the same expressions", () => {
  const doc = readFileSync(join(root, "docs/gitops.md"), "utf8");
  for (const key of ["inProgress", "failed", "current"] as const)
    expect(doc).toContain(`${key}: ${JSON.stringify(expr[key])}`);
});
