// `npm run sbom`: the CycloneDX SBOM lists exactly the production packages of package-lock.json, as npm itself reads them.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import pkg from "../../../package.json" with { type: "json" };
import { type Lock, purlOf, renderSbom } from "../../../scripts/sbom.ts";

const root = resolve(import.meta.dirname, "../../..");
const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as Lock;

interface Component {
  "bom-ref": string;
  group?: string;
  name: string;
  version: string;
  purl: string;
  licenses: { license?: { id: string }; expression?: string }[];
  hashes: { alg: string; content: string }[];
}
interface Bom {
  bomFormat: string;
  specVersion: string;
  serialNumber: string;
  metadata: { component: { "bom-ref": string; name: string; version: string } };
  components: Component[];
  dependencies: { ref: string; dependsOn: string[] }[];
}

const bom = renderSbom(lock, pkg) as unknown as Bom;
const fullName = (c: Component) => (c.group === undefined ? c.name : `${c.group}/${c.name}`);

interface NpmNode {
  version?: string;
  dependencies?: Record<string, NpmNode>;
}

/** npm's own view of the production tree from the lock file alone (no node_modules, no network). */
function npmProductionPackages(): Set<string> {
  const tree = JSON.parse(
    execFileSync("npm", ["ls", "--omit=dev", "--all", "--json", "--package-lock-only"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }),
  ) as NpmNode;
  const out = new Set<string>();
  const walk = (deps: Record<string, NpmNode> | undefined) => {
    for (const [name, node] of Object.entries(deps ?? {})) {
      if (node.version === undefined) continue; // a missing optional peer
      out.add(`${name}@${node.version}`);
      walk(node.dependencies);
    }
  };
  walk(tree.dependencies);
  return out;
}

describe("the SBOM", () => {
  test("lists exactly the lock file's production packages, as `npm ls --omit=dev` reads them", () => {
    const listed = new Set(bom.components.map((c) => `${fullName(c)}@${c.version}`));
    const npm = npmProductionPackages();
    expect(npm.size).toBeGreaterThan(20);
    expect([...listed].sort()).toEqual([...npm].sort());
    for (const dev of ["vitest", "typescript", "@biomejs/biome", "fast-check", "ioredis"])
      expect(
        [...listed].some((p) => p.startsWith(`${dev}@`)),
        dev,
      ).toBe(false);
    for (const dep of Object.keys(pkg.dependencies))
      expect(
        [...listed].some((p) => p.startsWith(`${dep}@`)),
        dep,
      ).toBe(true);
  });

  test("is CycloneDX 1.6 with the application as its subject and a stable serial number", () => {
    expect(bom).toMatchObject({ bomFormat: "CycloneDX", specVersion: "1.6" });
    expect(bom.metadata.component).toMatchObject({ name: pkg.name, version: pkg.version });
    expect(bom.serialNumber).toMatch(
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(JSON.stringify(renderSbom(lock, pkg))).toBe(JSON.stringify(bom));
    const changed = {
      ...lock,
      packages: { ...lock.packages, "node_modules/x": { version: "1.0.0" } },
    };
    expect((renderSbom(changed, pkg) as unknown as Bom).serialNumber).not.toBe(bom.serialNumber);
  });

  test("every component has its purl, license and the lock's integrity hash", () => {
    for (const c of bom.components) {
      expect(c.purl).toBe(purlOf(fullName(c), c.version));
      expect(c.licenses.length, c.purl).toBe(1);
      const entry = Object.entries(lock.packages).find(
        ([path, p]) => path.endsWith(`node_modules/${fullName(c)}`) && p.version === c.version,
      )?.[1];
      const [alg, b64] = (entry?.integrity ?? "").split("-");
      expect(c.hashes, c.purl).toEqual([
        { alg: `SHA-${alg?.slice(3)}`, content: Buffer.from(b64 ?? "", "base64").toString("hex") },
      ]);
    }
  });

  test("the dependency graph names only listed components, and the root's are package.json's", () => {
    const refs = new Set([
      bom.metadata.component["bom-ref"],
      ...bom.components.map((c) => c["bom-ref"]),
    ]);
    for (const d of bom.dependencies) {
      expect(refs).toContain(d.ref);
      for (const on of d.dependsOn) expect(refs, `${d.ref} → ${on}`).toContain(on);
    }
    const rootDeps = bom.dependencies.find((d) => d.ref === bom.metadata.component["bom-ref"]);
    expect(
      rootDeps?.dependsOn
        .map((r) =>
          r
            .replace(/^pkg:npm\//, "")
            .replace(/@[^@]+$/, "")
            .replace("%40", "@"),
        )
        .sort(),
    ).toEqual(Object.keys(pkg.dependencies).sort());
  });
});
