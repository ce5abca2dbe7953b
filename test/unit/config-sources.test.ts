import { describe, expect, test } from "vitest";
import {
  configHash,
  configSourcesOf,
  DIGEST_FIELD,
  dataDigest,
  digestConfigMap,
} from "../../src/app/config-sources.ts";
import { appsForConfigMap, configMapsReadBy, secretsBoundBy } from "../../src/app/watches.ts";
import { Store } from "../../src/runtime/index.ts";

const spec = {
  envFrom: [{ configMapRef: { name: "shared" } }, { secretRef: { name: "token" } }],
  config: [
    { name: "a", mountPath: "/etc/a", configMap: { name: "files" } },
    { name: "b", mountPath: "/etc/b", secret: { name: "token" } },
  ],
  processes: [{ name: "web", envFrom: [{ configMapRef: { name: "web" } }] }],
};

describe("config sources", () => {
  test("every ConfigMap and Secret envFrom and config name, each once, sorted", () => {
    expect(configSourcesOf(spec)).toEqual([
      { kind: "ConfigMap", name: "files" },
      { kind: "ConfigMap", name: "shared" },
      { kind: "ConfigMap", name: "web" },
      { kind: "Secret", name: "token" },
    ]);
  });

  test("an invalid spec in the cache names what it can and never throws", () => {
    expect(configSourcesOf({ envFrom: "x", config: [null, { configMap: { name: 3 } }] })).toEqual(
      [],
    );
    expect(configSourcesOf(undefined)).toEqual([]);
  });

  test("the apps cache indexes them, and a ConfigMap event finds its apps", () => {
    const app = { metadata: { name: "shop", namespace: "ns" }, spec };
    expect(configMapsReadBy(app)).toEqual(["ns/files", "ns/shared", "ns/web"]);
    expect(secretsBoundBy(app)).toEqual(["ns/token"]);
    const apps = new Store().addIndex("config-map", configMapsReadBy);
    apps.set(app);
    expect(appsForConfigMap({ metadata: { name: "web", namespace: "ns" } }, apps)).toEqual([
      "ns/shop",
    ]);
    expect(appsForConfigMap({ metadata: { name: "web", namespace: "other" } }, apps)).toEqual([]);
  });

  test("the ConfigMap cache keeps a digest in place of the data", () => {
    const kept = digestConfigMap({
      metadata: { name: "c" },
      data: { k: "v" },
      binaryData: { b: "AA==" },
    });
    expect(kept.data).toBeUndefined();
    expect(kept.binaryData).toBeUndefined();
    expect(kept[DIGEST_FIELD]).toBe(dataDigest({ data: { k: "v" }, binaryData: { b: "AA==" } }));
  });

  test("the digest depends on the data, not on key order", () => {
    expect(dataDigest({ data: { a: "1", b: "2" } })).toBe(dataDigest({ data: { b: "2", a: "1" } }));
    expect(dataDigest({ data: { a: "1" } })).not.toBe(dataDigest({ data: { a: "2" } }));
    expect(dataDigest({ data: { a: "1" } })).not.toBe(dataDigest({ binaryData: { a: "1" } }));
  });

  test("the hash changes with any source's digest or presence; none without sources", () => {
    const sources = configSourcesOf(spec);
    const h = (d: Record<string, string | undefined>) => configHash(sources, (s) => d[s.name]);
    const base = h({ files: "1", shared: "2", web: "3", token: "4" });
    expect(base).toMatch(/^[0-9a-f]{16}$/);
    expect(h({ files: "1", shared: "2", web: "3", token: "4" })).toBe(base);
    expect(h({ files: "1", shared: "2", web: "3", token: "5" })).not.toBe(base);
    expect(h({ files: "1", shared: "2", web: "3" })).not.toBe(base);
    expect(configHash([], () => "x")).toBeUndefined();
  });
});
