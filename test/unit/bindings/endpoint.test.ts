import { describe, expect, test } from "vitest";
import { parseEndpoint, parseHost, parsePort } from "../../../src/app/bindings/endpoint.ts";
import { formatEndpoint, formatHost } from "../../../src/app/bindings/index.ts";

describe("parseHost", () => {
  test.each([
    ["redis", "redis"],
    ["shop-redis-master.web.svc.cluster.local", "shop-redis-master.web.svc.cluster.local"],
    ["redis.web.svc.", "redis.web.svc."],
    ["_redis._tcp.example", "_redis._tcp.example"],
    ["10.0.0.7", "10.0.0.7"],
    ["::1", "::1"],
    ["[::1]", "::1"],
    ["::", "::"],
    ["fd00:0:0:0:0:0:0:1", "fd00:0:0:0:0:0:0:1"],
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
  ])("accepts %s", (text, want) => {
    expect(parseHost(text)).toBe(want);
  });

  test.each([
    "",
    "my host",
    "redis://r",
    "r/0",
    "user@r",
    "-r",
    "r..x",
    "a".repeat(64),
    `${"a.".repeat(127)}ab`,
    ":::",
    "1::2::3",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "12345::1",
    "::ffff:300.0.0.1",
    "[::1",
    "[redis]",
    "[10.0.0.1]",
  ])("refuses %j", (text) => {
    expect(parseHost(text)).toBeUndefined();
  });
});

describe("parsePort", () => {
  test.each([
    ["1", 1],
    ["6379", 6379],
    ["65535", 65535],
    ["0", undefined],
    ["65536", undefined],
    ["-1", undefined],
    ["+1", undefined],
    ["1.0", undefined],
    ["0x10", undefined],
    ["", undefined],
    ["123456", undefined],
  ])("%j → %s", (text, want) => {
    expect(parsePort(text)).toBe(want);
  });
});

describe("endpoints", () => {
  test.each([
    ["h", { endpoint: { host: "h", port: 11211 } }],
    ["h:1", { endpoint: { host: "h", port: 1 } }],
    ["[::1]", { endpoint: { host: "::1", port: 11211 } }],
    ["[::1]:2", { endpoint: { host: "::1", port: 2 } }],
    ["::1", { fault: "host" }],
    ["h:x", { fault: "port" }],
    ["[::1]2", { fault: "host" }],
  ])("parseEndpoint(%j)", (text, want) => {
    expect(parseEndpoint(text, 11211)).toEqual(want);
  });

  test("IPv6 hosts are bracketed when formatted, others are not", () => {
    expect(formatHost("::1")).toBe("[::1]");
    expect(formatHost("10.0.0.1")).toBe("10.0.0.1");
    expect(formatEndpoint({ host: "fd00::1", port: 6379 })).toBe("[fd00::1]:6379");
  });
});
