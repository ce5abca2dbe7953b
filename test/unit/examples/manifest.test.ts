// The session-counter manifest is a valid StatelessApp whose sample Secret normalizes to a usable binding.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { parseAllDocuments } from "yaml";
import { parseStatelessApp } from "../../../src/api/index.ts";
import { bindingSecretName, normalizeBinding } from "../../../src/app/bindings/index.ts";

const MANIFEST = new URL("../../../examples/session-counter/statelessapp.yaml", import.meta.url);

interface Doc {
  kind?: string;
  metadata?: { name?: string };
  stringData?: Record<string, string>;
}

const docs = parseAllDocuments(readFileSync(MANIFEST, "utf8")).map((d) => d.toJS() as Doc);

describe("examples/session-counter/statelessapp.yaml", () => {
  test("holds a StatelessApp that passes the schema, with a web process and a sessions binding", () => {
    const parsed = parseStatelessApp(docs.find((d) => d.kind === "StatelessApp"));
    expect(parsed.ok ? [] : parsed.error).toEqual([]);
    if (!parsed.ok) return;
    expect(parsed.value.spec.processes.map((p) => p.name)).toEqual(["web"]);
    expect(parsed.value.spec.backingServices).toEqual([
      { name: "sessions", type: "redis", secretRef: { name: "session-counter-redis" } },
    ]);
  });

  test("its sample Secret normalizes to the binding the app reads", () => {
    const app = parseStatelessApp(docs.find((d) => d.kind === "StatelessApp"));
    const binding = app.ok ? app.value.spec.backingServices?.[0] : undefined;
    if (binding === undefined) throw new Error("no binding in the manifest");
    const secretName = bindingSecretName(binding, undefined);
    if (!secretName.ok) throw new Error(secretName.error.message);
    const secret = docs.find((d) => d.kind === "Secret" && d.metadata?.name === secretName.value);
    // The apiserver turns stringData into base64 data; do the same.
    const data = Object.fromEntries(
      Object.entries(secret?.stringData ?? {}).map(([k, v]) => [
        k,
        Buffer.from(v).toString("base64"),
      ]),
    );
    const normalized = normalizeBinding(binding, secret && { data }, {
      secretName: secretName.value,
    });
    expect(normalized.ok && normalized.value.entries.uri).toBe(
      "redis://:change-me@redis-master.demo.svc.cluster.local:6379",
    );
  });
});
