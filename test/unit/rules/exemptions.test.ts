// Exemptions: who may set which rules aside, where, and that it always shows.
import { describe, expect, test } from "vitest";
import {
  checkObject,
  EXEMPT_ANNOTATION,
  EXEMPT_REASON_ANNOTATION,
  EXEMPTIONS_ALLOWED,
  EXEMPTIONS_LABEL,
  type ExemptionContext,
  isViolation,
  namespaceFacts,
  parseRuleList,
} from "../../../src/app/rules/index.ts";

type Obj = Record<string, unknown>;

const writable = (templateAnnotations: Record<string, string>, ownAnnotations = {}): Obj => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "d", namespace: "shop", annotations: ownAnnotations },
  spec: {
    template: {
      metadata: { annotations: templateAnnotations },
      spec: { containers: [{ name: "w" }], volumes: [{ name: "t", emptyDir: {} }] },
    },
  },
});
const exempt = (rules: string, reason?: string) => ({
  [EXEMPT_ANNOTATION]: rules,
  ...(reason === undefined ? {} : { [EXEMPT_REASON_ANNOTATION]: reason }),
});
const namespace = (labels: Record<string, string> = {}, annotations: Record<string, string> = {}) =>
  namespaceFacts({ metadata: { name: "shop", labels, annotations } });
const allowing = namespace({ [EXEMPTIONS_LABEL]: EXEMPTIONS_ALLOWED });

/** `RULE honoured|counted` per finding. */
function verdicts(object: Obj, context: ExemptionContext): string[] {
  return checkObject(object, undefined, context).map(
    (f) => `${f.ruleId} ${isViolation(f) ? "counts" : `exempt (${f.exemption?.by})`}`,
  );
}

describe("an object's own exemption", () => {
  const object = writable(exempt("TF-PROC-011", "vendor image"));

  test.each<[string, ExemptionContext, string[]]>([
    [
      "in a namespace that allows exemptions",
      { namespace: allowing },
      ["TF-PROC-010 counts", "TF-PROC-011 exempt (object)"],
    ],
    [
      "in a namespace that does not",
      { namespace: namespace() },
      ["TF-PROC-010 counts", "TF-PROC-011 counts"],
    ],
    ["where the namespace is unknown", {}, ["TF-PROC-010 counts", "TF-PROC-011 counts"]],
    [
      "unknown, with --allow-exemptions",
      { allowObjectExemptions: true },
      ["TF-PROC-010 counts", "TF-PROC-011 exempt (object)"],
    ],
  ])("%s", (_what, context, expected) => {
    expect(verdicts(object, context)).toEqual(expected);
  });

  test("says why it does not count", () => {
    const [, finding] = checkObject(object, undefined, { namespace: namespace() });
    expect(finding?.exemption).toEqual({
      by: "object",
      reason: "vendor image",
      honoured: false,
      note: expect.stringContaining(`${EXEMPTIONS_LABEL}=${EXEMPTIONS_ALLOWED}`),
    });
  });

  test("needs a reason", () => {
    const [, finding] = checkObject(writable(exempt("TF-PROC-011", "  ")), undefined, {
      namespace: allowing,
    });
    expect(finding?.exemption?.honoured).toBe(false);
    expect(finding?.exemption?.note).toContain(EXEMPT_REASON_ANNOTATION);
  });

  test("is read from the pod template of a workload, not the workload's own metadata", () => {
    const onWorkload = writable({}, exempt("TF-PROC-011", "vendor image"));
    expect(verdicts(onWorkload, { namespace: allowing })).toEqual([
      "TF-PROC-010 counts",
      "TF-PROC-011 counts",
    ]);
  });
});

describe("a Namespace's exemption (an admin's)", () => {
  test("counts for every object in it, whatever its label", () => {
    const ns = namespace({}, exempt("TF-PROC-010", "batch scratch, reviewed"));
    expect(verdicts(writable({}), { namespace: ns })).toEqual([
      "TF-PROC-010 exempt (namespace)",
      "TF-PROC-011 counts",
    ]);
  });

  test("needs a reason too", () => {
    const ns = namespace({}, exempt("TF-PROC-010"));
    expect(verdicts(writable({}), { namespace: ns })).toEqual([
      "TF-PROC-010 counts",
      "TF-PROC-011 counts",
    ]);
  });
});

test("rule lists tolerate blanks and trailing commas", () => {
  expect(parseRuleList(" TF-PROC-010 ,TF-PROC-011,, ")).toEqual(["TF-PROC-010", "TF-PROC-011"]);
});
