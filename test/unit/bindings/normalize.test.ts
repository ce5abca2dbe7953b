import { describe, expect, test } from "vitest";
import type { BackingService } from "../../../src/api/index.ts";
import { normalizeBinding, type SourceSecret } from "../../../src/app/bindings/index.ts";
import { memcached, redis, sourceSecret } from "./fixtures.ts";

const normalize = (
  binding: BackingService,
  source: SourceSecret | undefined,
  name = "shop-redis",
) => normalizeBinding(binding, source, { secretName: name });

describe("normalizeBinding: accepted layouts", () => {
  test.each<{
    layout: string;
    binding: BackingService;
    data: Record<string, string>;
    type?: string;
    want: Record<string, string>;
  }>([
    {
      layout: "servicebinding.io keys",
      binding: redis(),
      data: {
        type: "redis",
        provider: "bitnami",
        host: "redis.web.svc",
        port: "6380",
        username: "app",
        password: "s3cret",
      },
      want: {
        type: "redis",
        provider: "bitnami",
        host: "redis.web.svc",
        port: "6380",
        username: "app",
        password: "s3cret",
        uri: "redis://app:s3cret@redis.web.svc:6380",
      },
    },
    {
      layout: "host only: default port, no credentials",
      binding: redis(),
      data: { host: "redis" },
      want: { type: "redis", host: "redis", port: "6379", uri: "redis://redis:6379" },
    },
    {
      layout: "Helm chart password plus an added host",
      binding: redis(),
      data: { "redis-password": "pw", host: "shop-redis-master" },
      want: {
        type: "redis",
        host: "shop-redis-master",
        port: "6379",
        password: "pw",
        uri: "redis://:pw@shop-redis-master:6379",
      },
    },
    {
      layout: "uri only",
      binding: redis(),
      data: { uri: "redis://:pw@redis.web.svc:6379/2" },
      want: {
        type: "redis",
        host: "redis.web.svc",
        port: "6379",
        password: "pw",
        database: "2",
        uri: "redis://:pw@redis.web.svc:6379/2",
      },
    },
    {
      layout: "url only, no port, username and password",
      binding: redis(),
      data: { url: "redis://default:pw@cache" },
      want: {
        type: "redis",
        host: "cache",
        port: "6379",
        username: "default",
        password: "pw",
        uri: "redis://default:pw@cache:6379",
      },
    },
    {
      layout: "rediss:// sets TLS",
      binding: redis(),
      data: { uri: "rediss://:pw@redis.example.com:6380" },
      want: {
        type: "redis",
        host: "redis.example.com",
        port: "6380",
        password: "pw",
        tls: "true",
        ssl: "true",
        uri: "rediss://:pw@redis.example.com:6380",
      },
    },
    {
      layout: "tls flag on discrete keys",
      binding: redis(),
      data: { host: "r", tls: "true" },
      want: {
        type: "redis",
        host: "r",
        port: "6379",
        tls: "true",
        ssl: "true",
        uri: "rediss://r:6379",
      },
    },
    {
      layout: "ssl=false overrides rediss://",
      binding: redis(),
      data: { uri: "rediss://r", ssl: "False" },
      want: { type: "redis", host: "r", port: "6379", uri: "redis://r:6379" },
    },
    {
      layout: "database key",
      binding: redis(),
      data: { host: "r", database: "05" },
      want: { type: "redis", host: "r", port: "6379", database: "5", uri: "redis://r:6379/5" },
    },
    {
      layout: "discrete keys override uri parts; uri rebuilt",
      binding: redis(),
      data: { uri: "redis://:old@r:6379/1", password: "new", port: "7000" },
      want: {
        type: "redis",
        host: "r",
        port: "7000",
        password: "new",
        database: "1",
        uri: "redis://:new@r:7000/1",
      },
    },
    {
      layout: "trailing newlines from `echo | base64` are trimmed, except in passwords",
      binding: redis(),
      data: { host: "r\n", port: " 6379\n", password: " pw \n" },
      want: {
        type: "redis",
        host: "r",
        port: "6379",
        password: " pw \n",
        uri: "redis://:%20pw%20%0A@r:6379",
      },
    },
    {
      layout: "IPv6 host key, bracketed in the uri",
      binding: redis(),
      data: { host: "fd00::1", password: "pw" },
      want: {
        type: "redis",
        host: "fd00::1",
        port: "6379",
        password: "pw",
        uri: "redis://:pw@[fd00::1]:6379",
      },
    },
    {
      layout: "IPv6 in a uri",
      binding: redis(),
      data: { uri: "redis://[::1]:7000" },
      want: { type: "redis", host: "::1", port: "7000", uri: "redis://[::1]:7000" },
    },
    {
      layout: "Secret type servicebinding.io/redis",
      binding: redis(),
      data: { host: "r" },
      type: "servicebinding.io/redis",
      want: { type: "redis", host: "r", port: "6379", uri: "redis://r:6379" },
    },
    {
      layout: "empty values count as absent",
      binding: redis(),
      data: { host: "r", password: "", username: "" },
      want: { type: "redis", host: "r", port: "6379", uri: "redis://r:6379" },
    },
    {
      layout: "memcached host only",
      binding: memcached(),
      data: { host: "mc" },
      want: {
        type: "memcached",
        host: "mc",
        port: "11211",
        uri: "memcached://mc:11211",
        servers: "mc:11211",
      },
    },
    {
      layout: "memcached servers list",
      binding: memcached(),
      data: { servers: "mc-0.mc:11211, mc-1.mc:11212 [fd00::2]" },
      want: {
        type: "memcached",
        host: "mc-0.mc",
        port: "11211",
        uri: "memcached://mc-0.mc:11211,mc-1.mc:11212,[fd00::2]:11211",
        servers: "mc-0.mc:11211,mc-1.mc:11212,[fd00::2]:11211",
      },
    },
    {
      layout: "memcached uri with SASL credentials from the chart's password key",
      binding: memcached(),
      data: { uri: "memcached://user@mc:11211", "memcached-password": "pw" },
      want: {
        type: "memcached",
        host: "mc",
        port: "11211",
        username: "user",
        password: "pw",
        uri: "memcached://user:pw@mc:11211",
        servers: "mc:11211",
      },
    },
    {
      layout: "memcached uri with several hosts",
      binding: memcached(),
      data: { uri: "memcache://a,b:2" },
      want: {
        type: "memcached",
        host: "a",
        port: "11211",
        uri: "memcached://a:11211,b:2",
        servers: "a:11211,b:2",
      },
    },
  ])("$layout", ({ binding, data, type, want }) => {
    const got = normalize(binding, sourceSecret(data, type === undefined ? {} : { type }));
    expect(got).toEqual({
      ok: true,
      value: { name: binding.name, type: binding.type, entries: want },
    });
  });

  test("the entries come out in a fixed key order", () => {
    const got = normalize(redis(), sourceSecret({ uri: "rediss://u:p@h/1", provider: "aws" }));
    expect(got.ok && Object.keys(got.value.entries)).toEqual([
      "type",
      "provider",
      "host",
      "port",
      "username",
      "password",
      "database",
      "tls",
      "ssl",
      "uri",
    ]);
  });

  test("unrelated keys, even binary ones, are ignored", () => {
    const source: SourceSecret = {
      data: { host: Buffer.from("r").toString("base64"), "ca.der": "/w==" },
    };
    expect(normalize(redis(), source).ok).toBe(true);
  });
});

describe("normalizeBinding: problems", () => {
  test.each<{
    problem: string;
    binding?: BackingService;
    source: SourceSecret | undefined;
    reason: string;
    key?: string;
    message: string;
  }>([
    {
      problem: "missing Secret",
      source: undefined,
      reason: "SecretNotFound",
      message: 'Secret "shop-redis" not found',
    },
    {
      problem: "no host at all",
      source: sourceSecret({ port: "6379" }),
      reason: "MissingHost",
      key: "host",
      message: 'Secret "shop-redis" has no host: add a "host" or "uri" key',
    },
    {
      problem: "the Helm chart's password alone",
      source: sourceSecret({ "redis-password": "pw" }),
      reason: "MissingHost",
      key: "host",
      message:
        'Secret "shop-redis" has no host: add a "host" or "uri" key (the chart\'s "redis-password" alone does not say where the server is)',
    },
    {
      problem: "memcached without host",
      binding: memcached(),
      source: sourceSecret({ "memcached-password": "pw" }),
      reason: "MissingHost",
      key: "host",
      message:
        'Secret "shop-redis" has no host: add a "host", "servers" or "uri" key (the chart\'s "memcached-password" alone does not say where the server is)',
    },
    {
      problem: "not a URI",
      source: sourceSecret({ uri: "redis-host:6379" }),
      reason: "InvalidURI",
      key: "uri",
      message:
        'Secret "shop-redis" key "uri": not a URI (expected redis://[username:password@]host[:port][/database] or rediss://…)',
    },
    {
      problem: "unknown scheme",
      source: sourceSecret({ url: "http://r" }),
      reason: "InvalidURI",
      key: "url",
      message:
        'Secret "shop-redis" key "url": unknown scheme (expected redis://[username:password@]host[:port][/database] or rediss://…)',
    },
    {
      problem: "memcached scheme for a redis binding",
      source: sourceSecret({ uri: "memcached://mc:11211" }),
      reason: "TypeMismatch",
      key: "uri",
      message: 'Secret "shop-redis" key "uri": a memcached URI, but the binding\'s type is redis',
    },
    {
      problem: "redis scheme for a memcached binding",
      binding: memcached(),
      source: sourceSecret({ uri: "rediss://r" }),
      reason: "TypeMismatch",
      key: "uri",
      message: 'Secret "shop-redis" key "uri": a redis URI, but the binding\'s type is memcached',
    },
    {
      problem: "type entry of another kind",
      source: sourceSecret({ type: "memcached", host: "r" }),
      reason: "TypeMismatch",
      key: "type",
      message: 'Secret "shop-redis" key "type": memcached, but the binding\'s type is redis',
    },
    {
      problem: "type entry unknown",
      source: sourceSecret({ type: "postgresql", host: "r" }),
      reason: "TypeMismatch",
      key: "type",
      message: 'Secret "shop-redis" key "type": not redis',
    },
    {
      problem: "Secret type of another kind",
      source: sourceSecret({ host: "r" }, { type: "servicebinding.io/mysql" }),
      reason: "TypeMismatch",
      message:
        'Secret "shop-redis" has type servicebinding.io/mysql, but the binding\'s type is redis',
    },
    {
      problem: "port in the uri out of range",
      source: sourceSecret({ uri: "redis://r:65536" }),
      reason: "InvalidURI",
      key: "uri",
      message: 'Secret "shop-redis" key "uri": the port is not a number from 1 to 65535',
    },
    {
      problem: "non-numeric port key",
      source: sourceSecret({ host: "r", port: "redis" }),
      reason: "InvalidPort",
      key: "port",
      message: 'Secret "shop-redis" key "port": not a number from 1 to 65535',
    },
    {
      problem: "port zero",
      source: sourceSecret({ host: "r", port: "0" }),
      reason: "InvalidPort",
      key: "port",
      message: 'Secret "shop-redis" key "port": not a number from 1 to 65535',
    },
    {
      problem: "port with exponent",
      source: sourceSecret({ host: "r", port: "6e3" }),
      reason: "InvalidPort",
      key: "port",
      message: 'Secret "shop-redis" key "port": not a number from 1 to 65535',
    },
    {
      problem: "host with a scheme in it",
      source: sourceSecret({ host: "redis://r" }),
      reason: "InvalidHost",
      key: "host",
      message: 'Secret "shop-redis" key "host": not a host name or IP address',
    },
    {
      problem: "uri host with a space",
      source: sourceSecret({ uri: "redis://my host:6379" }),
      reason: "InvalidURI",
      key: "uri",
      message: 'Secret "shop-redis" key "uri": the host is not a host name or IP address',
    },
    {
      problem: "uri without host",
      source: sourceSecret({ uri: "redis://:pw@/0" }),
      reason: "InvalidURI",
      key: "uri",
      message: 'Secret "shop-redis" key "uri": has no host',
    },
    {
      problem: "uri path not a database",
      source: sourceSecret({ uri: "redis://r/cache" }),
      reason: "InvalidURI",
      key: "uri",
      message: 'Secret "shop-redis" key "uri": the path is not a database number (/0, /1, …)',
    },
    {
      problem: "bad percent-encoding",
      source: sourceSecret({ uri: "redis://:100%@r" }),
      reason: "InvalidURI",
      key: "uri",
      message: 'Secret "shop-redis" key "uri": bad percent-encoding in the username or password',
    },
    {
      problem: "two redis hosts",
      source: sourceSecret({ uri: "redis://a,b" }),
      reason: "InvalidURI",
      key: "uri",
      message: 'Secret "shop-redis" key "uri": names more than one host; bind one Redis endpoint',
    },
    {
      problem: "database not a number",
      source: sourceSecret({ host: "r", db: "-1" }),
      reason: "InvalidDatabase",
      key: "db",
      message: 'Secret "shop-redis" key "db": not a database number (0, 1, …)',
    },
    {
      problem: "tls not a boolean",
      source: sourceSecret({ host: "r", tls: "required" }),
      reason: "InvalidTLS",
      key: "tls",
      message: 'Secret "shop-redis" key "tls": not a boolean (true or false)',
    },
    {
      problem: "memcached servers item with bad port",
      binding: memcached(),
      source: sourceSecret({ servers: "a:1,b:x" }),
      reason: "InvalidServers",
      key: "servers",
      message:
        'Secret "shop-redis" key "servers": item 2: the port is not a number from 1 to 65535',
    },
    {
      problem: "memcached servers item with bare IPv6",
      binding: memcached(),
      source: sourceSecret({ servers: "fd00::1:11211" }),
      reason: "InvalidServers",
      key: "servers",
      message: 'Secret "shop-redis" key "servers": item 1 is not host[:port] (IPv6 in brackets)',
    },
    {
      problem: "base64 that does not decode",
      source: { data: { host: "cg==", password: "not base64!" } },
      reason: "InvalidEncoding",
      key: "password",
      message: 'Secret "shop-redis" key "password": not valid base64',
    },
    {
      problem: "base64 of bytes that are not UTF-8",
      source: { data: { host: Buffer.from([0xff, 0xfe]).toString("base64") } },
      reason: "InvalidEncoding",
      key: "host",
      message: 'Secret "shop-redis" key "host": not UTF-8 text',
    },
  ])("$problem", ({ binding, source, reason, key, message }) => {
    const b = binding ?? redis();
    expect(normalize(b, source)).toEqual({
      ok: false,
      error: {
        reason,
        message,
        binding: b.name,
        secretName: "shop-redis",
        ...(key === undefined ? {} : { key }),
      },
    });
  });
});
