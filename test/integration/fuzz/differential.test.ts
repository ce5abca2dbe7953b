// The differential fuzz: generated StatelessApps, each judged by the real API server and by `render`, agree.
//
// FUZZ_RUNS=3000 for a long local run (the default is what CI affords), FUZZ_SEED to replay one.
// A failure prints the shrunk case and its verdicts; add it to corpus/ as a fixture once fixed.
// FUZZ_COLLECT=1 goes on after a disagreement and prints every one at the end (not shrunk).
import fc from "fast-check";
import { beforeAll, expect, test } from "vitest";
import type { HttpTransport } from "../../../src/runtime/index.ts";
import { createTestNamespace, printClusterLogsOnFailure } from "../../support/cluster.ts";
import { adminTransport, installCrd } from "../../support/operator.ts";
import { fuzzCases } from "./arbitraries.ts";
import { asFixture, judge } from "./judge.ts";

printClusterLogsOnFailure();

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? 2020);
const COLLECT = process.env.FUZZ_COLLECT === "1";

let transport: HttpTransport;
let namespace: string;

beforeAll(async () => {
  transport = adminTransport();
  await installCrd(transport);
  namespace = await createTestNamespace("fuzz");
});

test(
  `the API server, render and the rendered children agree on ${RUNS} generated apps (seed ${SEED})`,
  async () => {
    const seen = { admitted: 0, refused: 0, renderOnly: 0 };
    const collected = new Map<string, string>();
    await fc.assert(
      fc.asyncProperty(fuzzCases(namespace), async (fuzzCase) => {
        const verdict = await judge(transport, namespace, fuzzCase);
        if (verdict.disagreements.length > 0 && COLLECT) {
          const key = verdict.disagreements.join("; ").replace(/"[^"]*"|\[\d+\]|\d+/g, "…");
          if (!collected.has(key)) collected.set(key, asFixture(fuzzCase, verdict));
        } else if (verdict.disagreements.length > 0)
          throw new Error(
            [
              ...verdict.disagreements,
              `API: ${verdict.api ?? "admitted"}`,
              `render (exit ${verdict.render.code}): ${verdict.render.stderr || "accepted"}`,
              "as a corpus fixture:",
              asFixture(fuzzCase, verdict),
            ].join("\n"),
          );
        if (verdict.api !== undefined) seen.refused++;
        else if (verdict.render.code === 0) seen.admitted++;
        else seen.renderOnly++;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    console.log(`fuzz: ${RUNS} cases, seed ${SEED}:`, seen);
    for (const [key, fixture] of collected) console.log(`\n${key}\n${fixture}`);
    expect([...collected.keys()]).toEqual([]);
    // A fuzz that never gets past the API server proves nothing about the children.
    expect(seen.admitted).toBeGreaterThan(RUNS * 0.2);
    expect(seen.refused).toBeGreaterThan(RUNS * 0.2);
  },
  Math.max(300_000, RUNS * 2_000),
);
