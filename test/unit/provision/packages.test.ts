// The provisioning list against what the code spawns: a new system command cannot be used
// without being provisioned (tools/provision/packages.ts), and the messages name the fix.

import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { binaryNames } from "../../../tools/cluster/versions.ts";
import { purposesOf, systemPackages } from "../../../tools/provision/packages.ts";
import {
  ensurePackages,
  installCommand,
  missingMessage,
  packagesFor,
  systemCommand,
} from "../../../tools/provision/provision.ts";

const root = resolve(import.meta.dirname, "../../..");

/** Commands that are not system packages of ours: the toolchain a checkout needs, and Essential Debian tools. */
const notProvisioned = new Map<string, string>([
  ["node", "the project's Node (the `node` devDependency)"],
  ["npm", "comes with Node"],
  ["go", "the Go toolchain, a prerequisite (README: the machine)"],
  ["git", "a checkout's own tool"],
  ["sh", "Essential: dash"],
  ["bash", "Essential: bash"],
  ["tar", "Essential: tar"],
  ["chmod", "Essential: coreutils"],
  ["getconf", "Essential: libc-bin"],
  ["mount", "Essential: mount"],
  ["umount", "Essential: mount"],
  ["apt-get", "the installer itself"],
  ["docker", "a Docker user's own engine (`npm run image:build` with Docker)"],
  ...binaryNames.map((b): [string, string] => [b, "built by tools/cluster (versions.ts)"]),
]);

/**
 * Spawn sites whose command is a variable that passes through what its callers chose (the
 * callers are scanned), or the running Node.
 */
const passThrough = new Set([
  "process.execPath",
  "options.node ?? process.execPath",
  "node", // test/integration/install/entrypoint.test.ts: the project's node binary
  "cmd", // tools/cluster/binaries.ts run(cmd, …): called with literals
  "command", // the resolved path of a literal passed to systemCommand()
  "this.spec.command", // tools/cluster/proc.ts: component binaries and systemCommand() paths
  "path", // tools/cluster/node.ts essential(): called with literals
  "binary", // test/integration/install/kubectl.ts runTool(): built binaries (kubectl, helm)
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

type Use = { command: string; at: string };

/**
 * Every command the code spawns: the first argument of spawn/execFile calls (a literal, or a
 * constant whose initializer ends in a literal, as `process.env.LUA ?? "lua5.1"`), and the
 * literal of every `systemCommand("…")` and helper `run("…", …)` call.
 */
function spawnedCommands(): { uses: Use[]; unresolved: Use[] } {
  const uses: Use[] = [];
  const unresolved: Use[] = [];
  const direct = /\b(?:spawn|spawnSync|execFile|execFileSync|execFileAsync|execSync)\(\s*([^,)]+)/g;
  const helpers = /\b(?:systemCommand|findCommand|essential|sys|run|runLogged)\(\s*"([^"]+)"/g;
  for (const file of ["src", "test", "tools", "scripts", "bench", "examples"].flatMap((d) =>
    sourceFiles(join(root, d)),
  )) {
    if (file === import.meta.filename) continue; // its own patterns are not spawns
    const text = readFileSync(file, "utf8");
    const at = (index: number) =>
      `${relative(root, file)}:${text.slice(0, index).split("\n").length}`;
    for (const m of text.matchAll(direct)) {
      const arg = (m[1] ?? "").trim();
      const literal = /^"([^"]+)"$/.exec(arg)?.[1];
      if (literal !== undefined) {
        uses.push({ command: literal, at: at(m.index) });
        continue;
      }
      if (passThrough.has(arg) || arg.startsWith("systemCommand(")) continue;
      // A local locator function (`promtool()`): a binary tools/cluster builds, not a package.
      const locator = /^(\w+)\(\)?$/.exec(arg)?.[1];
      if (
        locator !== undefined &&
        new RegExp(`function ${locator}\\(\\)[^{]*\\{[^}]*\\blocateBinary\\(`).test(text)
      )
        continue;
      const constant = new RegExp(
        `\\bconst ${arg.replace(/[$.*+?^()[\]{}|\\]/g, "\\$&")}\\s*=([^;]*);`,
      ).exec(text);
      const last = constant
        ? [...(constant[1] ?? "").matchAll(/"([^"]+)"/g)].at(-1)?.[1]
        : undefined;
      if (last !== undefined) uses.push({ command: last, at: at(m.index) });
      else unresolved.push({ command: arg, at: at(m.index) });
    }
    for (const m of text.matchAll(helpers)) {
      uses.push({ command: m[1] ?? "", at: at(m.index) });
    }
  }
  return { uses, unresolved };
}

describe("system packages", () => {
  const provided = new Set(systemPackages.flatMap((p) => p.provides));
  const { uses, unresolved } = spawnedCommands();

  test("the scan finds the commands the suites are known to spawn", () => {
    const found = new Set(uses.map((u) => u.command));
    for (const command of ["redis-server", "lua5.1", "openssl", "go"]) {
      expect(found, `${command} is spawned somewhere`).toContain(command);
    }
  });

  test("every spawned command is provisioned (or is the toolchain / an Essential tool)", () => {
    const unprovisioned = uses
      .filter((u) => !u.command.startsWith("/") && !u.command.includes("/"))
      .filter((u) => !provided.has(u.command) && !notProvisioned.has(u.command))
      .map((u) => `${u.command} (${u.at})`);
    expect(unprovisioned, "add them to tools/provision/packages.ts").toEqual([]);
  });

  test("every spawn site's command can be read by this scan", () => {
    expect(
      unresolved.map((u) => `${u.command} (${u.at})`),
      "spawn a literal, a constant, or systemCommand(literal)",
    ).toEqual([]);
  });

  test("every package serves a purpose some consumer asks for, and `npm test` asks for all", () => {
    const asked = new Set(Object.values(purposesOf).flat());
    for (const p of systemPackages) {
      expect(
        p.for.some((f) => asked.has(f)),
        p.deb,
      ).toBe(true);
    }
    expect(packagesFor(purposesOf.test)).toEqual(systemPackages);
  });

  test("the missing-packages message names every package, why, and one install command", () => {
    const missing = packagesFor(["integration", "unit"]);
    const message = missingMessage(missing);
    expect(message).toContain("lua5.1 (runs the Argo CD health check");
    expect(message).toContain("redis-server (the session-counter");
    expect(message).toContain(
      "sudo apt-get update && sudo apt-get install -y --no-install-recommends lua5.1 redis-server",
    );
    expect(installCommand(missing)).toMatch(/lua5\.1 redis-server$/);
  });

  test("a missing package that may not be installed stops at once, naming it and the fix", () => {
    const lines: string[] = [];
    const absent = {
      deb: "stateless-operator-absent",
      provides: ["/nonexistent/absent-command", "sh"],
      for: ["unit" as const],
      why: "a test",
    };
    expect(() => ensurePackages([absent], { install: false, log: (l) => lines.push(l) })).toThrow(
      "missing system packages: stateless-operator-absent (a test). Install them with: sudo apt-get update && sudo apt-get install -y --no-install-recommends stateless-operator-absent",
    );
    expect(lines).toEqual([]);
    // Present packages are not touched: no line, no install.
    ensurePackages(packagesFor(["unit"]), { install: false, log: (l) => lines.push(l) });
    expect(lines).toEqual([]);
  });

  test("systemCommand resolves a provisioned command and refuses one that is not listed", () => {
    expect(systemCommand("lua5.1")).toMatch(/^\/.*\/lua5\.1$/);
    expect(() => systemCommand("cowsay")).toThrow("cowsay is not in tools/provision/packages.ts");
  });
});
