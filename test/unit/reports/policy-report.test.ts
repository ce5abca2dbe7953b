// PolicyReports from findings: one result per applicable rule and object, exemptions as skips.
import { describe, expect, test } from "vitest";
import {
  REPORT_BYTES,
  REPORT_NAME,
  RESULTS_PER_REPORT,
  renderPolicyReports,
} from "../../../src/app/reports/index.ts";
import {
  defaultRuleSet,
  type JsonObject,
  namespaceFacts,
  resolveScope,
  targetOf,
} from "../../../src/app/rules/index.ts";

const now = new Date("2026-03-01T12:00:00.250Z");
const service = (name: string, namespace: string, spec: JsonObject = {}, annotations = {}) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace, uid: `uid-${name}`, annotations },
  spec,
});
const serviceRules = defaultRuleSet.rules.filter((r) =>
  targetOf(service("x", "y"), resolveScope(r.targets, defaultRuleSet)),
);

const render = (objects: JsonObject[], namespaces = new Map()) =>
  renderPolicyReports({ objects, set: defaultRuleSet, namespaces, now });

describe("renderPolicyReports", () => {
  test("one report per namespace, one result per rule that applies to each object", () => {
    const reports = render([service("a", "shop"), service("b", "shop"), service("c", "blog")]);
    expect(reports.map((r) => `${r.metadata.namespace}/${r.metadata.name}`)).toEqual([
      `blog/${REPORT_NAME}`,
      `shop/${REPORT_NAME}`,
    ]);
    const shop = reports[1];
    expect(shop?.results.length).toBe(2 * serviceRules.length);
    expect(shop?.summary).toEqual({
      pass: 2 * serviceRules.length,
      fail: 0,
      warn: 0,
      error: 0,
      skip: 0,
    });
    expect(shop?.results[0]).toMatchObject({
      source: "stateless-operator",
      category: "Twelve-Factor processes",
      result: "pass",
      scored: true,
      timestamp: { seconds: Math.floor(now.getTime() / 1000), nanos: 0 },
      resources: [
        { apiVersion: "v1", kind: "Service", namespace: "shop", name: "a", uid: "uid-a" },
      ],
    });
  });

  test("a violation fails with its rule, policy, severity, fields and fix", () => {
    const [report] = render([service("sticky", "shop", { sessionAffinity: "ClientIP" })]);
    const failed = report?.results.filter((r) => r.result !== "pass");
    expect(failed).toEqual([
      expect.objectContaining({
        policy: "twelvefactor-processes",
        rule: "TF-PROC-001",
        result: "fail",
        severity: "high",
        message: "Service session affinity: sessionAffinity is ClientIP",
        properties: expect.objectContaining({ paths: "spec.sessionAffinity" }),
      }),
    ]);
    expect(report?.summary.fail).toBe(1);
  });

  test("warnings and advice are `warn` results of their own policies", () => {
    const statefulSet = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: "shop" },
      spec: {
        template: {
          spec: { containers: [{ name: "c", securityContext: { readOnlyRootFilesystem: true } }] },
        },
      },
    };
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "one-off", namespace: "shop" },
      spec: { containers: [{ name: "c", securityContext: { readOnlyRootFilesystem: true } }] },
    };
    const [report] = render([statefulSet, pod]);
    expect(
      report?.results
        .filter((r) => r.result !== "pass")
        .map((r) => `${r.rule} ${r.policy} ${r.result} ${r.severity}`),
    ).toEqual([
      "TF-PROC-014 twelvefactor-processes-advice warn info",
      "TF-PROC-013 twelvefactor-processes-warnings warn medium",
    ]);
  });

  test("an honoured exemption is a skip naming who exempted and why; one that is not still fails", () => {
    const exempt = {
      "twelvefactor.dev/exempt": "TF-PROC-001",
      "twelvefactor.dev/exempt-reason": "sessions move to Redis in Q3",
    };
    const objects = [
      service("allowed", "allowing", { sessionAffinity: "ClientIP" }, exempt),
      service("refused", "strict", { sessionAffinity: "ClientIP" }, exempt),
    ];
    const namespaces = new Map(
      [
        { metadata: { name: "allowing", labels: { "twelvefactor.dev/exemptions": "allowed" } } },
        { metadata: { name: "strict" } },
      ].map((n) => {
        const facts = namespaceFacts(n);
        return [facts?.name, facts] as const;
      }),
    );
    const [allowing, strict] = render(objects, namespaces);
    expect(allowing?.results.find((r) => r.rule === "TF-PROC-001")).toMatchObject({
      result: "skip",
      message: "Service session affinity, exempted by the object: sessions move to Redis in Q3",
      properties: { exemptedBy: "object", exemptReason: "sessions move to Redis in Q3" },
    });
    expect(strict?.results.find((r) => r.rule === "TF-PROC-001")).toMatchObject({
      result: "fail",
      properties: { exemption: expect.stringContaining("twelvefactor.dev/exemptions=allowed") },
    });
  });

  test("more results than fit in one report go to numbered reports", () => {
    const many = Array.from({ length: RESULTS_PER_REPORT }, (_, i) => service(`s${i}`, "big"));
    const reports = render(many);
    expect(reports.map((r) => r.metadata.name)).toEqual([REPORT_NAME, `${REPORT_NAME}-2`]);
    expect(reports.reduce((n, r) => n + r.results.length, 0)).toBe(
      RESULTS_PER_REPORT * serviceRules.length,
    );
    expect(reports[0]?.results.length).toBe(RESULTS_PER_REPORT);
  });

  test("is deterministic whatever the order of the objects", () => {
    const objects = [service("b", "shop"), service("a", "shop", { sessionAffinity: "ClientIP" })];
    expect(render(objects)).toEqual(render([...objects].reverse()));
  });
});

test("an author's long exemption reason is bounded in the report", () => {
  const reason = "x".repeat(100_000);
  const object = service(
    "long",
    "allowing",
    { sessionAffinity: "ClientIP" },
    {
      "twelvefactor.dev/exempt": "TF-PROC-001",
      "twelvefactor.dev/exempt-reason": reason,
    },
  );
  const ns = namespaceFacts({
    metadata: { name: "allowing", labels: { "twelvefactor.dev/exemptions": "allowed" } },
  });
  const [report] = render([object], new Map([["allowing", ns]]));
  const skip = report?.results.find((r) => r.result === "skip");
  expect(skip?.message.length).toBeLessThanOrEqual(1024);
  expect(skip?.properties?.exemptReason?.length).toBeLessThanOrEqual(1024);
});

test("large results split reports by size, each well under etcd's object limit", () => {
  const reason = "r".repeat(1000);
  const ns = namespaceFacts({
    metadata: { name: "big", labels: { "twelvefactor.dev/exemptions": "allowed" } },
  });
  const objects = Array.from({ length: 600 }, (_, i) =>
    service(
      `s${i}`,
      "big",
      { sessionAffinity: "ClientIP" },
      {
        "twelvefactor.dev/exempt": "TF-PROC-001,TF-PROC-003",
        "twelvefactor.dev/exempt-reason": reason,
      },
    ),
  );
  const reports = render(objects, new Map([["big", ns]]));
  expect(reports.length).toBeGreaterThan(1);
  for (const r of reports) expect(JSON.stringify(r).length).toBeLessThan(REPORT_BYTES + 10_000);
  expect(reports.reduce((n, r) => n + r.results.length, 0)).toBe(600 * serviceRules.length);
});
