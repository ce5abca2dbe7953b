// Every past disagreement of the differential fuzz, replayed: the API server, render and the children agree.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import type { HttpTransport } from "../../../src/runtime/index.ts";
import { createTestNamespace, printClusterLogsOnFailure } from "../../support/cluster.ts";
import { adminTransport, installCrd } from "../../support/operator.ts";
import { type FuzzCase, judge } from "./judge.ts";

printClusterLogsOnFailure();

const dir = join(import.meta.dirname, "corpus");

interface Fixture {
  readonly file: string;
  readonly wrongSide: string;
  readonly expect: "admitted" | "refused" | "render-only";
  readonly fuzzCase: FuzzCase;
}

/** A fixture: `# key: value` header lines, then the manifest exactly as it is sent. */
function readFixture(file: string): Fixture {
  const text = readFileSync(join(dir, file), "utf8");
  const lines = text.split("\n");
  const header = new Map<string, string>();
  let i = 0;
  for (; i < lines.length; i++) {
    const m = /^# ([a-z ]+): (.*)$/.exec(lines[i] ?? "");
    if (m === null) break;
    header.set(m[1] ?? "", m[2] ?? "");
  }
  const expected = header.get("expect");
  if (expected !== "admitted" && expected !== "refused" && expected !== "render-only")
    throw new Error(`${file}: # expect: must be admitted, refused or render-only`);
  const format = header.get("format") === "json" ? "json" : "yaml";
  return {
    file,
    wrongSide: header.get("wrong side") ?? "?",
    expect: expected,
    fuzzCase: { format, text: lines.slice(i).join("\n") },
  };
}

const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map(readFixture);

let transport: HttpTransport;
let namespace: string;

beforeAll(async () => {
  transport = adminTransport();
  await installCrd(transport);
  namespace = await createTestNamespace("corpus");
});

describe("the fuzz corpus", () => {
  test("has a fixture for every class of past disagreement", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(30);
  });

  test.each(fixtures.map((f) => [`${f.file} (was wrong: ${f.wrongSide})`, f] as const))(
    "%s",
    async (_, fixture) => {
      const verdict = await judge(transport, namespace, fixture.fuzzCase);
      expect(verdict.disagreements, JSON.stringify(verdict, null, 2)).toEqual([]);
      const outcome =
        verdict.api !== undefined
          ? "refused"
          : verdict.render.code === 0
            ? "admitted"
            : "render-only";
      expect(outcome, `API: ${verdict.api}\nrender: ${verdict.render.stderr}`).toBe(fixture.expect);
    },
  );
});
