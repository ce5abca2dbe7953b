// Checks the system packages a consumer needs (packages.ts) and installs the missing ones when it
// can (root on Debian), else stops at once naming every missing package and the install command.
//
//   npm run provision [-- test|unit|integration|e2e|node|images]   default: test (everything `npm test` runs)

import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import {
  type Consumer,
  type Purpose,
  purposesOf,
  type SystemPackage,
  systemPackages,
} from "./packages.ts";

/** Directories searched besides PATH: a non-login shell's PATH may lack the sbin ones. */
const extraDirs = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** Whether `path` is a file this process may execute. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of a command (PATH, then the sbin directories), or undefined. */
export function findCommand(command: string): string | undefined {
  if (isAbsolute(command)) return isExecutable(command) ? command : undefined;
  const dirs = [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const path = join(dir, command);
    if (isExecutable(path)) return path;
  }
  return undefined;
}

/**
 * The absolute path of a command one of the system packages provides; throws, naming the
 * package and the fix, when it is missing. Code that spawns a system command resolves it here.
 */
export function systemCommand(command: string): string {
  const pkg = systemPackages.find((p) => p.provides.includes(command));
  if (!pkg) throw new Error(`${command} is not in tools/provision/packages.ts`);
  const path = findCommand(command);
  if (!path) throw new Error(missingMessage([pkg]));
  return path;
}

/** The packages of these purposes, in list order. */
export function packagesFor(purposes: readonly Purpose[]): SystemPackage[] {
  return systemPackages.filter((p) => p.for.some((f) => purposes.includes(f)));
}

/** The command that installs packages on Debian. */
export function installCommand(packages: readonly SystemPackage[]): string {
  const debs = packages.map((p) => p.deb).join(" ");
  return `sudo apt-get update && sudo apt-get install -y --no-install-recommends ${debs}`;
}

/** One message naming every missing package, why it is needed, and how to install them. */
export function missingMessage(packages: readonly SystemPackage[]): string {
  const list = packages.map((p) => `${p.deb} (${p.why})`).join("; ");
  return `missing system packages: ${list}. Install them with: ${installCommand(packages)}`;
}

/** Whether this process may install packages itself: root with apt-get. */
function canInstall(): boolean {
  return process.getuid?.() === 0 && findCommand("apt-get") !== undefined;
}

/** Runs apt-get quietly; on failure, throws with its output. */
function aptGet(args: string[]): void {
  const result = spawnSync(
    "apt-get",
    // Another apt run (a second test project's setup) holds the lock: wait for it.
    ["-o", "DPkg::Lock::Timeout=300", "-o", "Acquire::Retries=3", "-qq", ...args],
    { encoding: "utf8", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } },
  );
  if (result.error || result.status !== 0) {
    throw new Error(
      `apt-get ${args.join(" ")} failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stdout}${result.stderr}`,
    );
  }
}

/** Options of provision(). */
export type ProvisionOptions = {
  /** The line saying what is installed. @default console.error */
  log?: (line: string) => void;
  /** Whether to install what is missing. @default root with apt-get */
  install?: boolean;
};

/**
 * Makes sure the system packages of `consumer` are installed: nothing happens when they are;
 * missing ones are installed (one line says which) when this process is root on Debian;
 * otherwise it throws one error naming every missing package and the command to install them.
 */
export function provision(consumer: Consumer, opts: ProvisionOptions = {}): void {
  ensurePackages(packagesFor(purposesOf[consumer]), opts);
}

/** provision() for an explicit list. */
export function ensurePackages(
  packages: readonly SystemPackage[],
  opts: ProvisionOptions = {},
): void {
  const log = opts.log ?? ((line: string) => console.error(line));
  const isMissing = (p: SystemPackage) => !p.provides.every((c) => findCommand(c));
  const missing = packages.filter(isMissing);
  if (missing.length === 0) return;
  if (!(opts.install ?? canInstall())) throw new Error(missingMessage(missing));
  const debs = missing.map((p) => p.deb);
  log(`provision: installing ${debs.join(", ")} (apt-get install --no-install-recommends)`);
  aptGet(["update"]);
  aptGet(["install", "-y", "--no-install-recommends", ...debs]);
  const still = packages.filter(isMissing);
  if (still.length > 0) throw new Error(`installed, yet still missing: ${missingMessage(still)}`);
}

if (import.meta.main) {
  const consumer = (process.argv[2] ?? "test") as Consumer;
  if (!(consumer in purposesOf)) {
    console.error(
      `usage: node tools/provision/provision.ts [${Object.keys(purposesOf).join("|")}]`,
    );
    process.exit(2);
  }
  try {
    provision(consumer);
  } catch (err) {
    console.error(`provision: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
