// The TypeScript rules against the policy corpus: each fixture's recorded findings, exactly.
import { describe, expect, test } from "vitest";
import { checkObject, formatPath, rules } from "../../../src/app/rules/index.ts";
import { loadCorpus } from "../../fixtures/policy/corpus.ts";

const corpus = loadCorpus();

describe("policy corpus", () => {
  test("has at least 40 fixtures, compliant and violating", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40);
    expect(corpus.filter((e) => e.expected.length === 0).length).toBeGreaterThanOrEqual(10);
  });

  test("has a violating fixture for every rule", () => {
    const seen = new Set(corpus.flatMap((e) => e.expected.map((f) => f.split(" ")[0])));
    expect(rules.map((r) => r.id).filter((id) => !seen.has(id))).toEqual([]);
  });

  test.each(corpus.map((e) => [e.file, e] as const))("%s", (_file, entry) => {
    const found = checkObject(entry.object)
      .map((f) => `${f.ruleId} ${formatPath(f.path)}`)
      .sort();
    expect(found).toEqual(entry.expected);
  });
});
