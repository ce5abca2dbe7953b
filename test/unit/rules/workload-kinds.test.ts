// The workload-kinds list a user gives: parsed strictly, each problem naming its field.
import { expect, test } from "vitest";
import {
  checkObject,
  defaultWorkloadKinds,
  formatPath,
  parseWorkloadKinds,
  ruleSet,
} from "../../../src/app/rules/index.ts";

test("a kind added by a user is checked where its template is", () => {
  const parsed = parseWorkloadKinds([
    {
      group: "example.com",
      kind: "Worker",
      resource: "workers",
      template: "spec.podTemplate",
      volumeClaimTemplates: "spec.claims",
    },
  ]);
  if (!parsed.ok) throw new Error(parsed.error.join("; "));
  expect(parsed.value.length).toBe(defaultWorkloadKinds.length + 1);
  const worker = {
    apiVersion: "example.com/v1",
    kind: "Worker",
    metadata: { name: "w" },
    spec: { podTemplate: { spec: { containers: [{ name: "c" }] } }, claims: [{}] },
  };
  expect(checkObject(worker).map((f) => f.ruleId)).toEqual([]);
  expect(
    checkObject(worker, ruleSet(parsed.value)).map((f) => `${f.ruleId} ${formatPath(f.path)}`),
  ).toEqual([
    "TF-PROC-007 spec.claims[0]",
    "TF-PROC-011 spec.podTemplate.spec.containers[0].securityContext.readOnlyRootFilesystem",
  ]);
});

test("the wrapped form {workloadKinds: [...]} and an empty template (the object itself)", () => {
  const parsed = parseWorkloadKinds({
    workloadKinds: [{ group: "example.com", kind: "Task", resource: "tasks", template: "" }],
  });
  expect(parsed.ok && parsed.value.at(-1)?.template).toEqual([]);
});

test.each<[string, unknown, string[]]>([
  ["not a list", { kinds: [] }, ["must be a list of workload kinds (or {workloadKinds: [...]})"]],
  [
    "bad fields",
    [{ group: "Bad_Group", kind: "lower", resource: "Workers", template: "spec..x", extra: 1 }],
    [
      '[0].group: must be an API group ("" for the core group)',
      "[0].kind: must be a kind such as Rollout",
      "[0].resource: must be the plural resource name, lower case",
      '[0].template: "spec..x" is not a dotted field path (bad field "")',
      "[0].extra: unknown field",
    ],
  ],
  [
    "a kind that is already there",
    [{ group: "argoproj.io", kind: "Rollout", resource: "rollouts", template: "spec.template" }],
    ["[0]: Rollout.argoproj.io is already a workload kind"],
  ],
])("%s is refused, naming the field", (_what, value, problems) => {
  const parsed = parseWorkloadKinds(value);
  expect(parsed.ok ? [] : parsed.error).toEqual(problems);
});
