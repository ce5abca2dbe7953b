import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { StringInterner, shareStrings } from "../../../src/runtime/intern.ts";
import { cacheForm, jsonEqual, LAST_APPLIED_ANNOTATION } from "../../../src/runtime/object.ts";

describe("StringInterner", () => {
  test("hands out the first copy of equal strings", () => {
    const interner = new StringInterner();
    const a = ["stateless", "operator"].join("-");
    const b = ["stateless", "operator"].join("-");
    expect(interner.intern(a)).toBe(a);
    expect(interner.intern(b)).toBe(a);
  });

  test("holds at most twice its capacity, and keeps what is looked up again", () => {
    const interner = new StringInterner(4);
    const hot = "app.kubernetes.io/managed-by";
    for (let i = 0; i < 100; i++) {
      interner.intern(hot);
      interner.intern(`uid-${i}`);
      expect(interner.size).toBeLessThanOrEqual(8);
    }
    expect(interner.intern(["app.kubernetes.io", "managed-by"].join("/"))).toBe(hot);
  });
});

describe("shareStrings", () => {
  test("changes no value (JSON in, equal JSON out)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 1, max: 8 }), (value, capacity) => {
        const copy = structuredClone(value);
        expect(jsonEqual(shareStrings(value, new StringInterner(capacity)), copy)).toBe(true);
      }),
    );
  });

  test("shares short strings and field-set texts across objects, not long ones", () => {
    const interner = new StringInterner();
    const long = "x".repeat(100);
    const parse = () =>
      JSON.parse(
        JSON.stringify({
          metadata: { labels: { app: "web" }, managedFields: [{ fieldsV1: long }] },
          data: { cert: long },
        }),
      );
    const [a, b] = [shareStrings(parse(), interner), shareStrings(parse(), interner)];
    // V8 gives no identity for strings; a shared copy is what the interner hands out for a new one.
    expect(interner.intern(["w", "eb"].join(""))).toBe(a.metadata.labels.app);
    expect(interner.intern("x".repeat(100))).toBe(b.metadata.managedFields[0].fieldsV1);
    expect(interner.size).toBe(2);
  });

  test("leaves frozen parts alone", () => {
    const frozen = Object.freeze({ a: "b", list: Object.freeze(["c"]) });
    expect(() => shareStrings({ frozen }, new StringInterner())).not.toThrow();
  });
});

describe("cacheForm", () => {
  test("drops the last-applied annotation and the managedFields of others, keeps the rest", () => {
    const obj = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "s",
        annotations: { [LAST_APPLIED_ANNOTATION]: '{"data":{"password":"c2VjcmV0"}}', team: "a" },
        managedFields: [
          { manager: "kubectl", operation: "Update", fieldsV1: { "f:data": {} } },
          { manager: "stateless-operator", operation: "Apply", fieldsV1: { "f:type": {} } },
        ],
      },
      type: "Opaque",
    };
    expect(cacheForm(obj, ["stateless-operator"])).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "s",
        annotations: { team: "a" },
        managedFields: [
          { manager: "stateless-operator", operation: "Apply", fieldsV1: '{"f:type":{}}' },
        ],
      },
      type: "Opaque",
    });
    const onlyLastApplied = {
      metadata: { name: "s", annotations: { [LAST_APPLIED_ANNOTATION]: "{}" } },
    };
    expect(cacheForm(onlyLastApplied)).toEqual({ metadata: { name: "s" } });
    const nothing = { metadata: { name: "s", annotations: { team: "a" } } };
    expect(cacheForm(nothing)).toBe(nothing);
  });
});
