// `audit -o sarif`: a SARIF 2.1.0 log with the shape the schema requires and code scanning reads.
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { rules } from "../../../src/app/rules/index.ts";
import { audit } from "../../../src/cli/audit.ts";
import type { CommandIo } from "../../../src/cli/io.ts";

const root = resolve(import.meta.dirname, "../../..");
const fixtures = join(root, "test/fixtures/policy");

async function sarif(args: readonly string[], stdin = "") {
  const out: string[] = [];
  const io: CommandIo = {
    stdout: (t) => out.push(t),
    stderr: () => {},
    readInput: (path) => (path === "-" ? Promise.resolve(stdin) : readFile(path, "utf8")),
  };
  const code = await audit([...args, "-o", "sarif"], io);
  return { code, log: JSON.parse(out.join("")) as unknown };
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The required properties and enumerations of the SARIF 2.1.0 schema
 * (https://json.schemastore.org/sarif-2.1.0.json) for what audit emits. Returns the problems.
 */
function sarifProblems(log: unknown): string[] {
  const problems: string[] = [];
  const need = (cond: boolean, what: string) => {
    if (!cond) problems.push(what);
  };
  const message = (m: unknown, where: string) =>
    need(
      isRecord(m) && (typeof m.text === "string" || typeof m.id === "string"),
      `${where}.message needs text or id`,
    );
  const region = (r: unknown, where: string) => {
    if (r === undefined) return;
    need(isRecord(r), `${where} is an object`);
    if (!isRecord(r)) return;
    for (const k of ["startLine", "startColumn"])
      if (r[k] !== undefined)
        need(Number.isInteger(r[k]) && (r[k] as number) >= 1, `${where}.${k} is an integer >= 1`);
  };
  const physical = (p: unknown, where: string) => {
    if (p === undefined) return;
    need(isRecord(p) && isRecord(p.artifactLocation), `${where}.artifactLocation`);
    if (!isRecord(p) || !isRecord(p.artifactLocation)) return;
    need(typeof p.artifactLocation.uri === "string", `${where}.artifactLocation.uri`);
    region(p.region, `${where}.region`);
  };

  need(isRecord(log), "log is an object");
  if (!isRecord(log)) return problems;
  need(log.version === "2.1.0", "version is 2.1.0");
  need(typeof log.$schema === "string", "$schema");
  need(Array.isArray(log.runs), "runs is an array");
  for (const [r, run] of (Array.isArray(log.runs) ? log.runs : []).entries()) {
    const where = `runs[${r}]`;
    need(isRecord(run) && isRecord(run.tool) && isRecord(run.tool.driver), `${where}.tool.driver`);
    if (!isRecord(run) || !isRecord(run.tool) || !isRecord(run.tool.driver)) continue;
    const driver = run.tool.driver;
    need(typeof driver.name === "string", `${where}.tool.driver.name`);
    const descriptors = Array.isArray(driver.rules) ? driver.rules : [];
    for (const [i, d] of descriptors.entries()) {
      need(isRecord(d) && typeof d.id === "string", `${where}.tool.driver.rules[${i}].id`);
      if (isRecord(d) && isRecord(d.defaultConfiguration))
        need(
          ["none", "note", "warning", "error"].includes(String(d.defaultConfiguration.level)),
          `rules[${i}].defaultConfiguration.level`,
        );
    }
    for (const [i, inv] of (Array.isArray(run.invocations) ? run.invocations : []).entries()) {
      need(
        isRecord(inv) && typeof inv.executionSuccessful === "boolean",
        `invocations[${i}].executionSuccessful`,
      );
    }
    need(Array.isArray(run.results), `${where}.results`);
    for (const [i, result] of (Array.isArray(run.results) ? run.results : []).entries()) {
      const at = `${where}.results[${i}]`;
      need(isRecord(result), `${at} is an object`);
      if (!isRecord(result)) continue;
      message(result.message, at);
      need(["none", "note", "warning", "error"].includes(String(result.level)), `${at}.level`);
      if (typeof result.ruleIndex === "number") {
        const d = descriptors[result.ruleIndex];
        need(isRecord(d) && d.id === result.ruleId, `${at}.ruleIndex points at ruleId`);
      }
      for (const [j, loc] of (Array.isArray(result.locations) ? result.locations : []).entries())
        physical(
          isRecord(loc) ? loc.physicalLocation : undefined,
          `${at}.locations[${j}].physicalLocation`,
        );
    }
  }
  return problems;
}

interface Log {
  runs: {
    tool: { driver: { rules: { id: string; defaultConfiguration: { level: string } }[] } };
    invocations: { executionSuccessful: boolean; toolExecutionNotifications: Json[] }[];
    results: {
      ruleId: string;
      level: string;
      locations: {
        physicalLocation?: {
          artifactLocation: { uri: string; uriBaseId?: string };
          region?: { startLine: number };
        };
      }[];
    }[];
  }[];
}

describe("SARIF output", () => {
  test("the whole fixture tree gives a log with the schema's required shape", async () => {
    const { code, log } = await sarif(["-f", fixtures]);
    expect(code).toBe(1);
    expect(sarifProblems(log)).toEqual([]);
    expect((log as Log).runs[0]?.results.length).toBeGreaterThan(60);
  });

  test("every rule is described, with its severity as the default level", async () => {
    const { log } = await sarif(["-f", join(fixtures, "corpus/service-compliant.yaml")]);
    const described = (log as Log).runs[0]?.tool.driver.rules ?? [];
    expect(described.map((d) => d.id)).toEqual(rules.map((r) => r.id));
    const levels = { error: "error", warning: "warning", info: "note" } as const;
    expect(described.map((d) => d.defaultConfiguration.level)).toEqual(
      rules.map((r) => levels[r.severity]),
    );
  });

  test("results sit on the manifest's line, with a URI relative to the working directory", async () => {
    const file = join(fixtures, "audit/multi.yaml");
    const { log } = await sarif(["-f", file]);
    const result = (log as Log).runs[0]?.results[0];
    expect(result?.ruleId).toBe("TF-PROC-001");
    expect(result?.level).toBe("error");
    const location = result?.locations[0]?.physicalLocation;
    expect(location?.region?.startLine).toBe(16);
    expect(location?.artifactLocation.uriBaseId).toBe("%SRCROOT%");
    expect(join(process.cwd(), location?.artifactLocation.uri ?? "")).toBe(file);
  });

  test("warnings and advice map to SARIF levels warning and note", async () => {
    const { log } = await sarif([
      "-f",
      join(fixtures, "audit/warning-only.yaml"),
      "-f",
      join(fixtures, "audit/info-only.yaml"),
    ]);
    expect((log as Log).runs[0]?.results.map((r) => r.level)).toEqual(["warning", "note"]);
  });

  test("an unreadable file is an unsuccessful invocation with a located notification", async () => {
    const { code, log } = await sarif(["-f", join(fixtures, "audit/malformed-yaml.txt")]);
    expect(code).toBe(2);
    expect(sarifProblems(log)).toEqual([]);
    const invocation = (log as Log).runs[0]?.invocations[0];
    expect(invocation?.executionSuccessful).toBe(false);
    expect(invocation?.toolExecutionNotifications).toEqual([
      expect.objectContaining({
        level: "error",
        locations: [
          expect.objectContaining({
            physicalLocation: expect.objectContaining({
              region: { startLine: 11, startColumn: 1 },
            }),
          }),
        ],
      }),
    ]);
  });

  test("Helm output on stdin points at the chart template, without lines that would not match it", async () => {
    const text = await readFile(join(fixtures, "audit/helm-template.yaml"), "utf8");
    const { log } = await sarif(["-f", "-"], text);
    expect(sarifProblems(log)).toEqual([]);
    expect((log as Log).runs[0]?.results[0]?.locations[0]?.physicalLocation).toEqual({
      artifactLocation: { uri: "shop/templates/service.yaml", uriBaseId: "%SRCROOT%" },
    });
  });
});
