import { describe, expect, test } from "vitest";
import { Store } from "../../../src/runtime/store.ts";
import { pod } from "./fake-source.ts";

describe("Store", () => {
  test("replace reports adds, moved versions and vanished objects within scope only", () => {
    const store = new Store();
    store.set(pod("a", "1", {}, "x"));
    store.set(pod("b", "1", {}, "x"));
    store.set(pod("c", "1", {}, "y"));
    const events = store.replace(
      [pod("a", "1", {}, "x"), pod("b", "2", {}, "x"), pod("d", "1", {}, "x")],
      (o) => o.metadata?.namespace === "x",
    );
    expect(events.map((e) => `${e.type}:${e.object.metadata?.name}`)).toEqual([
      "update:b",
      "add:d",
    ]);
    const again = store.replace([pod("b", "2", {}, "x")], (o) => o.metadata?.namespace === "x");
    expect(again.map((e) => `${e.type}:${e.object.metadata?.name}`).sort()).toEqual([
      "delete:a",
      "delete:d",
    ]);
    expect(store.keys().sort()).toEqual(["x/b", "y/c"]);
  });

  test("indexes follow sets and deletes", () => {
    const store = new Store().addIndex(
      "secret",
      (o) => (o.spec as { secrets?: string[] } | undefined)?.secrets ?? [],
    );
    store.set(pod("a", "1", { spec: { secrets: ["s1", "s2"] } }));
    store.set(pod("b", "1", { spec: { secrets: ["s2"] } }));
    expect(
      store
        .byIndex("secret", "s2")
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(["a", "b"]);
    store.set(pod("a", "2", { spec: { secrets: ["s1"] } }));
    expect(store.byIndex("secret", "s2").map((o) => o.metadata?.name)).toEqual(["b"]);
    store.delete("ns/b");
    expect(store.byIndex("secret", "s2")).toEqual([]);
    expect(() => store.byIndex("missing", "x")).toThrow(/no index/);
  });

  test("lists by namespace", () => {
    const store = new Store();
    store.set(pod("a", "1", {}, "x"));
    store.set(pod("b", "1", {}, "y"));
    expect(store.list("y").map((o) => o.metadata?.name)).toEqual(["b"]);
    expect(store.list()).toHaveLength(2);
  });

  test("an index function that throws on one object leaves that object out of the index, stores it, and reports it", () => {
    const errors: string[] = [];
    const store = new Store({
      onIndexError: (index, key, error) => errors.push(`${index} ${key} ${String(error)}`),
    }).addIndex("secret", (o) => {
      const secrets = (o.spec as { secrets?: unknown } | undefined)?.secrets;
      if (!Array.isArray(secrets)) throw new TypeError("secrets is not a list");
      return secrets as string[];
    });
    store.set(pod("a", "1", { spec: { secrets: ["s1"] } }));
    expect(() => store.set(pod("b", "1", { spec: { secrets: "s1" } }))).not.toThrow();
    expect(store.get("ns/b")).toBeDefined();
    expect(store.byIndex("secret", "s1").map((o) => o.metadata?.name)).toEqual(["a"]);
    expect(errors).toEqual(["secret ns/b TypeError: secrets is not a list"]);
    // Replacing and deleting it uses the values it was indexed under, so neither throws again.
    store.set(pod("b", "2", { spec: { secrets: ["s1"] } }));
    expect(
      store
        .byIndex("secret", "s1")
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(["a", "b"]);
    store.set(pod("a", "2", { spec: {} }));
    expect(store.byIndex("secret", "s1").map((o) => o.metadata?.name)).toEqual(["b"]);
    expect(store.delete("ns/a")).toBeDefined();
    expect(errors).toHaveLength(2);
  });
});
