// Temporary: writes manifests/policies/ from the rule set (until scripts/generate.ts does).
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { renderPolicyFiles } from "../src/app/policies/index.ts";

const root = resolve(import.meta.dirname, "..");
for (const file of renderPolicyFiles()) {
  const path = resolve(root, file.path);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, file.content);
  console.log(`wrote ${file.path}`);
}
