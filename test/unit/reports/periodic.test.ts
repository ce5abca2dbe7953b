// The operator's periodic reports: only the leader writes, a missing report API is said, not fatal.
import { describe, expect, test } from "vitest";
import { startPolicyReporting } from "../../../src/app/reports/index.ts";
import { FakeClock, flushPromises } from "../../support/fake-clock.ts";
import { recordingLogger } from "../runtime/fakes.ts";
import { fakeApi } from "./fake-api.ts";

const routes = (reportApi: boolean) => ({
  "/apis": { groups: [] },
  "/api/v1": { resources: [{ name: "services", namespaced: true }] },
  "/api/v1/namespaces/shop": {
    metadata: { name: "shop", labels: { "twelvefactor.dev/enforce": "audit" } },
  },
  "/api/v1/namespaces/shop/services": {
    metadata: { resourceVersion: "1" },
    items: [
      { metadata: { name: "web", namespace: "shop" }, spec: { sessionAffinity: "ClientIP" } },
    ],
  },
  ...(reportApi
    ? {
        "/apis/wgpolicyk8s.io/v1alpha2": { resources: [{ name: "policyreports" }] },
        "/apis/wgpolicyk8s.io/v1alpha2/namespaces/shop/policyreports": { items: [] },
      }
    : {}),
});

async function run(options: { leader: () => boolean; reportApi: boolean; ticks: number }) {
  const api = fakeApi(routes(options.reportApi));
  const clock = new FakeClock(0);
  const log = recordingLogger();
  const reporting = startPolicyReporting({
    transport: api.transport,
    intervalMs: 60_000,
    namespaces: ["shop"],
    logger: log,
    isLeader: options.leader,
    clock,
  });
  for (let i = 0; i < options.ticks; i++) {
    await flushPromises(20);
    await clock.advance(60_000);
  }
  await flushPromises(20);
  await reporting.stop();
  const applies = api.requests.filter((r) => r.method === "PATCH");
  return { applies, lines: log.lines };
}

describe("startPolicyReporting", () => {
  test("the leader writes the report at once, then every interval", async () => {
    const { applies } = await run({ leader: () => true, reportApi: true, ticks: 2 });
    expect(applies.length).toBe(3);
    expect(applies[0]?.path).toBe(
      "/apis/wgpolicyk8s.io/v1alpha2/namespaces/shop/policyreports/twelvefactor-processes",
    );
    const body = JSON.parse(applies[0]?.body ?? "{}") as { summary: { fail: number } };
    expect(body.summary.fail).toBe(1);
  });

  test("a replica that is not the leader writes nothing", async () => {
    const { applies } = await run({ leader: () => false, reportApi: true, ticks: 2 });
    expect(applies).toEqual([]);
  });

  test("without the PolicyReport API it logs why on every run and keeps going", async () => {
    const { applies, lines } = await run({ leader: () => true, reportApi: false, ticks: 1 });
    expect(applies).toEqual([]);
    const warnings = lines.filter((l) => l.msg === "policy reports not written");
    expect(warnings.length).toBe(2);
    expect(String(warnings[0]?.fields.err)).toContain(
      "PolicyReport (wgpolicyk8s.io/v1alpha2) is not served",
    );
  });
});
