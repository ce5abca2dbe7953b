import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { expect, test } from "vitest";
import { generatedFiles } from "../../scripts/generated.ts";

const root = resolve(import.meta.dirname, "../..");

test.each(generatedFiles.map((f) => [f.path, f] as const))(
  "%s is current (run npm run generate)",
  async (_, file) => {
    const committed = await readFile(resolve(root, file.path), "utf8");
    expect(committed === file.render(), `${file.path} is stale: run npm run generate`).toBe(true);
  },
);
