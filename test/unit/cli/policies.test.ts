// `policies`: the generated policies on stdout, for more workload kinds on request.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { parseAllDocuments } from "yaml";
import { renderPolicySet } from "../../../src/app/policies/index.ts";
import type { CommandIo } from "../../../src/cli/io.ts";
import { policies } from "../../../src/cli/policies.ts";

async function run(args: readonly string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    readInput: (path) => readFile(path, "utf8"),
  };
  const code = await policies(args, io);
  return {
    code,
    out: out.join(""),
    err: err.join(""),
    docs: parseAllDocuments(out.join("")).map((d) => d.toJS()),
  };
}

test("prints what manifests/policies holds", async () => {
  const { code, docs } = await run([]);
  expect(code).toBe(0);
  expect(docs).toEqual(renderPolicySet().flatMap((g) => [g.policy, ...g.bindings]));
});

test("--workload-kinds adds the kind to what the policies match and where they read its pods", async () => {
  const file = join(await mkdtemp(join(tmpdir(), "policies-")), "kinds.yaml");
  await writeFile(
    file,
    "- {group: example.com, kind: Worker, resource: workers, template: spec.podTemplate}\n",
  );
  const { code, docs } = await run(["--workload-kinds", file]);
  expect(code).toBe(0);
  const errors = docs.find(
    (d) => d.metadata.name === "twelvefactor-processes" && d.kind === "ValidatingAdmissionPolicy",
  );
  expect(errors.spec.matchConstraints.resourceRules).toContainEqual(
    expect.objectContaining({ apiGroups: ["example.com"], resources: ["workers"] }),
  );
  const podSpecPath = errors.spec.variables.find((v: { name: string }) => v.name === "podSpecPath");
  expect(podSpecPath.expression).toContain(
    "variables.gk in ['example.com/Worker'] ? 'spec.podTemplate.spec'",
  );
});

test("a bad file or argument is a usage error", async () => {
  expect((await run(["--workload-kinds", "/nonexistent.yaml"])).code).toBe(2);
  expect((await run(["extra"])).code).toBe(2);
});
