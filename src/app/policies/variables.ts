// The variables every generated policy declares, which the rules' CEL may read.
import {
  celPlatformPatterns,
  celString,
  celStrings,
  EXEMPT_ANNOTATION,
  EXEMPT_REASON_ANNOTATION,
  EXEMPTIONS_ALLOWED,
  EXEMPTIONS_LABEL,
  groupKind,
  type RuleSet,
  type WorkloadKind,
} from "../rules/index.ts";

export interface PolicyVariable {
  readonly name: string;
  readonly expression: string;
}

/**
 * `variables.gk in [k1, k2] ? e1 : … : eLast`: one expression per workload kind, kinds that
 * render alike grouped, the largest group last (it is the fallback branch).
 */
function byKind(kinds: readonly WorkloadKind[], render: (kind: WorkloadKind) => string): string {
  const groups = new Map<string, string[]>();
  for (const kind of kinds) {
    const expression = render(kind);
    groups.set(expression, [...(groups.get(expression) ?? []), groupKind(kind)]);
  }
  const ordered = [...groups.entries()].sort((a, b) => a[1].length - b[1].length);
  const last = ordered.at(-1);
  if (last === undefined) return "null";
  const branches = ordered
    .slice(0, -1)
    .map(([expression, gks]) => `variables.gk in ${celStrings(gks)} ? ${expression} :`);
  return [...branches, last[0]].join("\n");
}

/** `dyn(object).?a.?b.orValue(fallback)`: absent parts read as the fallback, never an error. */
const optionalAt = (path: readonly string[], fallback: string): string =>
  path.length === 0
    ? "dyn(object)"
    : `dyn(object)${path.map((f) => `.?${f}`).join("")}.orValue(${fallback})`;

/** Rule ids from a comma-separated annotation of `map`, or none. */
const ruleList = (map: string, key: string): string =>
  `(${celString(key)} in ${map} ? ${map}[${celString(key)}].split(',').map(r, r.trim()).filter(r, r != '') : [])`;
const reasonOf = (map: string): string =>
  `(${celString(EXEMPT_REASON_ANNOTATION)} in ${map} ? ${map}[${celString(EXEMPT_REASON_ANNOTATION)}].trim() : '')`;

/**
 * Variables are evaluated lazily, the first time an expression reads them, so a pod-spec
 * variable costs nothing on a Service. `dyn()` keeps the type checker from reading
 * `object.spec.template` against every matched kind's schema.
 */
export function policyVariables(set: RuleSet): PolicyVariable[] {
  const kinds = set.workloadKinds;
  const templateOf = (k: WorkloadKind, field: string) => [...k.template, field];
  return [
    {
      // The request's `group/Kind` ("/Pod", "apps/Deployment"): what the rules' cases match.
      name: "gk",
      expression: "request.kind.group + '/' + request.kind.kind",
    },
    { name: "isWorkload", expression: `variables.gk in ${celStrings(kinds.map(groupKind))}` },
    {
      name: "podSpecPath",
      expression: byKind(kinds, (k) => celString(templateOf(k, "spec").join("."))),
    },
    { name: "podSpec", expression: byKind(kinds, (k) => optionalAt(templateOf(k, "spec"), "{}")) },
    {
      name: "podMetadata",
      expression: byKind(kinds, (k) => optionalAt(templateOf(k, "metadata"), "{}")),
    },
    { name: "podAnnotations", expression: "variables.podMetadata.?annotations.orValue({})" },
    { name: "podLabels", expression: "variables.podMetadata.?labels.orValue({})" },
    { name: "volumes", expression: "variables.podSpec.?volumes.orValue([])" },
    {
      name: "claimTemplatesPath",
      expression: byKind(kinds, (k) => celString((k.volumeClaimTemplates ?? []).join("."))),
    },
    {
      name: "claimTemplates",
      expression: byKind(kinds, (k) =>
        k.volumeClaimTemplates === undefined ? "[]" : optionalAt(k.volumeClaimTemplates, "[]"),
      ),
    },
    // Names (patterns) of what known injectors added to this pod (see rules/injectors.ts).
    { name: "platformContainers", expression: celPlatformPatterns("containers") },
    { name: "platformVolumes", expression: celPlatformPatterns("emptyDirs") },
    { name: "annotations", expression: "object.metadata.?annotations.orValue({})" },
    // Exemptions (see rules/exemptions.ts): the pod template's annotations for workloads.
    {
      name: "exemptionAnnotations",
      expression: "variables.isWorkload ? variables.podAnnotations : variables.annotations",
    },
    {
      name: "namespaceAnnotations",
      expression:
        "namespaceObject == null ? {} : namespaceObject.metadata.?annotations.orValue({})",
    },
    {
      name: "exemptionsAllowed",
      expression: `namespaceObject != null && namespaceObject.metadata.?labels.orValue({}).exists(k, k == ${celString(EXEMPTIONS_LABEL)} && namespaceObject.metadata.labels[k] == ${celString(EXEMPTIONS_ALLOWED)})`,
    },
    {
      name: "objectExemptRules",
      expression: ruleList("variables.exemptionAnnotations", EXEMPT_ANNOTATION),
    },
    { name: "objectExemptReason", expression: reasonOf("variables.exemptionAnnotations") },
    {
      name: "objectExemptHonoured",
      expression: "variables.objectExemptReason != '' && variables.exemptionsAllowed",
    },
    {
      name: "namespaceExemptRules",
      expression: `${reasonOf("variables.namespaceAnnotations")} == '' ? [] : ${ruleList("variables.namespaceAnnotations", EXEMPT_ANNOTATION)}`,
    },
    {
      // The rule ids whose findings this object does not answer for.
      name: "exempt",
      expression:
        "variables.namespaceExemptRules + (variables.objectExemptHonoured ? variables.objectExemptRules : [])",
    },
    {
      name: "exemptionIgnored",
      expression: "size(variables.objectExemptRules) > 0 && !variables.objectExemptHonoured",
    },
  ];
}
