// Expands `-f` arguments into the files to read: directories are walked for YAML and JSON.
import { readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";

const MANIFEST = /\.(ya?ml|json)$/i;

export interface Expanded {
  readonly files: string[];
  /** Paths that could not be read, with the reason. */
  readonly unreadable: { readonly file: string; readonly message: string }[];
  /** Things skipped on purpose, for stderr. */
  readonly notes: string[];
}

/**
 * Files named explicitly are read whatever their extension; directories contribute their
 * `.yaml`, `.yml` and `.json` files, recursively, in name order. Hidden directories and
 * node_modules are skipped, and so are Helm charts' `templates/` (they are not YAML until
 * rendered: pipe `helm template` into `audit -f -`).
 */
export async function expandInputs(inputs: readonly string[]): Promise<Expanded> {
  const out: Expanded = { files: [], unreadable: [], notes: [] };
  const seen = new Set<string>();
  for (const input of inputs) {
    if (input === "-") {
      out.files.push(input);
      continue;
    }
    try {
      const info = await stat(input);
      if (info.isDirectory()) await walk(input, out, seen);
      else out.files.push(input);
    } catch (error) {
      out.unreadable.push({ file: input, message: describeError(error) });
    }
  }
  return out;
}

async function walk(dir: string, out: Expanded, seen: Set<string>): Promise<void> {
  const real = await realpath(dir);
  if (seen.has(real)) return; // a symlink loop
  seen.add(real);
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  );
  const isChart = entries.some((e) => e.name === "Chart.yaml");
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const isDir = entry.isDirectory() || (entry.isSymbolicLink() && (await isDirectory(path)));
    if (isDir) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      if (isChart && entry.name === "templates") {
        out.notes.push(`skipped ${path}: Helm templates; audit \`helm template\` output instead`);
        continue;
      }
      await walk(path, out, seen);
    } else if (MANIFEST.test(entry.name)) {
      out.files.push(path);
    }
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

export function describeError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES") return "permission denied";
  return error instanceof Error ? error.message : String(error);
}
