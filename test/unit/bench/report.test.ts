import { describe, expect, test } from "vitest";
import {
  type BenchResult,
  evaluateTargets,
  formatMarkdown,
  formatText,
  stormTargets,
  tables,
} from "../../../bench/lib/report.ts";
import { scaleRatio, scaleTables, scaleTargets } from "../../../bench/lib/scale-report.ts";
import { summarize } from "../../../bench/lib/stats.ts";
import type { RunCpu } from "../../../bench/scenarios/convergence.ts";
import type { ScaleResult } from "../../../bench/scenarios/scale.ts";
import type { StormResult } from "../../../bench/scenarios/storm.ts";

const MiB = 2 ** 20;
const footprint = (rssMiB: number, peakMiB = rssMiB) => ({
  rssBytes: rssMiB * MiB,
  peakRssBytes: peakMiB * MiB,
  heapUsedBytes: 30 * MiB,
  heapTotalBytes: 40 * MiB,
  cpuSeconds: 10,
});

function stormResult(afterLast: number[], writesPerChange = 2): StormResult {
  return {
    apps: 1000,
    changes: afterLast.length,
    concurrency: 32,
    convergeMs: 12_000,
    latencies: {
      changes: afterLast.length,
      writeWindowMs: 800,
      patchToDeploymentMs: summarize(afterLast.map((x) => x + 400)),
      afterLastChangeMs: summarize(afterLast),
    },
    lastStatusAfterLastChangeMs: 1200,
    requests: { apply: afterLast.length, "apply-status": afterLast.length },
    requestsPerChange: { apply: 1, "apply-status": writesPerChange - 1 },
    writesPerChange,
    reconcilesPerChange: 2.01,
    maxEventLoopLagS: 0.042,
    otherCores: 0.05,
    footprint: footprint(110, 130),
  };
}

const meta: BenchResult["meta"] = {
  date: "2026-12-02T18:00:00.000Z",
  commit: "abc1234",
  node: "v24.0.0",
  kubernetes: "v1.36.3",
  etcd: "v3.6.16",
  cpus: 2,
  cpuModel: "test",
  memoryGiB: 24,
  loadAverageBefore: [0.5, 0.5, 0.5],
  loadAverageAfter: [1, 1, 1],
  workers: 4,
  operatorBuild: "compiled",
  durationS: 60,
  method: [],
};

describe("the storm's targets", () => {
  test("met: p99 after the last change ≤ 1 s and 2 writes per change", () => {
    const t = stormTargets(stormResult(Array.from({ length: 100 }, (_, i) => i * 5)));
    expect(t.map((x) => x.met)).toEqual([true, true]);
    expect(t[0]?.value).toMatch(/^490 ms \(0\.49 × the target; max 495 ms/);
    expect(t[1]?.value).toBe("2.00 (apply 1, apply-status 1)");
  });

  test("missed: a slow tail, or a third write", () => {
    const slow = Array.from({ length: 100 }, (_, i) => (i < 98 ? 100 : 1500));
    expect(stormTargets(stormResult(slow)).map((x) => x.met)).toEqual([false, true]);
    expect(stormTargets(stormResult([0, 0], 3)).map((x) => x.met)).toEqual([true, false]);
  });

  test("a storm-only result: its targets and tables, and no convergence table", () => {
    const partial = { meta, convergence: [], storm: stormResult([0, 10, 20]) };
    const result: BenchResult = { ...partial, targets: evaluateTargets(partial) };
    expect(result.targets.map((t) => t.name)).toEqual([
      "storm: p99 last change written → Deployment (3 changes)",
      "storm: writes per change",
    ]);
    const titles = tables(result).map((t) => t.title);
    expect(titles.some((t) => t.startsWith("Convergence"))).toBe(false);
    expect(titles.filter((t) => t.startsWith("Update storm"))).toHaveLength(2);
    const storm = tables(result)[0];
    expect(storm?.rows.map((r) => r.slice(1))).toEqual([
      ["410", "420", "420", "420"],
      ["10", "20", "20", "20"],
    ]);
    expect(formatMarkdown(tables(result)[1] ?? { title: "", head: [], rows: [] })).toContain(
      "| 3 | apply 1, apply-status 1 | 2.00 | 2.01 | 1.20 s | 0.04 s | 110 MiB (130 MiB) | 0.05 cores |",
    );
  });
});

const cpu = (apiserver: number, client: number): RunCpu => ({
  apiserver,
  etcd: apiserver / 4,
  client,
  otherOnMachine: 1,
  windowSeconds: 100,
});

function scaleResult(
  over: {
    apps?: number;
    operatorMs?: number;
    baselineMs?: number | undefined;
    firstPassMs?: number;
    firstPassWrites?: number;
    resyncWrites?: number;
    lags?: [number, number];
    settledMiB?: number;
    peakMiB?: number;
  } = {},
): ScaleResult {
  const apps = over.apps ?? 20_000;
  const baselineMs = "baselineMs" in over ? over.baselineMs : 100_000;
  return {
    apps,
    namespaces: apps / 10,
    workers: 4,
    ...(baselineMs === undefined
      ? {}
      : {
          baseline: {
            createMs: 1,
            wallMs: baselineMs,
            cpu: cpu(80, 10),
            requests: { list: 1, apply: 2 * apps, "apply-status": apps },
            writes: 3 * apps,
          },
        }),
    operator: {
      createMs: 1,
      wallMs: over.operatorMs ?? 110_000,
      cpu: cpu(90, 20),
      requests: { apply: 2 * apps, "apply-status": apps, get: 2 * apps },
      writes: 3 * apps,
      readyMs: 3000,
      reconciles: 2 * apps,
      maxEventLoopLagS: 0.2,
      footprint: footprint(over.peakMiB ?? 300, over.peakMiB ?? 320),
      settled: footprint(over.settledMiB ?? 280),
      restart: {
        readyMs: 4000,
        firstPassMs: over.firstPassMs ?? 12_000,
        firstPassWrites: over.firstPassWrites ?? 0,
        resyncReconciles: apps,
        resyncWrites: over.resyncWrites ?? 0,
        resyncRequests: {},
        cpuSecondsPer1000NoopReconciles: 0.5,
        maxEventLoopLagS: {
          firstPass: over.lags?.[0] ?? 0.08,
          resync: over.lags?.[1] ?? 0.05,
        },
        footprint: footprint(290, 330),
      },
      resyncPeriodS: 60,
    },
  };
}

describe("the scale run's targets", () => {
  const met = (r: ScaleResult) => Object.fromEntries(scaleTargets(r).map((t) => [t.name, t.met]));

  test("all met at 20 000 over 2 000", () => {
    expect(met(scaleResult())).toEqual({
      "convergence, operator / baseline": true,
      "restart → every app reconciled, no write": true,
      "a full resync, no write": true,
      "longest event-loop block, start-up (restart)": true,
      "longest event-loop block, resync": true,
      "RSS settled, N = 20000": true,
      "peak RSS while converging": true,
    });
    expect(scaleRatio(scaleResult())).toBeCloseTo(1.1);
  });

  test.each<[string, Parameters<typeof scaleResult>[0], string]>([
    ["slower than 1.15 ×", { operatorMs: 120_000 }, "convergence, operator / baseline"],
    ["a slow restart", { firstPassMs: 16_000 }, "restart → every app reconciled, no write"],
    ["a write on restart", { firstPassWrites: 1 }, "restart → every app reconciled, no write"],
    ["a write on resync", { resyncWrites: 2 }, "a full resync, no write"],
    [
      "a long block at start-up",
      { lags: [0.15, 0.05] },
      "longest event-loop block, start-up (restart)",
    ],
    ["a long block in the resync", { lags: [0.05, 0.101] }, "longest event-loop block, resync"],
    ["too much memory", { settledMiB: 310, peakMiB: 330 }, "RSS settled, N = 20000"],
    ["a high peak", { settledMiB: 200, peakMiB: 270 }, "peak RSS while converging"],
  ])("missed: %s", (_, over, name) => {
    const m = met(scaleResult(over));
    expect(
      Object.entries(m)
        .filter(([, ok]) => !ok)
        .map(([n]) => n),
    ).toEqual([name]);
  });

  test("without the baseline there is no ratio, and the RSS target exists only for its N", () => {
    const r = scaleResult({ apps: 2000, baselineMs: undefined, settledMiB: 100, peakMiB: 110 });
    expect(scaleRatio(r)).toBeUndefined();
    const names = scaleTargets(r).map((t) => t.name);
    expect(names).not.toContain("convergence, operator / baseline");
    expect(names.some((n) => n.startsWith("RSS settled"))).toBe(false);
    expect(names).toContain("peak RSS while converging");
  });

  test("the tables: both sides, the operator's figures, the targets with met / NO", () => {
    const [sides, operator, targets] = scaleTables(scaleResult({ operatorMs: 120_000 }));
    expect(sides?.rows.find((r) => r[0] === "spawn → the last app converged")).toEqual([
      "spawn → the last app converged",
      "100.00 s",
      "120.00 s",
    ]);
    expect(sides?.rows.find((r) => r[0] === "operator / baseline")?.[2]).toBe("1.20 ×");
    expect(operator?.rows.find((r) => r[0]?.startsWith("longest event-loop block:"))?.[1]).toBe(
      "80 ms / 50 ms",
    );
    expect(targets?.rows[0]?.[3]).toBe("NO");
    expect(targets?.title).toBe("Scale targets (#22; set for 20000 apps over 2000 namespaces)");
    const noBaseline = scaleTables(scaleResult({ apps: 2000, baselineMs: undefined }));
    expect(noBaseline[0]?.rows[1]).toEqual([
      "spawn → the last app converged",
      "not run",
      "110.00 s",
    ]);
    expect(noBaseline[2]?.title).toContain("this run: 2000 over 200");
    expect(formatText(noBaseline[2] ?? { title: "", head: [], rows: [] })).toContain("met");
  });
});
