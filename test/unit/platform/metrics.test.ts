// The operator's own metrics: build info, and request counts labelled like client-go's.
import { expect, test } from "vitest";
import { readBuildInfo } from "../../../src/platform/build.ts";
import { createMetrics } from "../../../src/platform/metrics.ts";

const sample = async (text: Promise<string>, name: string) =>
  (await text).split("\n").filter((l) => l.startsWith(`${name}{`));

test("stateless_operator_build_info is 1, labelled with the version and commit", async () => {
  const m = createMetrics(Date.now, { version: "1.2.3", commit: "abc1234" });
  expect(await sample(m.registry.metrics(), "stateless_operator_build_info")).toEqual([
    'stateless_operator_build_info{version="1.2.3",commit="abc1234"} 1',
  ]);
});

test("a checkout's build info is the package version and an unknown commit", () => {
  const info = readBuildInfo();
  expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
  expect(info.commit).toBe("unknown");
});

test("rest_client_requests_total: method is the HTTP method (as client-go's), verb what the request did", async () => {
  const m = createMetrics(Date.now, { version: "0", commit: "unknown" });
  m.requests.request("apply", 200, 5, "PATCH");
  m.requests.request("apply", 200, 5, "PATCH");
  m.requests.request("list", 403, 5, "GET");
  m.requests.request("watch", 0, 5, "GET");
  expect((await sample(m.registry.metrics(), "rest_client_requests_total")).sort()).toEqual([
    'rest_client_requests_total{code="200",method="PATCH",verb="apply"} 2',
    'rest_client_requests_total{code="403",method="GET",verb="list"} 1',
    'rest_client_requests_total{code="<error>",method="GET",verb="watch"} 1',
  ]);
});

test("a cache is reported unsynced (0) from its start until its first complete list", async () => {
  const m = createMetrics(Date.now, { version: "0", commit: "unknown" });
  const secrets = m.reflector("secrets");
  const synced = () => sample(m.registry.metrics(), "stateless_operator_informer_synced");
  expect(await synced()).toEqual(['stateless_operator_informer_synced{resource="secrets"} 0']);
  secrets.synced(true);
  expect(await synced()).toEqual(['stateless_operator_informer_synced{resource="secrets"} 1']);
});

test("a leader-election candidate reports 0 until it leads", async () => {
  const m = createMetrics(Date.now, { version: "0", commit: "unknown" });
  const lease = m.leader("stateless-operator");
  const status = () => sample(m.registry.metrics(), "leader_election_master_status");
  expect(await status()).toEqual(['leader_election_master_status{name="stateless-operator"} 0']);
  lease.leading(true);
  expect(await status()).toEqual(['leader_election_master_status{name="stateless-operator"} 1']);
});
