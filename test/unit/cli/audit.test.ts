// `audit` as a function: inputs, outputs, line numbers and exit codes, with a fake io.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { audit } from "../../../src/cli/audit.ts";
import type { CommandIo } from "../../../src/cli/io.ts";

const root = resolve(import.meta.dirname, "../../..");
const fixtures = join(root, "test/fixtures/policy/audit");
const corpus = join(root, "test/fixtures/policy/corpus");
const at = (name: string) => join(fixtures, name);

/** Real files, and `stdin` for "-". */
function fakeIo(stdin = "") {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    readInput: (path) => (path === "-" ? Promise.resolve(stdin) : readFile(path, "utf8")),
  };
  return { io, out: () => out.join(""), err: () => err.join("") };
}

async function run(args: readonly string[], stdin = "") {
  const io = fakeIo(stdin);
  const code = await audit(args, io.io);
  return { code, out: io.out(), err: io.err() };
}

interface JsonFinding {
  ruleId: string;
  severity: string;
  path: string;
  message: string;
  object: { kind: string; name?: string; namespace?: string };
  location?: { file: string; line?: number; column?: number };
  helmSource?: string;
  renderedFrom?: { kind: string; name?: string };
}

interface JsonReport {
  failOn: string;
  failed: boolean;
  summary: { objects: number; findings: number; error: number; warning: number; info: number };
  findings: JsonFinding[];
  errors: { file: string; line?: number; column?: number; message: string }[];
}

async function runJson(args: readonly string[], stdin = "") {
  const result = await run([...args, "-o", "json"], stdin);
  return { ...result, report: JSON.parse(result.out) as JsonReport };
}

describe("exit codes", () => {
  test.each([
    ["a clean file", [join(corpus, "deployment-compliant.yaml")], [], 0],
    ["an error", [at("multi.yaml")], [], 1],
    ["only a warning, default --fail-on error", [at("warning-only.yaml")], [], 0],
    ["only a warning, --fail-on warning", [at("warning-only.yaml")], ["--fail-on", "warning"], 1],
    ["only advice, --fail-on warning", [at("info-only.yaml")], ["--fail-on", "warning"], 0],
    ["only advice, --fail-on info", [at("info-only.yaml")], ["--fail-on", "info"], 1],
    ["malformed YAML", [at("malformed-yaml.txt")], [], 2],
    ["malformed YAML next to a violation", [at("malformed-yaml.txt"), at("multi.yaml")], [], 2],
    ["a missing file", [at("no-such-file.yaml")], [], 2],
  ] as const)("%s → %i", async (_what, files, extra, expected) => {
    const { code } = await run([...files.flatMap((f) => ["-f", f]), ...extra]);
    expect(code).toBe(expected);
  });

  test.each([
    ["no input", []],
    ["-f and --cluster", ["-f", "x.yaml", "--cluster"]],
    ["--namespace without --cluster", ["-f", "x.yaml", "-n", "shop"]],
    ["an unknown output", ["-f", "x.yaml", "-o", "xml"]],
    ["an unknown severity", ["-f", "x.yaml", "--fail-on", "fatal"]],
    ["an unknown flag", ["--frobnicate"]],
  ])("usage error (%s) → 2 with the usage on stderr", async (_what, args) => {
    const { code, out, err } = await run(args);
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err).toContain("usage: stateless-operator audit");
  });

  test("--help prints the usage on stdout and exits 0", async () => {
    const { code, out } = await run(["--help"]);
    expect(code).toBe(0);
    expect(out).toContain("--fail-on");
  });
});

describe("unreadable input", () => {
  test("a YAML error names the file, line and column on stderr; readable documents are still audited", async () => {
    const { code, err, report } = await runJson(["-f", at("malformed-yaml.txt")]);
    expect(code).toBe(2);
    expect(err).toMatch(/malformed-yaml\.txt:11:1: Tabs are not allowed/);
    expect(report.errors).toEqual([
      expect.objectContaining({ file: at("malformed-yaml.txt"), line: 11, column: 1 }),
    ]);
    expect(report.summary.objects).toBe(1);
  });

  test("a missing file is reported with its name", async () => {
    const { err } = await run(["-f", at("no-such-file.yaml")]);
    expect(err).toContain("no-such-file.yaml: no such file or directory");
  });
});

describe("table output", () => {
  test("one row per finding with rule, severity, object, field, message and location, then a summary", async () => {
    const { out } = await run(["-f", at("multi.yaml")]);
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^RULE\s+SEVERITY\s+OBJECT\s+FIELD\s+MESSAGE\s+LOCATION$/);
    expect(lines[1]).toMatch(
      /^TF-PROC-001\s+error\s+Service shop\/sticky\s+spec\.sessionAffinity\s+sessionAffinity is ClientIP\s+\S*multi\.yaml:16:3$/,
    );
    expect(lines[2]).toBe("1 finding (1 error) in 2 objects; fails at --fail-on error");
  });

  test("a clean run prints only the summary", async () => {
    const { out } = await run(["-f", join(corpus, "service-compliant.yaml")]);
    expect(out).toBe("no findings in 1 object\n");
  });

  test("stdout carries only the report; notes go to stderr", async () => {
    const { out, err } = await run(["-f", at("tree")]);
    expect(err).toContain("skipped");
    expect(out).not.toContain("skipped");
  });
});

describe("JSON output", () => {
  test("findings carry rule, severity, field path, object and file location", async () => {
    const { report } = await runJson(["-f", at("multi.yaml")]);
    expect(report).toMatchObject({
      failOn: "error",
      failed: true,
      summary: { objects: 2, findings: 1, error: 1, warning: 0, info: 0 },
      errors: [],
    });
    expect(report.findings).toEqual([
      {
        ruleId: "TF-PROC-001",
        severity: "error",
        title: "Service session affinity",
        message: "sessionAffinity is ClientIP",
        path: "spec.sessionAffinity",
        object: { apiVersion: "v1", kind: "Service", namespace: "shop", name: "sticky" },
        location: { file: at("multi.yaml"), line: 16, column: 3 },
      },
    ]);
  });

  test("List and typed-list items are audited, located inside the list", async () => {
    const { report } = await runJson(["-f", at("list.yaml")]);
    expect(
      report.findings.map((f) => [f.object.kind, f.object.name, f.path, f.location?.line]),
    ).toEqual([
      ["Service", "listed", "spec.sessionAffinity", 10],
      ["Deployment", "typed", "spec.template.spec.hostNetwork", 19],
    ]);
  });

  test("Helm template output on stdin keeps each document's chart template", async () => {
    const text = await readFile(at("helm-template.yaml"), "utf8");
    const { report } = await runJson(["-f", "-"], text);
    expect(report.summary.objects).toBe(2);
    expect(report.findings).toEqual([
      expect.objectContaining({
        ruleId: "TF-PROC-001",
        helmSource: "shop/templates/service.yaml",
        location: { file: "-", line: 8, column: 3 },
      }),
    ]);
  });

  test("YAML 1.1 booleans count, as they do for kubectl", async () => {
    const { report } = await runJson(["-f", at("yaml11.yaml")]);
    expect(report.findings.map((f) => f.path)).toEqual(["spec.template.spec.hostNetwork"]);
  });

  test("a StatelessApp is audited through what it renders; an invalid one is noted, not fatal", async () => {
    const { code, err, report } = await runJson(["-f", at("statelessapp.yaml")]);
    expect(code).toBe(0);
    expect(report.findings).toEqual([]);
    // The valid app, the invalid app, and the valid app's Deployment, Service and PDB.
    expect(report.summary.objects).toBe(5);
    expect(err).toContain("StatelessApp invalid not rendered: spec.image: required");
  });

  test("directories are walked for .yaml, .yml and .json, skipping hidden dirs and Helm templates", async () => {
    const { err, report } = await runJson(["-f", at("tree")]);
    const files = [...new Set(report.findings.map((f) => f.location?.file))];
    expect(files).toEqual([
      at("tree/nested/ingress.yml"),
      at("tree/nested/pod.json"),
      at("tree/service.yaml"),
    ]);
    expect(err).toContain(`skipped ${at("tree/chart/templates")}: Helm templates`);
  });
});

describe("line numbers", () => {
  test("every finding in the corpus points at the line of its field, or of the nearest part that exists", async () => {
    const { report } = await runJson(["-f", corpus]);
    expect(report.findings.length).toBeGreaterThan(60);
    for (const finding of report.findings) {
      const file = finding.location?.file ?? "";
      const lines = (await readFile(file, "utf8")).split("\n");
      const line = lines[(finding.location?.line ?? 0) - 1] ?? "";
      // The last path segment that names a field (not an index) present on that line.
      const keys = finding.path
        .replace(/\[(\d+)\]/g, "")
        .split(/\.(?![^[]*\])|\[|\]/)
        .filter((k) => k !== "");
      // Or the list item the path goes through, when the item has none of the fields.
      const here = keys.some((k) => line.includes(`${k}:`)) || /^\s*- /.test(line);
      expect(here, `${file}:${finding.location?.line} for ${finding.path}: ${line}`).toBe(true);
    }
  });

  test("a missing field resolves to its parent: an emptyDir without sizeLimit points at `emptyDir`", async () => {
    const file = join(corpus, "deployment-emptydir-unbounded.yaml");
    const { report } = await runJson(["-f", file]);
    const lines = (await readFile(file, "utf8")).split("\n");
    const line = report.findings[0]?.location?.line ?? 0;
    expect(lines[line - 1]?.trim()).toBe("emptyDir: {}");
  });
});

describe("progress", () => {
  test("a large input gets progress lines on stderr, never on stdout", async () => {
    const dir = await mkdtemp(join(tmpdir(), "audit-large-"));
    const service = await readFile(join(corpus, "service-compliant.yaml"), "utf8");
    for (let i = 0; i < 150; i++)
      await writeFile(join(dir, `s${String(i).padStart(3, "0")}.yaml`), service);
    const { code, out, err } = await run(["-f", dir]);
    expect(code).toBe(0);
    expect(out).toBe("no findings in 150 objects\n");
    expect(err).toContain("audit: read 100/150 files, 100 objects");
    expect(err).toContain("audit: read 150 files, 150 objects");
  });

  test("a small input is quiet on stderr", async () => {
    const { err } = await run(["-f", join(corpus, "service-compliant.yaml")]);
    expect(err).toBe("");
  });
});

describe("exemptions", () => {
  const fixture = join(corpus, "deployment-exempt-annotation.yaml");
  const namespaceDoc = (labels: Record<string, string>) =>
    `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: reports\n  labels: ${JSON.stringify(labels)}\n---\n`;
  const inNamespace = async () =>
    (await readFile(fixture, "utf8")).replace(
      "  name: legacy-reports\n",
      "  name: legacy-reports\n  namespace: reports\n",
    );

  test("are not honoured by default: the findings count, with a note why", async () => {
    const { code, report } = await runJson(["-f", fixture]);
    expect(code).toBe(1);
    expect(report.summary).toMatchObject({ error: 2, exempted: 0 });
    expect(
      report.findings.map((f) => (f as { exemption?: { honoured: boolean } }).exemption?.honoured),
    ).toEqual([false, false]);
  });

  test("--allow-exemptions honours them: exit 0, each still listed with its reason", async () => {
    const { code, report } = await runJson(["-f", fixture, "--allow-exemptions"]);
    expect(code).toBe(0);
    expect(report.summary).toMatchObject({ findings: 2, error: 0, exempted: 2 });
    expect(report.findings[0]).toMatchObject({
      exemption: { by: "object", honoured: true, reason: expect.stringContaining("TICKET-812") },
    });
  });

  test("a Namespace in the input decides for its objects, whatever --allow-exemptions says", async () => {
    const body = await inNamespace();
    const strict = await runJson(["-f", "-", "--allow-exemptions"], namespaceDoc({}) + body);
    expect(strict.code).toBe(1);
    const allowing = await runJson(
      ["-f", "-"],
      namespaceDoc({ "twelvefactor.dev/exemptions": "allowed" }) + body,
    );
    expect(allowing.code).toBe(0);
  });

  test("the table marks exempted rows and counts them apart", async () => {
    const { out } = await run(["-f", fixture, "--allow-exemptions"]);
    expect(out).toMatch(
      /^TF-PROC-011\s+exempt\s+Deployment legacy-reports\s.*\(exempt by object: vendor image/m,
    );
    expect(out).toMatch(/2 findings \(2 exempt\) in 1 object; passes at --fail-on error/);
  });

  test("SARIF records an honoured exemption as an in-source suppression", async () => {
    const { out } = await run(["-f", fixture, "--allow-exemptions", "-o", "sarif"]);
    const log = JSON.parse(out) as { runs: { results: { suppressions?: unknown[] }[] }[] };
    expect(log.runs[0]?.results.map((r) => r.suppressions)).toEqual([
      [
        expect.objectContaining({
          kind: "inSource",
          justification: expect.stringContaining("TICKET-812"),
        }),
      ],
      [expect.objectContaining({ kind: "inSource" })],
    ]);
  });
});

describe("--workload-kinds", () => {
  test("adds a kind: its template is checked", async () => {
    const dir = await mkdtemp(join(tmpdir(), "audit-kinds-"));
    const kinds = join(dir, "kinds.yaml");
    await writeFile(
      kinds,
      "- {group: example.com, kind: Worker, resource: workers, template: spec.template}\n",
    );
    const worker =
      "apiVersion: example.com/v1\nkind: Worker\nmetadata: {name: w}\nspec:\n  template:\n    spec:\n      containers: [{name: c}]\n";
    expect((await runJson(["-f", "-"], worker)).report.findings).toEqual([]);
    const { report } = await runJson(["-f", "-", "--workload-kinds", kinds], worker);
    expect(report.findings.map((f) => `${f.ruleId} ${f.path}`)).toEqual([
      "TF-PROC-011 spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem",
    ]);
  });

  test("a bad list is a usage error naming the field", async () => {
    const dir = await mkdtemp(join(tmpdir(), "audit-kinds-"));
    const kinds = join(dir, "kinds.yaml");
    await writeFile(
      kinds,
      "- {group: example.com, kind: worker, resource: workers, template: spec.template}\n",
    );
    const { code, err } = await run([
      "-f",
      join(corpus, "deployment-compliant.yaml"),
      "--workload-kinds",
      kinds,
    ]);
    expect(code).toBe(2);
    expect(err).toContain(`--workload-kinds ${kinds}: [0].kind: must be a kind such as Rollout`);
  });
});
