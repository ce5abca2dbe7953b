import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  formatServiceUri,
  parseServiceUri,
  percentEncode,
  type ServiceUri,
} from "../../../src/app/bindings/index.ts";

describe("formatServiceUri", () => {
  test.each<{ name: string; uri: ServiceUri; want: string }>([
    {
      name: "password only: empty username before the colon",
      uri: { type: "redis", tls: false, password: "pw", endpoints: [{ host: "r", port: 6379 }] },
      want: "redis://:pw@r:6379",
    },
    {
      name: "username only",
      uri: { type: "redis", tls: false, username: "app", endpoints: [{ host: "r", port: 6379 }] },
      want: "redis://app@r:6379",
    },
    {
      name: "TLS and database",
      uri: {
        type: "redis",
        tls: true,
        username: "u",
        password: "p",
        endpoints: [{ host: "r", port: 6380 }],
        database: 15,
      },
      want: "rediss://u:p@r:6380/15",
    },
    {
      name: "database 0 is kept",
      uri: { type: "redis", tls: false, endpoints: [{ host: "r", port: 1 }], database: 0 },
      want: "redis://r:1/0",
    },
    {
      name: "IPv6 in brackets",
      uri: { type: "redis", tls: false, endpoints: [{ host: "2001:db8::7", port: 6379 }] },
      want: "redis://[2001:db8::7]:6379",
    },
    {
      name: "memcached servers",
      uri: {
        type: "memcached",
        tls: true,
        endpoints: [
          { host: "a", port: 1 },
          { host: "::1", port: 2 },
        ],
      },
      want: "memcached://a:1,[::1]:2",
    },
  ])("$name", ({ uri, want }) => {
    expect(formatServiceUri(uri)).toBe(want);
  });

  test.each([
    { password: "p@ss", encoded: "p%40ss" },
    { password: "a:b", encoded: "a%3Ab" },
    { password: "a/b?c#d", encoded: "a%2Fb%3Fc%23d" },
    { password: "100%", encoded: "100%25" },
    { password: "with space", encoded: "with%20space" },
    { password: "ünï©ødé", encoded: "%C3%BCn%C3%AF%C2%A9%C3%B8d%C3%A9" },
    { password: "🔑", encoded: "%F0%9F%94%91" },
    { password: "!*'()", encoded: "%21%2A%27%28%29" },
    { password: "safe-._~", encoded: "safe-._~" },
  ])("encodes $password in a password", ({ password, encoded }) => {
    const uri = formatServiceUri({
      type: "redis",
      tls: false,
      username: "us@r",
      password,
      endpoints: [{ host: "r", port: 6379 }],
    });
    expect(uri).toBe(`redis://us%40r:${encoded}@r:6379`);
  });

  test("never throws on a lone surrogate", () => {
    expect(percentEncode("\uD800")).toBe("%EF%BF%BD");
  });
});

describe("parseServiceUri", () => {
  test.each<{ text: string; want: ServiceUri }>([
    {
      text: "redis://r",
      want: { type: "redis", tls: false, endpoints: [{ host: "r", port: 6379 }] },
    },
    {
      text: "REDISS://u:p@R.example:6380/2?protocol=3#x",
      want: {
        type: "redis",
        tls: true,
        username: "u",
        password: "p",
        endpoints: [{ host: "R.example", port: 6380 }],
        database: 2,
      },
    },
    {
      text: "redis://:p@ss/w#rd@r:1/",
      want: {
        type: "redis",
        tls: false,
        password: "p@ss/w#rd",
        endpoints: [{ host: "r", port: 1 }],
      },
    },
    {
      text: "redis://:%F0%9F%94%91@[::ffff:10.0.0.1]",
      want: {
        type: "redis",
        tls: false,
        password: "🔑",
        endpoints: [{ host: "::ffff:10.0.0.1", port: 6379 }],
      },
    },
    {
      text: "valkeys://v",
      want: { type: "redis", tls: true, endpoints: [{ host: "v", port: 6379 }] },
    },
    {
      text: "memcached://a:1,[fd00::1]",
      want: {
        type: "memcached",
        tls: false,
        endpoints: [
          { host: "a", port: 1 },
          { host: "fd00::1", port: 11211 },
        ],
      },
    },
  ])("$text", ({ text, want }) => {
    const type = want.type;
    expect(parseServiceUri(text, type)).toEqual({ ok: true, value: want });
  });

  test.each([
    "redis://[::1",
    "redis://[::1]x",
    "redis://[nothex::1]",
    "redis://a:b:c",
    "redis://r:",
    "redis://r:-1",
    "redis://r/-1",
    "redis:r",
  ])("refuses %s", (text) => {
    expect(parseServiceUri(text, "redis").ok).toBe(false);
  });
});

describe("round trip", () => {
  const host = fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6());
  const credential = fc.option(fc.string({ unit: "grapheme", minLength: 1 }), { nil: undefined });

  test("format then parse gives back the same connection", () => {
    fc.assert(
      fc.property(
        host,
        fc.integer({ min: 1, max: 65535 }),
        credential,
        credential,
        fc.option(fc.integer({ min: 0, max: 999 }), { nil: undefined }),
        fc.boolean(),
        (h, port, username, password, database, tls) => {
          const uri: ServiceUri = {
            type: "redis",
            tls,
            ...(username === undefined ? {} : { username }),
            ...(password === undefined ? {} : { password }),
            endpoints: [{ host: h, port }],
            ...(database === undefined ? {} : { database }),
          };
          const text = formatServiceUri(uri);
          expect(text).toMatch(/^[\x21-\x7e]+$/);
          expect(parseServiceUri(text, "redis")).toEqual({ ok: true, value: uri });
        },
      ),
    );
  });
});
