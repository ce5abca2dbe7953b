// `npm run bench`: the operator against a tight baseline client on a local control plane; prints tables, writes JSON and an SVG chart.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ensureBinaries, tierBinaries } from "../tools/cluster/index.ts";
import { etcdVersion, kubernetesVersion } from "../tools/cluster/versions.ts";
import { compileOperator, sourceCommand } from "./lib/build.ts";
import { lineChart } from "./lib/chart.ts";
import { REPO_ROOT, RESULTS_DIR, RUN_DIR } from "./lib/env.ts";
import {
  type BenchResult,
  type ConvergenceRun,
  evaluateTargets,
  formatMarkdown,
  formatText,
  isUndisturbed,
  summarizeRuns,
  tables,
} from "./lib/report.ts";
import { scaleTables } from "./lib/scale-report.ts";
import {
  type BaselineConvergence,
  baselineConvergence,
  type ConvergenceOptions,
  type OperatorConvergence,
  type OperatorRun,
  operatorConvergence,
  operatorRun,
} from "./scenarios/convergence.ts";
import { latency } from "./scenarios/latency.ts";
import { formatNamespaces, namespacesRun } from "./scenarios/namespaces.ts";
import { scaleRun } from "./scenarios/scale.ts";
import { storm } from "./scenarios/storm.ts";

const USAGE = `usage: npm run bench -- [options]

  --quick            N = 100 and 1000 only (for iteration)
  --n=100,1000,5000  the app counts of the convergence runs
  --only=latency,convergence,baseline,operator,storm,namespaces,scale
                     a subset of the runs (namespaces and scale are never in the default set)
  --storm-apps=1000  the update storm: this many converged apps …
  --storm-changes=1000
                     … then this many image changes patched at once (at most --storm-apps)
  --scale-apps=20000 the scale run: this many apps …
  --scale-namespaces=2000
                     … spread over this many namespaces, the operator watching all namespaces
  --namespaces=200   the namespaces run: this many watched namespaces …
  --apps-per-namespace=20
                     … with this many apps each (baseline, then the operator)
  --skip-baseline    the namespaces and scale runs without their baseline side
  --workers=4        the operator's WORKERS and the baseline's concurrency
  --repeat=K         undisturbed convergence runs per N, alternating which side goes
                     first (default 3 below N=5000, 2 from 5000, 1 with --quick); a run
                     during which other processes used > 0.3 cores is repeated (at most
                     2 extra, 1 from N=5000); the ratio is the median of the runs' ratios
  --source           run the operator from src/ (type stripping) instead of compiled JS
  --operator=FILE    run this CLI entry point instead (e.g. a patched build, for A/B runs)
  --profile          operator runs with --cpu-prof and a heap snapshot after convergence
                     (bench/results/profiles)
  --node-args="…"    extra Node/V8 flags for the operator, after the image's (the last of
                     a flag wins), e.g. --node-args=--max-semi-space-size=8 for an A/B run
  --save             also copy the results to bench/last/ (committed figures)
  --report=FILE      print and write the tables, chart and summary of a saved result JSON
  --no-pods          create no pod for the apps (by default each app gets one, Pending, as the
                     ReplicaSet controller would create it; the operator caches its own pods)
  --verbose          the control plane's progress lines
`;

const METHOD = [
  "Control plane: etcd + kube-apiserver (the integration tier), a fresh one for every run, on this machine (loopback).",
  "Apps: one web process, replicas 1, one port: each converges to a Deployment, a Service and a status. Each app also has one pod, created with the rendered template as the ReplicaSet controller would (Pending: the tier runs no kubelet), which the operator caches trimmed; `--no-pods` leaves them out.",
  "Each N is measured in several runs (3 below N=5000, 2 at 5000) alternating which side goes first, each on fresh clusters. A run during which other processes on the machine used more than 0.3 cores (from /proc/stat minus the benchmark's own processes) counts as disturbed and is repeated, a bounded number of times; the medians and the ratio (the median of the runs' ratios) use the undisturbed runs when there are any. Footprint, restart and resync come from the first operator run.",
  "Convergence: the N apps are created first (not timed; nothing else runs); then the operator (or the baseline) process is spawned; the clock runs from the spawn to the last watch event that completes an app (Deployment seen, Service seen, status.observedGeneration == metadata.generation). Process start-up is inside both times.",
  "Baseline: a separate Node process with the operator's connection loader and transport (keep-alive pool, no client-side rate limit; client-node is not loaded) that lists the apps once and server-side applies each app's Deployment, Service and status (the operator's own render and status code), WORKERS apps in flight; no caches, no watches, no comparison.",
  "Operator: the CLI (`run`), compiled, run with the image's V8 flags (`--optimize-for-size --max-semi-space-size=1`), with WORKERS, WATCH_NAMESPACES=<the namespace>, LOG_LEVEL=info, leader election off; requests, reconciles, memory and CPU from its /metrics.",
  "Restart: the operator is stopped after convergence and started again with RESYNC_PERIOD=20s: start-up to /readyz, to every app reconciled once, then one periodic resync of every app; writes counted throughout.",
  "Update storm: N apps (--storm-apps) created and converged by the operator, then K image changes (--storm-changes) merge-patched at once, 32 in flight; per change the time from its patch sent to the benchmark's Deployment watch seeing the new image, reported as is and as the time after the last change was written (0 for changes applied before); the operator's requests from just before the storm until idle again, per change; its longest event-loop block over the same window.",
  "Latency: operator idle and synced; 5 warm-up apps (the API server's first object of a CRD takes seconds), then sequential creates, each waited for until its status is written; timestamps from the benchmark's own watches.",
];

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      n: { type: "string" },
      only: { type: "string" },
      workers: { type: "string", default: "4" },
      namespaces: { type: "string", default: "200" },
      "apps-per-namespace": { type: "string", default: "20" },
      "storm-apps": { type: "string", default: "1000" },
      "storm-changes": { type: "string", default: "1000" },
      "scale-apps": { type: "string", default: "20000" },
      "scale-namespaces": { type: "string", default: "2000" },
      "skip-baseline": { type: "boolean", default: false },
      source: { type: "boolean", default: false },
      operator: { type: "string" },
      repeat: { type: "string" },
      report: { type: "string" },
      profile: { type: "boolean", default: false },
      "node-args": { type: "string" },
      save: { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
      "no-pods": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.report !== undefined) {
    // Re-render a saved result (tables, chart, summary) without measuring again.
    const saved = JSON.parse(readFileSync(values.report, "utf8")) as BenchResult;
    const convergence = saved.convergence.map((c) => ({
      ...c,
      ...summarizeRuns(
        c.runs.map((r) => ({
          ...r,
          undisturbed:
            r.undisturbed ?? (isUndisturbed(r.baselineCpu) && isUndisturbed(r.operatorCpu)),
        })),
      ),
    }));
    const again = { ...saved, convergence };
    publish({ ...again, targets: evaluateTargets(again) }, values.save, (line) =>
      console.error(line),
    );
    return 0;
  }
  const sizes = (values.n ?? (values.quick ? "100,1000" : "100,1000,5000"))
    .split(",")
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  const only = new Set((values.only ?? "latency,baseline,operator,storm").split(","));
  if (only.has("convergence")) {
    only.add("baseline");
    only.add("operator");
  }
  const workers = Number(values.workers);
  const log = (line: string) => console.error(line);
  const started = performance.now();
  const loadBefore = loadavg();
  // Before compiling: what the measured operator is built from, not what the tree holds by the end.
  const commit = gitCommit();
  mkdirSync(RESULTS_DIR, { recursive: true });

  log("bench: control-plane binaries (built on first use; this can take a while) …");
  await ensureBinaries(tierBinaries.integration, { log });
  let operatorCommand: string[];
  if (values.operator !== undefined) {
    log(`bench: running the operator from ${values.operator}`);
    operatorCommand = [values.operator];
  } else if (values.source) {
    log("bench: running the operator from src/");
    operatorCommand = sourceCommand();
  } else {
    log("bench: compiling the operator …");
    operatorCommand = await compileOperator();
  }
  const profileDir = join(RUN_DIR, "profiles");
  // Node writes heap snapshots only into an existing directory (--cpu-prof creates its own).
  if (values.profile) mkdirSync(profileDir, { recursive: true });
  const extraArgs = (values["node-args"] ?? "").split(/\s+/).filter((a) => a !== "");
  const profileArgs = values.profile
    ? [
        `--cpu-prof`,
        `--cpu-prof-dir=${profileDir}`,
        "--heapsnapshot-signal=SIGUSR2",
        `--diagnostic-dir=${profileDir}`,
      ]
    : [];
  const nodeArgs =
    extraArgs.length + profileArgs.length > 0 ? [...extraArgs, ...profileArgs] : undefined;
  const common = {
    workers,
    verbose: values.verbose,
    operatorCommand,
    log,
    pods: !values["no-pods"],
    ...(nodeArgs ? { nodeArgs } : {}),
  };

  if (only.has("namespaces")) {
    const result = await namespacesRun({
      ...common,
      namespaces: Number(values.namespaces),
      appsPerNamespace: Number(values["apps-per-namespace"]),
      baseline: !values["skip-baseline"],
    });
    const file = join(
      RESULTS_DIR,
      `namespaces-${result.namespaces}x${result.appsPerNamespace}.json`,
    );
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${formatNamespaces(result)}\n`);
    log(`bench: wrote ${file}`);
    only.delete("namespaces");
  }
  if (only.has("scale")) {
    const result = await scaleRun({
      ...common,
      apps: Number(values["scale-apps"]),
      namespaces: Number(values["scale-namespaces"]),
      baseline: !values["skip-baseline"],
    });
    const name = `scale-${result.apps}x${result.namespaces}`;
    const file = join(RESULTS_DIR, `${name}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    const t = scaleTables(result);
    writeFileSync(join(RESULTS_DIR, `${name}.md`), `${t.map(formatMarkdown).join("\n\n")}\n`);
    process.stdout.write(`\n${t.map(formatText).join("\n\n")}\n\n`);
    log(`bench: wrote ${file} and ${name}.md`);
    only.delete("scale");
  }
  if (![...only].some((o) => ["latency", "baseline", "operator", "storm"].includes(o))) return 0;
  let latencyResult: BenchResult["latency"];
  if (only.has("latency")) {
    log("bench: latency (200 sequential creates, 50 spec changes) …");
    latencyResult = await latency({ ...common, creates: 200, specChanges: 50 });
  }
  let stormResult: BenchResult["storm"];
  if (only.has("storm")) {
    const apps = Number(values["storm-apps"]);
    const changes = Math.min(apps, Number(values["storm-changes"]));
    log(`bench: update storm (${apps} converged apps, ${changes} image changes at once) …`);
    stormResult = await storm({ ...common, apps, changes, concurrency: 32 });
  }
  const convergence: BenchResult["convergence"][number][] = [];
  const converging = only.has("baseline") || only.has("operator");
  for (const n of converging ? sizes : []) {
    const repeats = values.repeat
      ? Math.max(1, Number(values.repeat))
      : values.quick
        ? 1
        : n >= 5000
          ? 2
          : 3;
    let baseline: BaselineConvergence | undefined;
    let operator: OperatorConvergence | undefined;
    const runs: ConvergenceRun[] = [];
    // A run during which other processes used the machine is repeated (a few times at most).
    const maxRuns = repeats + (n >= 5000 ? 1 : 2);
    for (let r = 0, quiet = 0; quiet < repeats && r < maxRuns; r++) {
      // Alternate which goes first, so a drift in the machine's load does not favour one side.
      const operatorFirst = r % 2 === 1;
      log(`bench: convergence N=${n}, run ${r + 1} (${quiet}/${repeats} undisturbed so far) …`);
      const o: ConvergenceOptions = { ...common, n };
      let b: BaselineConvergence | undefined;
      let op: OperatorRun | undefined;
      const runBaseline = async () => {
        if (only.has("baseline")) b = await baselineConvergence(o);
      };
      const runOperator = async () => {
        if (!only.has("operator")) return;
        if (operator === undefined) {
          operator = await operatorConvergence(o);
          op = operator;
        } else {
          op = await operatorRun(o);
        }
      };
      if (operatorFirst) {
        await runOperator();
        await runBaseline();
      } else {
        await runBaseline();
        await runOperator();
      }
      baseline ??= b;
      const undisturbed = isUndisturbed(b?.cpu) && isUndisturbed(op?.cpu);
      if (undisturbed) quiet++;
      else log(`  (other processes used the machine during this run: it is repeated)`);
      runs.push({
        order: operatorFirst ? "operator first" : "baseline first",
        undisturbed,
        ...(b ? { baselineMs: b.wallMs, baselineCpu: b.cpu } : {}),
        ...(op ? { operatorMs: op.wallMs, operatorCpu: op.cpu } : {}),
      });
    }
    convergence.push({
      n,
      ...(baseline ? { baseline } : {}),
      ...(operator ? { operator } : {}),
      ...summarizeRuns(runs),
    });
  }

  const partial: Omit<BenchResult, "targets"> = {
    meta: {
      date: new Date().toISOString(),
      commit,
      node: process.version,
      kubernetes: kubernetesVersion,
      etcd: etcdVersion,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "",
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      loadAverageBefore: loadBefore.map((x) => Math.round(x * 100) / 100),
      loadAverageAfter: loadavg().map((x) => Math.round(x * 100) / 100),
      workers,
      operatorBuild: values.operator ?? (values.source ? "source" : "compiled"),
      durationS: Math.round((performance.now() - started) / 1000),
      method: METHOD,
    },
    ...(latencyResult ? { latency: latencyResult } : {}),
    ...(stormResult ? { storm: stormResult } : {}),
    convergence,
  };
  const result: BenchResult = { ...partial, targets: evaluateTargets(partial) };

  publish(result, values.save, log);
  return 0;
}

/** Prints the tables and writes the JSON, the chart and the Markdown summary (and bench/last with --save). */
function publish(result: BenchResult, save: boolean, log: (line: string) => void): void {
  const text = tables(result).map(formatText).join("\n\n");
  process.stdout.write(`\n${text}\n\n`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = result.meta.date.replace(/[:.]/g, "-");
  const json = `${JSON.stringify(result, null, 2)}\n`;
  const jsonPath = join(RESULTS_DIR, `bench-${stamp}.json`);
  writeFileSync(jsonPath, json);
  writeFileSync(join(RESULTS_DIR, "latest.json"), json);
  const chartPath = join(RESULTS_DIR, "convergence.svg");
  const hasPoints = result.convergence.some((c) => c.baseline || c.operator);
  if (hasPoints) writeFileSync(chartPath, chart(result));
  const summaryPath = join(RESULTS_DIR, "summary.md");
  writeFileSync(summaryPath, summary(result));
  log(`bench: wrote ${jsonPath}, ${hasPoints ? `${chartPath}, ` : ""}${summaryPath}`);
  if (save) {
    const last = join(REPO_ROOT, "bench", "last");
    mkdirSync(last, { recursive: true });
    writeFileSync(join(last, "results.json"), json);
    if (hasPoints) copyFileSync(chartPath, join(last, "convergence.svg"));
    copyFileSync(summaryPath, join(last, "summary.md"));
    // Committed files follow the repository's formatter (it pads Markdown tables, wraps JSON).
    try {
      execFileSync(
        process.execPath,
        [
          join(REPO_ROOT, "node_modules", "@biomejs", "biome", "bin", "biome"),
          "format",
          "--write",
          last,
        ],
        { cwd: REPO_ROOT, stdio: "ignore" },
      );
    } catch {
      log("bench: could not run biome on bench/last; run `npm run format` before committing");
    }
    log(`bench: saved the figures to ${last}`);
  }
}

function chart(result: BenchResult): string {
  const series = [
    {
      name: "baseline",
      color: "#888888",
      pick: (c: BenchResult["convergence"][number]) => c.baselineMedianMs,
    },
    {
      name: "operator",
      color: "#1f6feb",
      pick: (c: BenchResult["convergence"][number]) => c.operatorMedianMs,
    },
  ].map(({ name, color, pick }) => ({
    name,
    color,
    points: result.convergence.flatMap((c) => {
      const y = pick(c);
      return y === undefined ? [] : [{ x: c.n, y: y / 1000 }];
    }),
  }));
  return lineChart({
    title: "Time to converge N StatelessApps",
    xLabel: "N apps (log scale)",
    yLabel: "seconds, median of runs (spawn → last app converged)",
    series: series.filter((s) => s.points.length > 0),
    note: `${result.meta.cpus} × ${result.meta.cpuModel}; kube-apiserver ${result.meta.kubernetes}; WORKERS=${result.meta.workers}; ${result.meta.date.slice(0, 10)}`,
  });
}

function summary(result: BenchResult): string {
  const m = result.meta;
  return [
    `Measured ${m.date.slice(0, 10)} at ${m.commit} on ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB; Node ${m.node}; kube-apiserver ${m.kubernetes}, etcd ${m.etcd}; WORKERS=${m.workers}; operator ${m.operatorBuild}; load average before/after ${m.loadAverageBefore[0]}/${m.loadAverageAfter[0]}; run took ${m.durationS} s.`,
    "",
    ...tables(result).map((t) => `${formatMarkdown(t)}\n`),
    "How it is measured:",
    "",
    ...m.method.map((line) => `- ${line}`),
    "",
  ].join("\n");
}

function gitCommit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT })
      .toString()
      .trim();
    // The operator is compiled from the working tree: say so when src/ differs from HEAD.
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], { cwd: REPO_ROOT })
      .toString()
      .trim();
    return dirty === "" ? head : `${head} + uncommitted changes in src/`;
  } catch {
    return "unknown";
  }
}

process.exitCode = await main();
