import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { BackingService } from "../../../src/api/index.ts";
import {
  normalizeBinding,
  percentEncode,
  type SourceSecret,
} from "../../../src/app/bindings/index.ts";
import { memcached, redis, sourceSecret } from "./fixtures.ts";

/** Secret values that land in the wrong place or in broken URIs: each case builds a bad Secret. */
const cases: { name: string; binding: BackingService; source: (secret: string) => SourceSecret }[] =
  [
    {
      name: "password in a uri with a bad port",
      binding: redis(),
      source: (s) => sourceSecret({ uri: `redis://:${percentEncode(s)}@r:99999` }),
    },
    {
      name: "password in a uri with a bad path",
      binding: redis(),
      source: (s) => sourceSecret({ uri: `rediss://app:${percentEncode(s)}@r/db` }),
    },
    {
      name: "password in a uri of another type",
      binding: redis(),
      source: (s) => sourceSecret({ uri: `memcached://u:${percentEncode(s)}@m` }),
    },
    {
      name: "password in a uri of an unknown scheme",
      binding: redis(),
      source: (s) => sourceSecret({ url: `https://:${percentEncode(s)}@r` }),
    },
    {
      name: "password with a bad host",
      binding: redis(),
      source: (s) => sourceSecret({ password: s, host: "bad host" }),
    },
    {
      name: "chart password alone",
      binding: redis(),
      source: (s) => sourceSecret({ "redis-password": s }),
    },
    {
      name: "password pasted into port",
      binding: redis(),
      source: (s) => sourceSecret({ host: "r", port: `x${s}` }),
    },
    {
      name: "password pasted into tls",
      binding: redis(),
      source: (s) => sourceSecret({ host: "r", tls: `x${s}` }),
    },
    {
      name: "password pasted into database",
      binding: redis(),
      source: (s) => sourceSecret({ host: "r", database: `x${s}` }),
    },
    {
      name: "password pasted into type",
      binding: redis(),
      source: (s) => sourceSecret({ host: "r", type: `x${s}` }),
    },
    {
      name: "password pasted into servers",
      binding: memcached(),
      // Separators are kept out: the item number in the message counts them, which is not secret.
      source: (s) => sourceSecret({ servers: `m:1,[${s.replace(/[\s,]/g, "_")}]` }),
    },
    {
      name: "password pasted into host",
      binding: redis(),
      source: (s) => sourceSecret({ host: `${s} x` }),
    },
  ];

const secret = fc.string({ unit: "grapheme", minLength: 8, maxLength: 40 });

const problemOf = (binding: BackingService, source: SourceSecret) => {
  const got = normalizeBinding(binding, source, { secretName: "shop-redis" });
  expect(got.ok).toBe(false);
  return got.ok ? undefined : got.error;
};

describe("no secret value reaches a problem message", () => {
  test.each(cases)("$name: the message does not depend on the value", ({ binding, source }) => {
    fc.assert(
      fc.property(secret, secret, (a, b) => {
        const pa = problemOf(binding, source(a));
        const pb = problemOf(binding, source(b));
        expect(pa?.message).not.toContain(a);
        expect(pa?.message).not.toContain(percentEncode(a));
        expect(pa).toEqual(pb);
      }),
    );
  });

  test("a secret pasted as the whole uri is never echoed", () => {
    const shape =
      /^Secret "shop-redis" key "uri": (not a URI|unknown scheme|has no host|the port is|the host is|bad percent-encoding|the path is|names more than one|a memcached URI)/;
    fc.assert(
      fc.property(
        fc.oneof(
          secret,
          secret.map((s) => `redis://${s}`),
          secret.map((s) => `redis://:${s}@r:1/x`),
        ),
        (value) => {
          const got = normalizeBinding(redis(), sourceSecret({ uri: value }), {
            secretName: "shop-redis",
          });
          // A value that happens to be a valid URI is accepted; only problems are checked.
          if (got.ok) return;
          expect(got.error.message).toMatch(shape);
          expect(got.error.message).not.toContain(value);
        },
      ),
    );
  });
});
