// Compiles src/ into this run's directory, so the operator runs as it ships (`node dist/cli/main.js`).
import { spawn } from "node:child_process";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, RUN_DIR } from "./env.ts";

/** The Node arguments that run the compiled CLI. */
export async function compileOperator(): Promise<string[]> {
  const outDir = join(RUN_DIR, "operator-dist");
  const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
  const child = spawn(
    process.execPath,
    [tsc, "-p", join(REPO_ROOT, "tsconfig.build.json"), "--outDir", outDir, "--sourceMap", "false"],
    { cwd: REPO_ROOT, stdio: "inherit" },
  );
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
  if (code !== 0) throw new Error(`compiling the operator failed (tsc exit ${code})`);
  // Where dist/ has it in a package: the build info (its version) is read from ../package.json.
  copyFileSync(join(REPO_ROOT, "package.json"), join(RUN_DIR, "package.json"));
  return [join(outDir, "cli", "main.js")];
}

/** The Node arguments that run the CLI from source (type stripping), as `npm start` does. */
export const sourceCommand = (): string[] => [join(REPO_ROOT, "src", "cli", "main.ts")];
