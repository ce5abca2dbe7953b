// `npm run sbom`: a CycloneDX 1.6 SBOM of the production dependencies, read from package-lock.json alone.
//
// The image holds exactly the lock file's production packages (`npm ci`, then `npm prune
// --omit=dev`), so the SBOM lists those: every `packages` entry of the lock not marked `dev`,
// with its version, license, integrity hash and the dependency graph as Node resolves it. No
// network, no timestamp: the same lock file gives the same bytes (the serial number is derived
// from the lock's content), so a release can publish it next to the image and anyone can check.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

interface LockPackage {
  readonly name?: string;
  readonly version?: string;
  readonly resolved?: string;
  readonly integrity?: string;
  readonly license?: string;
  readonly dev?: boolean;
  readonly link?: boolean;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
}

export interface Lock {
  readonly name: string;
  readonly version: string;
  readonly lockfileVersion: number;
  readonly packages: Readonly<Record<string, LockPackage>>;
}

type Json = Record<string, unknown>;

/** The package name a lock path installs: the part after its last `node_modules/`. */
const nameAt = (path: string) =>
  path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);

/** `pkg:npm/%40scope/name@1.2.3` (the purl spec encodes the scope's `@`). */
export function purlOf(name: string, version: string): string {
  return `pkg:npm/${name.replace(/^@/, "%40")}@${version}`;
}

/** Where Node finds `name` from the package at `from`: its own node_modules, then each parent's. */
function resolveFrom(lock: Lock, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base === "" ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (lock.packages[candidate] !== undefined) return candidate;
    if (base === "") return undefined;
    const at = base.lastIndexOf("/node_modules/");
    base = at < 0 ? "" : base.slice(0, at);
  }
}

/** SPDX id where the lock's license is one, else an expression (`MIT OR Apache-2.0`). */
function licenses(license: string | undefined): Json[] {
  if (license === undefined || license === "") return [];
  return /^[A-Za-z0-9.+-]+$/.test(license)
    ? [{ license: { id: license } }]
    : [{ expression: license.replace(/^\((.*)\)$/, "$1") }];
}

function hashes(integrity: string | undefined): Json[] {
  const m = /^sha(512|384|256|1)-(.+)$/.exec(integrity ?? "");
  if (m === null) return [];
  const alg = m[1] === "1" ? "SHA-1" : `SHA-${m[1]}`;
  return [{ alg, content: Buffer.from(m[2] ?? "", "base64").toString("hex") }];
}

/** The lock's production packages: path → entry (the root and dev-only packages left out). */
export function productionPackages(lock: Lock): Map<string, LockPackage> {
  if (lock.lockfileVersion < 2) throw new Error("package-lock.json must be lockfileVersion 2 or 3");
  return new Map(
    Object.entries(lock.packages).filter(
      ([path, p]) => path !== "" && p.dev !== true && p.link !== true,
    ),
  );
}

/** A name-based UUID (version 5 layout, SHA-256 instead of SHA-1): the same lock, the same serial. */
function uuidOf(text: string): string {
  const h = createHash("sha256").update(text).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export function renderSbom(lock: Lock, pkg: { license?: string; description?: string }): Json {
  const production = productionPackages(lock);
  const refOf = (path: string) => {
    const p = production.get(path);
    return purlOf(p?.name ?? nameAt(path), p?.version ?? "");
  };
  const root = purlOf(lock.name, lock.version);
  const dependsOn = (path: string, p: LockPackage) =>
    [
      ...new Set(
        Object.keys({ ...p.dependencies, ...p.optionalDependencies, ...p.peerDependencies })
          .map((name) => resolveFrom(lock, path, name))
          .filter((d): d is string => d !== undefined && production.has(d))
          .map(refOf),
      ),
    ].sort();
  const rootEntry = lock.packages[""] ?? {};
  const components = [...production.entries()]
    .map(([path, p]) => {
      const name = p.name ?? nameAt(path);
      const scope = name.startsWith("@") ? name.slice(0, name.indexOf("/")) : undefined;
      return {
        type: "library",
        "bom-ref": refOf(path),
        ...(scope === undefined ? {} : { group: scope }),
        name: scope === undefined ? name : name.slice(scope.length + 1),
        version: p.version ?? "",
        purl: refOf(path),
        licenses: licenses(p.license),
        hashes: hashes(p.integrity),
        ...(p.resolved === undefined
          ? {}
          : { externalReferences: [{ type: "distribution", url: p.resolved }] }),
      };
    })
    // Two paths may hold the same name@version (npm did not dedupe them): one component.
    .filter((c, i, all) => all.findIndex((o) => o["bom-ref"] === c["bom-ref"]) === i)
    .sort((a, b) => a["bom-ref"].localeCompare(b["bom-ref"]));
  const edges = new Map<string, Set<string>>();
  edges.set(root, new Set(dependsOn("", rootEntry)));
  for (const [path, p] of production) {
    const set = edges.get(refOf(path)) ?? new Set<string>();
    for (const d of dependsOn(path, p)) set.add(d);
    edges.set(refOf(path), set);
  }
  return {
    $schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
    bomFormat: "CycloneDX",
    specVersion: "1.6",
    serialNumber: `urn:uuid:${uuidOf(JSON.stringify(lock.packages))}`,
    version: 1,
    metadata: {
      lifecycles: [{ phase: "build" }],
      tools: { components: [{ type: "application", name: "stateless-operator scripts/sbom.ts" }] },
      component: {
        type: "application",
        "bom-ref": root,
        name: lock.name,
        version: lock.version,
        purl: root,
        ...(pkg.description === undefined ? {} : { description: pkg.description }),
        licenses: licenses(pkg.license),
      },
    },
    components,
    dependencies: [...edges.entries()]
      .map(([ref, set]) => ({ ref, dependsOn: [...set].sort() }))
      .sort((a, b) => a.ref.localeCompare(b.ref)),
  };
}

if (import.meta.main) {
  const root = resolve(import.meta.dirname, "..");
  const lock = JSON.parse(readFileSync(resolve(root, "package-lock.json"), "utf8")) as Lock;
  const pkg = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")) as {
    license?: string;
    description?: string;
  };
  const out = resolve(root, process.argv[2] ?? `dist/${lock.name}-${lock.version}.cdx.json`);
  mkdirSync(dirname(out), { recursive: true });
  const sbom = renderSbom(lock, pkg);
  writeFileSync(out, `${JSON.stringify(sbom, null, 2)}\n`);
  console.log(`sbom: ${(sbom.components as unknown[]).length} production packages → ${out}`);
}
