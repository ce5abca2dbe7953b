// Lints the Dockerfile for the image rules the project holds (hadolint is not packaged here) and checks it against the install.

import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import pkg from "../../../package.json" with { type: "json" };
import { installObjects, NAME } from "../../../scripts/install/index.ts";
import { OPERATOR_NODE_FLAGS } from "../../../src/platform/node-flags.ts";

const root = resolve(import.meta.dirname, "../../..");

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** Instructions with continuation lines joined, comments and blank lines dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = "";
  let start = 0;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) return;
    if (pending === "") start = i + 1;
    if (line.startsWith("#")) return;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = "";
    const match = /^(\S+)\s*(.*)$/.exec(full);
    if (match !== null)
      out.push({ keyword: (match[1] ?? "").toUpperCase(), args: match[2] ?? "", line: start });
  });
  return out;
}

function stagesOf(instructions: Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === "FROM") {
      const [from = "", as, name] = ins.args.split(/\s+/);
      stages.push({ from, name: as?.toUpperCase() === "AS" ? name : undefined, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (stage === undefined) throw new Error(`line ${ins.line}: ${ins.keyword} before FROM`);
      stage.instructions.push(ins);
    }
  }
  return stages;
}

const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
const instructions = parseDockerfile(dockerfile);
const stages = stagesOf(instructions);
const runtime = stages.at(-1) as Stage;
const all = (stage: Stage, keyword: string) =>
  stage.instructions.filter((i) => i.keyword === keyword);
const execForm = (args: string): string[] => {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === "string"))
    throw new Error(`not exec form: ${args}`);
  return parsed;
};
const deployment = installObjects().find((o) => o.kind === "Deployment") as {
  spec: {
    template: {
      spec: {
        securityContext: { runAsNonRoot: boolean; runAsUser?: number };
        containers: { args: string[]; ports: { containerPort: number }[] }[];
      };
    };
  };
};
const pod = deployment.spec.template.spec;

describe("Dockerfile", () => {
  test("the parser sees what is there (a guard for the tests below)", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(instructions.some((i) => i.keyword === "RUN" && i.args.includes("npm prune"))).toBe(
      true,
    );
  });

  test("every base image is pinned to an exact version (or digest), never latest", () => {
    for (const stage of stages) {
      if (stages.some((s) => s.name === stage.from)) continue;
      expect(stage.from, stage.from).toMatch(/^[^:@\s]+(:[^:@\s]+)?(@sha256:[0-9a-f]{64})?$/);
      expect(stage.from).not.toMatch(/:latest\b/);
      const tag = /:([^@]+)/.exec(stage.from)?.[1];
      const pinned = stage.from.includes("@sha256:") || /^\d+\.\d+\.\d+(-|$)/.test(tag ?? "");
      expect(pinned, `${stage.from} is not pinned`).toBe(true);
    }
  });

  test("builds and runs on the Node version the project pins and tests with", () => {
    const node = pkg.devDependencies.node;
    for (const stage of stages) expect(stage.from).toMatch(new RegExp(`^node:${node}-`));
    const major = Number(node.split(".")[0]);
    expect(major % 2, "an LTS line (even major)").toBe(0);
    expect(pkg.engines.node).toMatch(/^>=\d+/);
    expect(major).toBeGreaterThanOrEqual(Number(/\d+/.exec(pkg.engines.node)?.[0]));
  });

  test("multi-stage: the runtime copies only dist/, production node_modules and package.json from the build", () => {
    const build = stages[0] as Stage;
    expect(build.name).toBeDefined();
    const runs = all(build, "RUN").map((i) => i.args);
    expect(
      runs.some((r) => /\bnpm ci\b/.test(r)),
      "install from the lock file",
    ).toBe(true);
    expect(runs.join(" ")).not.toMatch(/\bnpm (install|i)\b/);
    expect(runs.some((r) => /tsc -p tsconfig\.build\.json/.test(r))).toBe(true);
    expect(runs.some((r) => /npm prune --omit=dev/.test(r))).toBe(true);
    expect(pkg.scripts.build).toBe("tsc -p tsconfig.build.json");
    const copies = all(runtime, "COPY").map((i) => i.args.split(/\s+/));
    for (const c of copies)
      expect(c[0], "copied from the build stage").toBe(`--from=${build.name}`);
    expect(copies.map((c) => c[1]).sort()).toEqual(
      ["/src/dist", "/src/node_modules", "/src/package.json"].sort(),
    );
    expect(
      all(runtime, "RUN")
        .map((i) => i.args)
        .join(" "),
    ).not.toMatch(/npm (ci|install)/);
  });

  test("no ADD, no download piped into a shell, no sudo, no package upgrade", () => {
    expect(instructions.filter((i) => i.keyword === "ADD")).toEqual([]);
    const runs = instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);
    for (const r of runs) {
      expect(r).not.toMatch(/\b(curl|wget)\b/);
      expect(r).not.toMatch(/\bsudo\b/);
      expect(r).not.toMatch(/apt-get (dist-)?upgrade/);
    }
  });

  test("runs as a numeric non-root user, which the Deployment's runAsNonRoot can verify", () => {
    const users = all(runtime, "USER");
    const last = users.at(-1);
    expect(last, "USER in the runtime stage").toBeDefined();
    const [uid, gid] = (last?.args ?? "").split(":");
    expect(uid).toMatch(/^\d+$/);
    expect(gid).toMatch(/^\d+$/);
    expect(Number(uid)).not.toBe(0);
    // The kubelet checks runAsNonRoot against the image's USER only when it is numeric; the
    // Deployment names no uid of its own.
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeUndefined();
    const entrypoint = runtime.instructions.findIndex((i) => i.keyword === "ENTRYPOINT");
    const userAt = runtime.instructions.indexOf(last as Instruction);
    expect(userAt).toBeLessThan(entrypoint);
  });

  test("ENTRYPOINT is the package's bin in exec form, with the operator's V8 flags; CMD runs the operator; the port matches", () => {
    const entrypoints = all(runtime, "ENTRYPOINT");
    expect(entrypoints.length).toBe(1);
    expect(execForm(entrypoints[0]?.args ?? "")).toEqual([
      "node",
      ...OPERATOR_NODE_FLAGS,
      pkg.bin[NAME],
    ]);
    const cmd = all(runtime, "CMD");
    expect(cmd.length).toBe(1);
    expect(execForm(cmd[0]?.args ?? "")).toEqual(pod.containers[0]?.args);
    expect(all(runtime, "EXPOSE").map((i) => Number(i.args))).toEqual([
      pod.containers[0]?.ports[0]?.containerPort,
    ]);
    expect(all(runtime, "ENV").map((i) => i.args)).toContain("NODE_ENV=production");
  });
});

describe("the image's build information", () => {
  test("the commit build argument becomes dist/build-info.json, which src/platform/build.ts reads", () => {
    const build = stages[0] as Stage;
    expect(all(build, "ARG").map((i) => i.args)).toContain('COMMIT=""');
    const runs = all(build, "RUN").map((i) => i.args);
    expect(runs).toContain(`printf '{"commit":"%s"}\\n' "$COMMIT" > dist/build-info.json`);
  });

  test("the OCI labels name the package's version, the commit and the license", () => {
    const labels = all(runtime, "LABEL")
      .flatMap((i) => [...i.args.matchAll(/([\w.]+)="([^"]*)"/g)])
      .map((m) => [m[1], m[2]]);
    expect(Object.fromEntries(labels)).toEqual({
      "org.opencontainers.image.title": NAME,
      "org.opencontainers.image.version": pkg.version,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own build argument
      "org.opencontainers.image.revision": "${COMMIT}",
      "org.opencontainers.image.licenses": pkg.license,
    });
  });
});

describe(".dockerignore", () => {
  const lines = readFileSync(join(root, ".dockerignore"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));

  test("is an allow-list: everything is excluded, then only what the build copies comes back", () => {
    expect(lines[0]).toBe("*");
    const allowed = lines.slice(1).map((l) => {
      expect(l.startsWith("!"), l).toBe(true);
      return l.slice(1).replace(/\/$/, "");
    });
    const fromContext = instructions
      .filter((i) => i.keyword === "COPY" && !i.args.startsWith("--from"))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
      .map((p) => p.replace(/^\.\//, "").replace(/\/$/, ""));
    expect(fromContext.sort()).toEqual(allowed.sort());
    for (const leak of ["node_modules", "dist", ".git", ".cluster"])
      expect(allowed).not.toContain(leak);
  });
});
