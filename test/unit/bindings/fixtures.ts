// Builders for binding tests: source Secrets from plain-text data, and backing services.
import type { BackingService } from "../../../src/api/index.ts";
import type { SourceSecret } from "../../../src/app/bindings/index.ts";

export const base64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

/** A Secret as the apiserver returns it: every value base64-encoded. */
export function sourceSecret(
  data: Record<string, string>,
  options: { name?: string; type?: string } = {},
): SourceSecret {
  return {
    metadata: { name: options.name ?? "shop-redis", namespace: "web" },
    data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, base64(value)])),
    ...(options.type === undefined ? {} : { type: options.type }),
  };
}

export const redis = (name = "sessions", secretName = "shop-redis"): BackingService => ({
  name,
  type: "redis",
  secretRef: { name: secretName },
});

export const memcached = (name = "cache", secretName = "shop-memcached"): BackingService => ({
  name,
  type: "memcached",
  secretRef: { name: secretName },
});
