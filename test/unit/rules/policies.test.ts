// The admission policies generated from the rule set: structure, bindings, and the committed files.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  ENFORCE_LABEL,
  renderPolicyFiles,
  renderPolicySet,
  ruleVariable,
} from "../../../src/app/policies/index.ts";
import { defaultRuleSet, resolveScope, rules } from "../../../src/app/rules/index.ts";

const root = resolve(import.meta.dirname, "../../..");

type Json = Record<string, unknown>;
interface Policy {
  metadata: { name: string };
  spec: {
    failurePolicy: string;
    matchConstraints: {
      resourceRules: { apiGroups: string[]; operations: string[]; resources: string[] }[];
    };
    variables: { name: string; expression: string }[];
    validations: { expression: string; messageExpression: string; reason: string }[];
  };
}
interface Binding {
  metadata: { name: string };
  spec: {
    policyName: string;
    validationActions: string[];
    matchResources: {
      namespaceSelector: {
        matchExpressions: { key: string; operator: string; values: string[] }[];
      };
    };
  };
}

const groups = renderPolicySet();
const policy = (severity: string) =>
  groups.find((g) => g.severity === severity)?.policy as unknown as Policy;
const bindings = (severity: string) =>
  (groups.find((g) => g.severity === severity)?.bindings ?? []) as unknown as Binding[];

describe("policies", () => {
  test("one policy per severity, each with the variable of each of its rules", () => {
    for (const severity of ["error", "warning", "info"]) {
      const names = policy(severity).spec.variables.map((v) => v.name);
      const own = rules.filter((r) => r.severity === severity);
      expect(own.length).toBeGreaterThan(0);
      for (const rule of own) expect(names).toContain(ruleVariable(rule));
      for (const rule of rules.filter((r) => r.severity !== severity))
        expect(names).not.toContain(ruleVariable(rule));
      expect(names.at(-1)).toBe("violations");
    }
  });

  test("match every resource their rules target, on CREATE and UPDATE only", () => {
    for (const severity of ["error", "warning", "info"]) {
      const matched = policy(severity).spec.matchConstraints.resourceRules.flatMap((r) =>
        r.resources.map((res) => `${r.apiGroups[0]}/${res}`),
      );
      const targets = rules
        .filter((r) => r.severity === severity)
        .flatMap((r) =>
          resolveScope(r.targets, defaultRuleSet).flatMap((t) => [
            `${t.group}/${t.resource}`,
            ...(t.subresources ?? []).map((sub) => `${t.group}/${t.resource}/${sub}`),
          ]),
        );
      expect(new Set(matched)).toEqual(new Set(targets));
      for (const r of policy(severity).spec.matchConstraints.resourceRules)
        expect(r.operations).toEqual(["CREATE", "UPDATE"]);
    }
  });

  test("refuse with one message naming every violation, as Forbidden, failing closed", () => {
    const p = policy("error");
    expect(p.spec.failurePolicy).toBe("Fail");
    expect(p.spec.validations).toEqual([
      expect.objectContaining({
        expression: "size(variables.violations) == 0",
        reason: "Forbidden",
        messageExpression: expect.stringContaining("variables.violations.join('; ')"),
      }),
    ]);
  });

  test("a rule's findings count unless the object or its namespace exempts the rule", () => {
    const tier = policy("error").spec.variables.find((v) => v.name === "tf_proc_011")?.expression;
    expect(tier).toMatch(/^'TF-PROC-011' in variables\.exempt \? \[\] : /);
    const exemptions = groups.find((g) => g.name === "twelvefactor-processes-exemptions")
      ?.policy as unknown as Policy;
    const exempted = exemptions.spec.variables.find((v) => v.name === "tf_proc_011")?.expression;
    expect(exempted).toMatch(/^'TF-PROC-011' in variables\.exempt \? \(/);
    expect(exempted).toMatch(/ : \[\]$/);
  });

  test("pods are also matched when ephemeral containers are added", () => {
    const core = policy("error").spec.matchConstraints.resourceRules.find(
      (r) => r.apiGroups[0] === "",
    );
    expect(core?.resources).toContain("pods/ephemeralcontainers");
  });

  test("a rule's CEL names its id and title in each violation", () => {
    const expression = policy("error").spec.variables.find(
      (v) => v.name === "tf_proc_001",
    )?.expression;
    expect(expression).toContain("'TF-PROC-001 ' + p + ': Service session affinity'");
    expect(expression).toContain("variables.gk in ['/Service']");
  });
});

describe("bindings", () => {
  const selected = (b: Binding) => {
    const [expression] = b.spec.matchResources.namespaceSelector.matchExpressions;
    expect(expression?.key).toBe(ENFORCE_LABEL);
    expect(expression?.operator).toBe("In");
    return expression?.values ?? [];
  };
  const plan = (severity: string) =>
    Object.fromEntries(
      bindings(severity).map((b) => [selected(b).join(","), b.spec.validationActions]),
    );

  test("errors: deny → Deny, warn → Warn, audit → Audit", () => {
    expect(plan("error")).toEqual({ deny: ["Deny"], warn: ["Warn"], audit: ["Audit"] });
    expect(
      bindings("error")
        .map((b) => b.metadata.name)
        .sort(),
    ).toEqual([
      "twelvefactor-processes-audit",
      "twelvefactor-processes-deny",
      "twelvefactor-processes-warn",
    ]);
  });

  test("warnings never refuse: deny and warn → Warn, audit → Audit", () => {
    expect(plan("warning")).toEqual({ "deny,warn": ["Warn"], audit: ["Audit"] });
  });

  test("advice is only recorded in the audit log", () => {
    expect(plan("info")).toEqual({ "deny,warn,audit": ["Audit"] });
  });

  test("exemptions are warned of where findings warn or refuse, and audited elsewhere", () => {
    const group = groups.find((g) => g.name === "twelvefactor-processes-exemptions");
    const plans = Object.fromEntries(
      ((group?.bindings ?? []) as unknown as Binding[]).map((b) => [
        selected(b).join(","),
        b.spec.validationActions,
      ]),
    );
    expect(plans).toEqual({ "deny,warn": ["Warn"], audit: ["Audit"] });
  });

  test("every binding names a generated policy", () => {
    const names = new Set(groups.map((g) => (g.policy as unknown as Policy).metadata.name));
    for (const g of groups)
      for (const b of g.bindings as unknown as Binding[])
        expect(names).toContain(b.spec.policyName);
  });
});

describe("manifests/policies", () => {
  test.each(renderPolicyFiles().map((f) => [f.path, f] as const))(
    "%s is up to date (npm run generate)",
    (path, file) => {
      expect(readFileSync(join(root, path), "utf8")).toBe(file.content);
    },
  );

  test("the kustomization lists every policy file", () => {
    const files = renderPolicyFiles();
    const kustomization = files.find((f) => f.path.endsWith("kustomization.yaml"));
    const [doc] = parseAllDocuments(kustomization?.content ?? "");
    const resources = ((doc?.toJS() ?? {}) as Json).resources as string[];
    expect(resources.sort()).toEqual(
      files
        .filter((f) => f !== kustomization)
        .map((f) => f.path.split("/").at(-1))
        .sort(),
    );
  });

  test("are rendered deterministically", () => {
    expect(renderPolicyFiles()).toEqual(renderPolicyFiles());
  });
});
