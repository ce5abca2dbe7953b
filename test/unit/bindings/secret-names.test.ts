import { describe, expect, test } from "vitest";
import type { BackingService } from "../../../src/api/index.ts";
import {
  bindingSecretName,
  normalizedSecretName,
  type ProvisionedService,
} from "../../../src/app/bindings/index.ts";
import { redis } from "./fixtures.ts";

const provisioned: BackingService = {
  name: "cache",
  type: "redis",
  service: { apiVersion: "redis.example.com/v1", kind: "Redis", name: "cache" },
};

describe("bindingSecretName", () => {
  test("a secretRef names the Secret directly", () => {
    expect(bindingSecretName(redis("sessions", "shop-redis"), undefined)).toEqual({
      ok: true,
      value: "shop-redis",
    });
  });

  test("a ready Provisioned Service names it in status.binding.name", () => {
    const service: ProvisionedService = { status: { binding: { name: "cache-creds" } } };
    expect(bindingSecretName(provisioned, service)).toEqual({ ok: true, value: "cache-creds" });
  });

  test.each<{
    state: string;
    service: ProvisionedService | undefined;
    reason: string;
    message: string;
  }>([
    {
      state: "missing",
      service: undefined,
      reason: "ServiceNotFound",
      message: 'Provisioned Service redis.example.com/v1 Redis "cache" not found',
    },
    ...[
      { state: "without status", status: undefined },
      { state: "without status.binding", status: { phase: "Provisioning" } },
      { state: "with an empty name", status: { binding: { name: "" } } },
      { state: "with a non-string name", status: { binding: { name: 7 } } },
      { state: "with binding as a list", status: { binding: ["x"] } },
    ].map(({ state, status }) => ({
      state,
      service: { status },
      reason: "ServiceNotReady",
      message:
        'Provisioned Service redis.example.com/v1 Redis "cache" has no status.binding.name yet',
    })),
  ])("a Provisioned Service $state is a problem", ({ service, reason, message }) => {
    expect(bindingSecretName(provisioned, service)).toEqual({
      ok: false,
      error: { reason, message, binding: "cache" },
    });
  });

  test("a binding with no source is a problem, not a crash", () => {
    const none: BackingService = { name: "x", type: "redis" };
    const got = bindingSecretName(none, undefined);
    expect(got.ok || got.error.reason).toBe("NoSource");
  });
});

test("normalizedSecretName is <app>-binding-<binding>", () => {
  expect(normalizedSecretName("shop", "sessions")).toBe("shop-binding-sessions");
});
