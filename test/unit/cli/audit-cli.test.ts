// The real `stateless-operator audit` process: exit codes, stdout/stderr separation, no stray cluster.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";

const root = resolve(import.meta.dirname, "../../..");
const fixtures = join(root, "test/fixtures/policy");

function cli(args: readonly string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  const result = spawnSync(process.execPath, [join(root, "src/cli/main.ts"), "audit", ...args], {
    cwd: root,
    encoding: "utf8",
    input: options.input ?? "",
    env: options.env ?? process.env,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("stateless-operator audit", () => {
  test.each([
    ["the repository's own manifests are clean", ["-f", join(root, "manifests")], 0],
    ["the corpus has violations", ["-f", join(fixtures, "corpus")], 1],
    ["malformed YAML", ["-f", join(fixtures, "audit/malformed-yaml.txt")], 2],
    ["a usage error", ["-o", "xml"], 2],
  ])("%s: exit %i", (_what, args, code) => {
    expect(cli(args).code).toBe(code);
  });

  test("reads standard input with -f -", () => {
    const input =
      "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {sessionAffinity: ClientIP}\n";
    const { code, stdout } = cli(["-f", "-", "-o", "json"], { input });
    expect(code).toBe(1);
    expect(JSON.parse(stdout).findings[0].location).toEqual({ file: "-", line: 4, column: 8 });
  });

  test("the parse error goes to stderr as file:line:column, the report to stdout", () => {
    const { stdout, stderr } = cli([
      "-f",
      join(fixtures, "audit/malformed-yaml.txt"),
      "-o",
      "json",
    ]);
    expect(stderr).toMatch(/malformed-yaml\.txt:11:1: /);
    expect(JSON.parse(stdout).errors).toHaveLength(1);
  });

  test("--cluster without any kubeconfig refuses instead of trying localhost:8080", () => {
    const home = mkdtempSync(join(tmpdir(), "audit-home-"));
    const env = { PATH: process.env.PATH, HOME: home };
    const { code, stdout, stderr } = cli(["--cluster"], { env });
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain("no cluster configured");
  });

  test("--cluster with a context the kubeconfig lacks is refused", () => {
    const home = mkdtempSync(join(tmpdir(), "audit-home-"));
    const kubeconfig = join(fixtures, "audit/kubeconfig.yaml");
    const env = { PATH: process.env.PATH, HOME: home };
    const { code, stderr } = cli(["--cluster", "--kubeconfig", kubeconfig, "--context", "nope"], {
      env,
    });
    expect(code).toBe(2);
    expect(stderr).toContain('no context "nope"');
  });
});
