import { describe, expect, test } from "vitest";
import { readManifest, resolveYaml11 } from "../../../src/cli/yaml.ts";

describe("readManifest reads YAML as kubectl does, or refuses naming the line", () => {
  test.each<[string, string, number]>([
    ["yes, a string in YAML 1.2, true to kubectl", "a: 1\nb: yes\n", 2],
    ["on", "a: on\n", 1],
    ["n", "- n\n", 1],
    ["0b101", "a: 0b101\n", 1],
    ["1_000", "a: 1_000\n", 1],
    ["012, octal to kubectl", "a: 012\n", 1],
    ["0X1F", "a: 0X1F\n", 1],
    ["+0x1F", "a: +0x1F\n", 1],
    ["1e400, a string to kubectl and Infinity in YAML 1.2", "a: 1e400\n", 1],
    ["a yes key", "yes: 1\n", 1],
    ["a null key", "~: 1\n", 1],
    ["a merge key", "a: &x {b: 1}\nc:\n  <<: *x\n", 3],
    ["an explicit tag", "a: !!int 5\n", 1],
    ["a NEL line break", "a: 1\nb: x\u0085y\n", 2],
    ["an LS line break", "a: x\u2028y\n", 1],
    ["the YAML 1.2 escape \\/", 'a: "x\\/y"\n', 1],
    ["a raw DEL, which go-yaml refuses", 'a: 1\nb: "x\u007fy"\n', 2],
    ["a raw C1 control", "a: x\u0090\n", 1],
    ["U+FFFE", "a: \ufffe\n", 1],
    ["a repeated key", "a: 1\na: 2\n", 2],
  ])("refuses %s", (_, text, line) => {
    const manifest = readManifest(text);
    expect(manifest.error?.line, JSON.stringify(manifest)).toBe(line);
    expect(manifest.error?.message).toMatch(/\S/);
  });

  test.each<[string, string, unknown]>([
    ["quoted yes", "a: 'yes'\n", { a: "yes" }],
    ["!!str 0b1", "a: !!str 0b1\n", { a: "0b1" }],
    ["true and True", "a: true\nb: True\n", { a: true, b: true }],
    ["null and ~", "a: null\nb: ~\nc:\n", { a: null, b: null, c: null }],
    ["0x1F and 0o17", "a: 0x1F\nb: 0o17\n", { a: 31, b: 15 }],
    ["08 (not octal)", "a: 08\n", { a: 8 }],
    ["1e3 and .5", "a: 1e3\nb: .5\n", { a: 1000, b: 0.5 }],
    ["a timestamp, a string to both", "a: 2001-12-14\n", { a: "2001-12-14" }],
    ["1:30, a string to both", "a: 1:30\n", { a: "1:30" }],
    ["astral characters and a BOM inside text", "a: 😀\ufeff\n", { a: "😀\ufeff" }],
    ["JSON, decoded as JSON (the last of a repeated key wins)", '{"a": 1, "a": 2}', { a: 2 }],
  ])("reads %s", (_, text, value) => {
    expect(readManifest(text)).toEqual({ documents: [value] });
  });

  test("leaves out empty documents, as kubectl does", () => {
    expect(readManifest("---\n---\na: 1\n---\n").documents).toEqual([{ a: 1 }]);
  });
});

test.each<[string, unknown]>([
  ["yes", true],
  ["Off", false],
  ["~", null],
  ["012", 10n],
  ["-0b11", -3n],
  ["1_000", 1000n],
  ["9223372036854775808", 9223372036854775808n],
  ["99999999999999999999", 1e20],
  ["1.5_0", 1.5],
  ["1e400", "1e400"],
  [".inf", Number.POSITIVE_INFINITY],
  ["x", "x"],
])("resolveYaml11(%j) is what go-yaml v2 reads", (plain, value) => {
  expect(resolveYaml11(plain)).toEqual(value);
});
