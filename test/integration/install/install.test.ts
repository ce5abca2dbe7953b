// The install on a real API server: kustomize output, server-side dry-run, apply, and a second apply that changes nothing.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { installObjects, NAMESPACE, namespacedObjects } from "../../../scripts/install/index.ts";
import { createTestNamespace } from "../../support/cluster.ts";
import { kubectl, kubectlOk, namespacedOverlay, parseObjects, splitPolicies } from "./kubectl.ts";

type Json = Record<string, unknown>;

const root = resolve(import.meta.dirname, "../../..");
const dist = join(root, "dist/install.yaml");
const nameOf = (o: Json) => (o.metadata as { name: string }).name;
const namespaceOf = (o: Json) => (o.metadata as { namespace?: string }).namespace;
const idOf = (o: Json) => `${o.kind}/${namespaceOf(o) ?? ""}/${nameOf(o)}`;
const byId = (objects: Json[]) => new Map(objects.map((o) => [idOf(o), o]));
/** Objects other test files also apply (the CRD): its version may move meanwhile. */
const shared = (o: Json) => o.kind === "CustomResourceDefinition";
const { workload, policies } = splitPolicies(dist);

/** The live objects of the install (but the policies) with their resourceVersions. */
async function liveVersions(): Promise<Map<string, string>> {
  const list = JSON.parse(await kubectlOk(["get", "-f", workload, "-o", "json"])) as {
    items: Json[];
  };
  return new Map(
    list.items
      .filter((o) => !shared(o))
      .map((o) => [idOf(o), (o.metadata as { resourceVersion: string }).resourceVersion]),
  );
}

/** Client-side apply over server-side-applied objects notes the missing annotation; nothing else. */
const warningsIn = (stderr: string) =>
  stderr
    .split("\n")
    .filter((line) => /warning/i.test(line) && !line.includes("last-applied-configuration"));

describe("kubectl kustomize", () => {
  test("manifests/default builds exactly the objects of dist/install.yaml", async () => {
    const built = byId(
      parseObjects(await kubectlOk(["kustomize", join(root, "manifests/default")])),
    );
    const expected = byId(installObjects());
    expect([...built.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [id, o] of expected) expect(built.get(id), id).toEqual(o);
  });

  test("manifests/namespaced builds the namespace-scoped variant", async () => {
    const built = byId(
      parseObjects(await kubectlOk(["kustomize", join(root, "manifests/namespaced")])),
    );
    const expected = byId(namespacedObjects());
    expect([...built.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [id, o] of expected) expect(built.get(id), id).toEqual(o);
  });
});

describe("dist/install.yaml", () => {
  let firstApply = "";
  beforeAll(async () => {
    const r = await kubectl(["apply", "--server-side", "-f", workload]);
    expect(r.code, r.stderr).toBe(0);
    firstApply = r.stderr;
  });

  test("applies for real without a warning (Pod Security restricted holds for the operator)", async () => {
    expect(firstApply).not.toMatch(/warning/i);
    const deployment = JSON.parse(
      await kubectlOk(["get", "deployment", "stateless-operator", "-n", NAMESPACE, "-o", "json"]),
    ) as Json;
    expect(namespaceOf(deployment)).toBe(NAMESPACE);
  });

  test("passes server-side dry-run whole, with server-side and with client-side apply", async () => {
    for (const args of [
      // --force-conflicts: the policies test owns the policies' atomic match structs (see splitPolicies).
      ["apply", "--server-side", "--force-conflicts", "--dry-run=server", "-f", dist],
      ["apply", "--dry-run=server", "-f", dist],
    ]) {
      const r = await kubectl(args);
      expect(r.code, r.stderr).toBe(0);
      expect(warningsIn(r.stderr)).toEqual([]);
      expect(r.stdout.split("\n").filter((l) => l !== "")).toHaveLength(installObjects().length);
    }
    const p = await kubectl([
      "apply",
      "--server-side",
      "--force-conflicts",
      "--dry-run=server",
      "-f",
      policies,
    ]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(
      /validatingadmissionpolicy\S*\/twelvefactor-processes serverside-applied/,
    );
  });

  test("a second apply changes nothing: kubectl diff is empty, no resourceVersion moves", async () => {
    const before = await liveVersions();
    expect(before.size).toBe(
      installObjects().filter(
        (o) => !shared(o) && !String(o.kind).startsWith("ValidatingAdmissionPolicy"),
      ).length,
    );
    const again = await kubectl(["apply", "--server-side", "-f", workload]);
    expect(again.code, again.stderr).toBe(0);
    expect(await liveVersions()).toEqual(before);
    const diff = await kubectl(["diff", "--server-side", "-f", workload]);
    expect(diff.stdout).toBe("");
    expect(diff.code, diff.stderr).toBe(0);
  });

  test("the documented uninstall that keeps the CRD selects every object but the CRD", async () => {
    const r = await kubectl([
      "delete",
      "--dry-run=server",
      "-f",
      workload,
      "-l",
      "app.kubernetes.io/component",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const deleted = r.stdout.split("\n").filter((l) => l !== "");
    const expected = installObjects().filter(
      (o) => !String(o.kind).startsWith("ValidatingAdmissionPolicy"),
    );
    expect(deleted).toHaveLength(expected.length - 1);
    expect(r.stdout).not.toMatch(/customresourcedefinition/);
    expect(r.stdout).toMatch(/deployment\.apps "stateless-operator" deleted .*\(server dry run\)/);
  });

  test("kubectl apply -k manifests/default is the same install: nothing to change", async () => {
    const built = join(mkdtempSync(join(tmpdir(), "kustomized-")), "default.yaml");
    writeFileSync(built, await kubectlOk(["kustomize", join(root, "manifests/default")]));
    const diff = await kubectl(["diff", "--server-side", "-f", splitPolicies(built).workload]);
    expect(diff.stdout).toBe("");
    expect(diff.code, diff.stderr).toBe(0);
  });
});

describe("the other manifests", () => {
  let team = "";
  let samples = "";
  beforeAll(async () => {
    team = await createTestNamespace("team");
    samples = await createTestNamespace("samples");
  });

  test("the namespace-scoped variant applies into a team's namespace through an overlay", async () => {
    const namespace = team;
    const overlay = namespacedOverlay(root, namespace);
    const built = parseObjects(await kubectlOk(["kustomize", overlay]));
    const clusterScoped = built.filter((o) => String(o.kind).startsWith("Cluster"));
    expect(clusterScoped.map((o) => `${o.kind}/${nameOf(o)}`).sort()).toEqual([
      "ClusterRole/stateless-operator-metrics-auth",
      "ClusterRole/stateless-operator-metrics-reader",
      `ClusterRoleBinding/stateless-operator-metrics-auth-${namespace}`,
    ]);
    const others = built.filter((o) => !clusterScoped.includes(o));
    expect(others.map(namespaceOf).every((ns) => ns === namespace)).toBe(true);
    const binding = built.find((o) => o.kind === "RoleBinding") as {
      subjects: { namespace: string }[];
    };
    expect(binding.subjects[0]?.namespace).toBe(namespace);
    const dry = await kubectl(["apply", "--server-side", "--dry-run=server", "-k", overlay]);
    expect(dry.code, dry.stderr).toBe(0);
    const real = await kubectl(["apply", "--server-side", "-k", overlay]);
    expect(real.code, real.stderr).toBe(0);
    const again = await kubectl(["diff", "--server-side", "-k", overlay]);
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  test("every sample passes server-side dry-run", async () => {
    // The CRD comes with the install, applied by the describe block above.
    await kubectlOk(["wait", "--for=condition=Established", "crd/statelessapps.twelvefactor.dev"]);
    const namespace = samples;
    const r = await kubectl([
      "apply",
      "--server-side",
      "--dry-run=server",
      "-n",
      namespace,
      "-k",
      join(root, "manifests/samples"),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/statelessapp\.twelvefactor\.dev\/\S+ serverside-applied/);
  });
});
