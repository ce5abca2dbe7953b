import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { bindingsHash, type NormalizedBinding } from "../../../src/app/bindings/index.ts";

const sessions: NormalizedBinding = {
  name: "sessions",
  type: "redis",
  entries: { type: "redis", host: "r", port: "6379", password: "a", uri: "redis://:a@r:6379" },
};
const cache: NormalizedBinding = {
  name: "cache",
  type: "memcached",
  entries: {
    type: "memcached",
    host: "m",
    port: "11211",
    uri: "memcached://m:11211",
    servers: "m:11211",
  },
};

describe("bindingsHash", () => {
  test("is 16 lowercase hex characters, pinned for known inputs", () => {
    // Pinned: a change here rolls every pod of every bound app on upgrade; make it on purpose only.
    expect(bindingsHash([sessions])).toBe("2e2b3953e8a6951f");
    expect(bindingsHash([])).toBe("4f53cda18c2baa0c");
  });

  test("does not depend on binding order or entry order", () => {
    const reordered: NormalizedBinding = {
      ...sessions,
      entries: Object.fromEntries(Object.entries(sessions.entries).reverse()),
    };
    expect(bindingsHash([sessions, cache])).toBe(bindingsHash([cache, reordered]));
  });

  test.each<{ change: string; changed: NormalizedBinding }>([
    {
      change: "rotated password",
      changed: { ...sessions, entries: { ...sessions.entries, password: "b" } },
    },
    {
      change: "new entry",
      changed: { ...sessions, entries: { ...sessions.entries, database: "1" } },
    },
    { change: "renamed binding", changed: { ...sessions, name: "sessions2" } },
    {
      change: "removed entry",
      changed: {
        ...sessions,
        entries: { type: "redis", host: "r", port: "6379", uri: "redis://r:6379" },
      },
    },
  ])("changes with a $change", ({ changed }) => {
    expect(bindingsHash([changed, cache])).not.toBe(bindingsHash([sessions, cache]));
  });

  test("entries cannot collide by shifting text between key and value", () => {
    const a: NormalizedBinding = { name: "x", type: "redis", entries: { ab: "c" } };
    const b: NormalizedBinding = { name: "x", type: "redis", entries: { a: "bc" } };
    expect(bindingsHash([a])).not.toBe(bindingsHash([b]));
  });

  test("equal data, equal hash; different data, different hash", () => {
    const entries = fc.dictionary(fc.string({ minLength: 1 }), fc.string());
    fc.assert(
      fc.property(entries, entries, (x, y) => {
        const hx = bindingsHash([{ name: "b", type: "redis", entries: x }]);
        const hy = bindingsHash([{ name: "b", type: "redis", entries: y }]);
        const same =
          JSON.stringify(Object.entries(x).sort()) === JSON.stringify(Object.entries(y).sort());
        expect(hx === hy).toBe(same);
      }),
    );
  });
});
