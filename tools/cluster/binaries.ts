// Locates the control-plane binaries (KUBEBUILDER_ASSETS or the version cache) and builds missing ones.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, linkSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { isExecutable } from "../provision/provision.ts";
import { readModuleText, wrapperDir } from "./gomod.ts";
import {
  type BinaryName,
  binaryNames,
  defaultKubernetesMinor,
  etcdVersion,
  type GoModuleName,
  type GoModuleSpec,
  goModules,
  helmVersion,
  kubernetesVersion,
  kwokVersion,
  prometheusVersion,
  selectedKubernetesMinor,
} from "./versions.ts";

/** Where each binary comes from, by name. */
export type BinaryPaths = Record<BinaryName, string>;

/** Flags shared by every build: static, reproducible paths, stripped (as upstream's release builds). */
const goBuildFlags = ["-trimpath"];
const baseLdflags = ["-s", "-w"];

/** The module that builds `name` for the selected Kubernetes minor, if any does. */
function findModule(name: BinaryName): GoModuleName | undefined {
  const minor = selectedKubernetesMinor();
  const building = (Object.entries(goModules) as [GoModuleName, GoModuleSpec][]).filter(
    ([, spec]) => name in spec.tools,
  );
  const forMinor = building.find(([, spec]) => spec.kubernetesMinor === minor);
  if (forMinor !== undefined) return forMinor[0];
  const unversioned = building.find(([, spec]) => spec.kubernetesMinor === undefined);
  if (unversioned === undefined) return undefined;
  // A default module of Kubernetes' own builds only the default minor.
  const [mod, spec] = unversioned;
  const kubernetes = spec.kind === "wrapper" && spec.module === goModules.kubernetes.module;
  return kubernetes && minor !== defaultKubernetesMinor ? undefined : mod;
}

/** Which module builds which binary (for the Kubernetes minor KUBERNETES_VERSION selects). */
export function moduleOf(name: BinaryName): GoModuleName {
  const mod = findModule(name);
  if (mod !== undefined) return mod;
  throw new Error(
    `no Go module builds ${name} for Kubernetes ${selectedKubernetesMinor()}: only the integration tier runs on KUBERNETES_VERSION=${selectedKubernetesMinor()}`,
  );
}

/** The binaries that can be built for the selected minor (all of them for the default one). */
export function buildableBinaries(names: readonly BinaryName[] = binaryNames): BinaryName[] {
  return names.filter((n) => findModule(n) !== undefined);
}

/** Import path of a binary's main package. */
function packageOf(name: BinaryName): string {
  const tools: Readonly<Record<string, string>> = goModules[moduleOf(name)].tools;
  const pkg = tools[name];
  if (!pkg) throw new Error(`no package for ${name}`);
  return pkg;
}

/** The upstream module a binary is built from (undefined for our own sources). */
function upstreamOf(name: BinaryName): string | undefined {
  const spec: GoModuleSpec = goModules[moduleOf(name)];
  return spec.kind === "wrapper" ? spec.module : undefined;
}

/**
 * Version stamps, as hack/lib/version.sh sets them, so `/version` and `kubectl version` report
 * the pinned release (and the emulated version is right). The module zip has no git commit.
 */
function versionLdflags(name: BinaryName, buildDate: string): string[] {
  const upstream = upstreamOf(name);
  if (upstream === goModules.kubernetes.module) {
    const spec: GoModuleSpec = goModules[moduleOf(name)];
    const version = spec.kind === "wrapper" ? spec.version : kubernetesVersion;
    const m = /^v(\d+)\.(\d+)\./.exec(version);
    const [major, minor] = [m?.[1] ?? "", m?.[2] ?? ""];
    return ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"].flatMap((pkg) => [
      `-X ${pkg}.gitVersion=${version}`,
      `-X ${pkg}.gitMajor=${major}`,
      `-X ${pkg}.gitMinor=${minor}`,
      `-X ${pkg}.gitTreeState=archive`,
      `-X ${pkg}.buildDate=${buildDate}`,
    ]);
  }
  if (upstream === goModules.kwok.module) {
    return [
      `-X sigs.k8s.io/kwok/pkg/consts.Version=${kwokVersion}`,
      `-X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${kubernetesVersion}`,
    ];
  }
  if (upstream === goModules.helm.module) {
    return [
      `-X helm.sh/helm/v4/internal/version.version=${helmVersion}`,
      "-X helm.sh/helm/v4/internal/version.gitTreeState=archive",
    ];
  }
  if (upstream === goModules.prometheus.module) {
    // As Prometheus' .promu.yml stamps its binaries; the module's v0.3MM.P is release 3.MM.P.
    const m = /^v0\.3(\d\d)\.(\d+)$/.exec(prometheusVersion);
    const release = m === null ? prometheusVersion : `3.${Number(m[1])}.${m[2]}`;
    return [`-X github.com/prometheus/common/version.Version=${release}`];
  }
  return []; // etcd's version is a constant in go.etcd.io/etcd/api/v3/version.
}

/** Go build tags of a binary (its module's). */
function tagsOf(name: BinaryName): readonly string[] {
  const spec: GoModuleSpec = goModules[moduleOf(name)];
  return spec.tags ?? [];
}

/** `${XDG_CACHE_HOME:-~/.cache}/stateless-operator`. */
export function cacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "stateless-operator");
}

/**
 * The cache directory of one module's binaries: `<module>-<version>_<hash>/bin`, the hash
 * covering that module's go.mod/go.sum (or sources) and the build flags of its binaries. A bump
 * of one module rebuilds its binaries only; a new module leaves the others' cache valid.
 */
export function cacheBinDir(mod: GoModuleName): string {
  const spec: GoModuleSpec = goModules[mod];
  const hash = createHash("sha256");
  hash.update(readModuleText(mod));
  hash.update(JSON.stringify([goBuildFlags, baseLdflags]));
  for (const name of Object.keys(spec.tools) as BinaryName[]) {
    hash.update(`${name}\0${versionLdflags(name, "").join(" ")}\0`);
    // Only a module with tags changes its key, so the others' cached binaries stay valid.
    if (tagsOf(name).length > 0) hash.update(`tags\0${tagsOf(name).join(",")}\0`);
  }
  const version = spec.kind === "wrapper" ? spec.version : "local";
  return join(cacheRoot(), `${mod}-${version}_${hash.digest("hex").slice(0, 10)}`, "bin");
}

/**
 * The directory of the cache layout before it was split per module: one key over the three
 * wrappers of that time. Binaries found there (built from the same go.mod files, or the key would
 * differ) are linked into the per-module directories instead of being rebuilt.
 */
function legacyCacheBinDir(): string {
  const legacy = [
    "etcd",
    "kube-apiserver",
    "kubectl",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
  ] as const;
  const hash = createHash("sha256");
  for (const mod of ["kubernetes", "etcd", "kwok"] as const) hash.update(readModuleText(mod));
  hash.update(JSON.stringify([goBuildFlags, baseLdflags]));
  for (const name of legacy) hash.update(versionLdflags(name, "").join(" "));
  const key = `k8s-${kubernetesVersion}_etcd-${etcdVersion}_kwok-${kwokVersion}_${hash.digest("hex").slice(0, 10)}`;
  return join(cacheRoot(), key, "bin");
}

/** Links a binary of the legacy cache directory into its module's directory; true when done. */
function adoptLegacy(name: BinaryName): boolean {
  // The older layout held the default minor's binaries only.
  if (selectedKubernetesMinor() !== defaultKubernetesMinor) return false;
  const from = join(legacyCacheBinDir(), name);
  if (!isExecutable(from)) return false;
  const dir = cacheBinDir(moduleOf(name));
  mkdirSync(dir, { recursive: true });
  try {
    linkSync(from, join(dir, name));
  } catch {
    copyFileSync(from, join(dir, name));
  }
  return true;
}

/** Where a binary is (KUBEBUILDER_ASSETS first, then the cache), or undefined when missing. */
export function locateBinary(name: BinaryName): string | undefined {
  const assets = process.env.KUBEBUILDER_ASSETS;
  if (assets && isExecutable(join(assets, name))) return join(assets, name);
  const cached = join(cacheBinDir(moduleOf(name)), name);
  return isExecutable(cached) ? cached : undefined;
}

/** Paths of the named binaries; throws, naming the fix, when any is missing. */
export function requireBinaries(names: readonly BinaryName[]): Partial<BinaryPaths> {
  const found: Partial<BinaryPaths> = {};
  const missing: BinaryName[] = [];
  for (const name of names) {
    const path = locateBinary(name);
    if (path) found[name] = path;
    else missing.push(name);
  }
  if (missing.length > 0) {
    throw new Error(
      `control-plane binaries missing: ${missing.join(", ")} (looked in ${
        process.env.KUBEBUILDER_ASSETS
          ? `KUBEBUILDER_ASSETS=${process.env.KUBEBUILDER_ASSETS} and `
          : ""
      }${[...new Set(missing.map((n) => cacheBinDir(moduleOf(n))))].join(", ")}); build them with \`npm run cluster:build\``,
    );
  }
  return found;
}

/** Formats a duration as `4m05s`. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

/** Runs a command, resolving with its stdout; rejects with its stderr on failure. */
function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")}: ${err.trim()}`)),
    );
  });
}

/** A Kubernetes release's publication time, used as its buildDate (reproducible). */
async function kubernetesBuildDate(mod: GoModuleName): Promise<string> {
  const json = await run(
    "go",
    ["list", "-m", "-json", goModules.kubernetes.module],
    wrapperDir(mod),
  );
  return (JSON.parse(json) as { Time?: string }).Time ?? "1970-01-01T00:00:00Z";
}

/** Options for building. */
export type BuildOptions = {
  /** Progress lines. @default console.log */
  log?: (line: string) => void;
  /** Seconds between "still building" lines. @default 30 */
  progressEverySeconds?: number;
};

/** Builds one binary into the cache, printing elapsed time and compiled package count. */
async function buildOne(name: BinaryName, buildDate: string, opts: BuildOptions): Promise<string> {
  const log = opts.log ?? console.log;
  const dir = cacheBinDir(moduleOf(name));
  mkdirSync(dir, { recursive: true });
  const out = join(dir, name);
  const partial = `${out}.partial-${process.pid}`;
  const ldflags = [...baseLdflags, ...versionLdflags(name, buildDate)].join(" ");
  const args = [
    "build",
    "-v",
    ...goBuildFlags,
    ...(tagsOf(name).length > 0 ? ["-tags", tagsOf(name).join(",")] : []),
    "-ldflags",
    ldflags,
    "-o",
    partial,
    packageOf(name),
  ];
  const started = Date.now();
  log(`cluster: building ${name} (${packageOf(name)}) ...`);
  let packages = 0;
  let tail = "";
  const child = spawn("go", args, {
    cwd: wrapperDir(moduleOf(name)),
    env: { ...process.env, CGO_ENABLED: "0", GOFLAGS: "-buildvcs=false -mod=readonly" },
    stdio: ["ignore", "inherit", "pipe"],
  });
  // `go build -v` names each package it compiles on stderr: a cheap progress counter.
  child.stderr.on("data", (d: Buffer) => {
    const text = d.toString();
    packages += text.split("\n").filter((l) => /^[\w.-]+(\/[\w.~-]+)*$/.test(l.trim())).length;
    tail = (tail + text).slice(-8000);
  });
  const timer = setInterval(
    () =>
      log(
        `cluster:   ${name}: ${formatDuration(Date.now() - started)}, ${packages} packages compiled`,
      ),
    (opts.progressEverySeconds ?? 30) * 1000,
  );
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", resolve);
    });
    if (code !== 0) {
      rmSync(partial, { force: true });
      throw new Error(`go build ${name} failed (exit ${code}):\n${tail}`);
    }
  } finally {
    clearInterval(timer);
  }
  renameSync(partial, out);
  log(`cluster: built ${name} in ${formatDuration(Date.now() - started)}`);
  return out;
}

/** Makes sure the named binaries exist, building the missing ones into the cache. */
export async function ensureBinaries(
  names: readonly BinaryName[] = binaryNames,
  opts: BuildOptions = {},
): Promise<{ paths: Partial<BinaryPaths>; built: BinaryName[] }> {
  const log = opts.log ?? console.log;
  const paths: Partial<BinaryPaths> = {};
  const missing: BinaryName[] = [];
  const adopted: BinaryName[] = [];
  for (const name of names) {
    let path = locateBinary(name);
    if (!path && adoptLegacy(name)) {
      adopted.push(name);
      path = locateBinary(name);
    }
    if (path) paths[name] = path;
    else missing.push(name);
  }
  if (adopted.length > 0) {
    log(
      `cluster: linked ${adopted.join(", ")} from ${legacyCacheBinDir()} (the older cache layout)`,
    );
  }
  if (missing.length === 0) return { paths, built: [] };
  try {
    await run("go", ["version"], process.cwd());
  } catch {
    throw new Error(
      `cannot build ${missing.join(", ")}: no Go toolchain on PATH (install Go 1.26+, or set KUBEBUILDER_ASSETS to a directory holding the binaries)`,
    );
  }
  log(`cluster: ${missing.length} binaries to build into ${cacheRoot()}: ${missing.join(", ")}`);
  log("cluster: a cold build takes about 10 minutes on 2 cores; later runs reuse the cache");
  const started = Date.now();
  // One after another, etcd first (it compiles the standard library the others reuse), then
  // Kubernetes' binaries (each reuses the packages compiled for the one before). Building kwok
  // alongside them was tried; it could not be shown faster here (the machine was shared while
  // measuring) and it interleaves the progress lines.
  for (const name of missing) {
    const buildDate =
      upstreamOf(name) === goModules.kubernetes.module
        ? await kubernetesBuildDate(moduleOf(name))
        : "";
    paths[name] = await buildOne(name, buildDate, opts);
  }
  log(`cluster: built ${missing.length} binaries in ${formatDuration(Date.now() - started)}`);
  return { paths, built: missing };
}
