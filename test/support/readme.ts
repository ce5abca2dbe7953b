// Runs the README's commands as a new user would: from a copy of the checkout, in a clean shell.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { cacheRoot } from "../../tools/cluster/binaries.ts";

export const repoRoot = resolve(import.meta.dirname, "../..");

/** The `sh` code blocks of the README section under `### <heading>` (up to the next heading). */
export function readmeBlocks(heading: string): string[][] {
  const text = readFileSync(join(repoRoot, "README.md"), "utf8");
  const start = text.indexOf(`\n### ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "### ${heading}" section`);
  const rest = text.slice(start + heading.length + 6);
  const end = rest.search(/\n#{2,3} /);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
    (m[1] ?? "")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#")),
  );
}

/** A copy of the checkout's files (tracked and new, not ignored ones) in a temporary directory. */
export function copyCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), "stateless-operator-readme-"));
  const files = execFileSync(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    {
      cwd: repoRoot,
      encoding: "utf8",
    },
  )
    .split("\0")
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    try {
      copyFileSync(join(repoRoot, file), join(dir, file));
    } catch (err) {
      // A tracked file deleted in the work tree is not part of what a user gets.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  return dir;
}

/**
 * The environment of a user's fresh shell: no kubeconfig (HOME is empty), no test runner or npm
 * variables, no node_modules/.bin on PATH; only the download caches (npm's, Go's, the control
 * plane's binaries) are the machine's, so nothing is fetched or built twice.
 */
export function userEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|VITEST|NODE_|KUBE|TEST_KUBECONFIG|STATELESS_OPERATOR_)/i.test(key)) continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => !dir.includes("node_modules"))
    .join(delimiter);
  env.HOME = home;
  env.XDG_CACHE_HOME = dirname(cacheRoot());
  env.npm_config_cache = join(homedir(), ".npm");
  env.GOPATH = process.env.GOPATH ?? join(homedir(), "go");
  env.GOCACHE = process.env.GOCACHE ?? join(homedir(), ".cache", "go-build");
  return env;
}

export type ShellResult = { code: number | null; output: string };

/** Runs lines in `bash -eo pipefail` (as typed one after another); resolves with the output. */
export function shell(
  lines: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<ShellResult> {
  return new Promise((resolvePromise) => {
    const child = spawn("bash", ["-eo", "pipefail", "-c", lines.join("\n")], {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      output += d;
    });
    const timer = setTimeout(() => {
      output += `\n(timed out after ${opts.timeoutMs} ms)`;
      killGroup(child);
    }, opts.timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, output });
    });
  });
}

/** A long-running command (`npm start`) in its own process group, with its output so far. */
export type Background = { child: ChildProcess; output: () => string; stop: () => Promise<void> };

/** Starts `line` in bash and resolves once its output matches `ready`; rejects with the output. */
export async function background(
  line: string,
  ready: RegExp,
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Background> {
  const child = spawn("bash", ["-c", line], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const exited = new Promise<void>((r) => child.once("close", () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(child, "SIGINT");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  await new Promise<void>((resolvePromise, reject) => {
    const fail = (why: string) => reject(new Error(`${line}: ${why}; output:\n${output}`));
    const timer = setTimeout(() => fail(`not ready in ${opts.timeoutMs} ms`), opts.timeoutMs);
    const onData = (d: Buffer) => {
      output += d;
      if (ready.test(output)) {
        clearTimeout(timer);
        resolvePromise();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("close", (code) => {
      clearTimeout(timer);
      fail(`exited with ${code}`);
    });
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { child, output: () => output, stop };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {}
}

/** Removes a copy made by copyCheckout(). */
export function removeCopy(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The README's "Real pods without Docker" walk-through, run as written in a fresh shell from a
 * copy of the checkout (it starts and stops its own node tier: run it while no other runs).
 * Throws with the whole output unless every command succeeds and the counter counts 1, then 2.
 */
export async function runNodeWalkThrough(log: (line: string) => void): Promise<void> {
  const [block] = readmeBlocks("Real pods without Docker");
  if (block?.[0] !== "npm ci" || !block.at(-1)?.startsWith("npm run cluster:down")) {
    throw new Error(
      "README.md: the real-pods walk-through no longer starts with npm ci and ends with npm run cluster:down",
    );
  }
  const checkout = copyCheckout();
  const home = join(checkout, ".home");
  mkdirSync(home);
  const env = userEnv(home);
  const started = Date.now();
  log(
    `README "Real pods without Docker": ${block.length} commands in a copy of the checkout (${checkout}) ...`,
  );
  try {
    const run = await shell(block, { cwd: checkout, env, timeoutMs: 900_000 });
    const fail = (why: string) =>
      new Error(`README "Real pods without Docker": ${why}; output:\n${run.output}`);
    if (run.code !== 0) throw fail(`exited with ${run.code}`);
    if (!run.output.includes("statelessapp.twelvefactor.dev/session-counter condition met")) {
      throw fail("the app did not become Ready");
    }
    const counts = [...run.output.matchAll(/"count":(\d+)/g)].map((m) => m[1]);
    if (counts.join(",") !== "1,2")
      throw fail(`the counter answered ${counts.join(",") || "nothing"}, not 1 then 2`);
    if (!run.output.includes("cluster: stopped")) throw fail("the cluster did not stop");
    log(
      `README "Real pods without Docker": passed in ${Math.round((Date.now() - started) / 1000)} s`,
    );
  } finally {
    // Whatever happened, its node tier must not outlive it.
    await shell(["npm run cluster:down"], { cwd: checkout, env, timeoutMs: 120_000 });
    removeCopy(checkout);
  }
}
