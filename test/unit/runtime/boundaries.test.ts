import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";

const runtimeDir = new URL("../../../src/runtime/", import.meta.url).pathname;

test("src/runtime imports only itself, node built-ins and @kubernetes/client-node", () => {
  const offending: string[] = [];
  for (const file of readdirSync(runtimeDir, { recursive: true, encoding: "utf8" })) {
    if (!file.endsWith(".ts")) continue;
    const text = readFileSync(join(runtimeDir, file), "utf8");
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) {
      const spec = m[1] ?? "";
      const allowed =
        (spec.startsWith("./") && !spec.includes("..")) ||
        spec.startsWith("node:") ||
        spec === "@kubernetes/client-node";
      if (!allowed) offending.push(`${file}: ${spec}`);
    }
  }
  expect(offending).toEqual([]);
});
