// `npm run generate`: writes every generated file; `--check` only reports the stale ones.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { generatedFiles } from "./generated.ts";

const root = resolve(import.meta.dirname, "..");
const check = process.argv.includes("--check");
let stale = 0;
for (const file of generatedFiles) {
  const path = resolve(root, file.path);
  const content = file.render();
  const current = await readFile(path, "utf8").catch(() => undefined);
  if (current === content) continue;
  if (check) {
    stale++;
    console.error(`stale: ${file.path} (run npm run generate)`);
  } else {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
    console.log(`wrote ${file.path}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
