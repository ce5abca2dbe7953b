// The variables every generated policy declares, which the rules' CEL may read.
import { celString, podSpecPaths } from "../rules/index.ts";

export interface PolicyVariable {
  readonly name: string;
  readonly expression: string;
}

/** Pod-spec paths by `group/Kind`, most common last (it becomes the fallback branch). */
function podSpecCases(): [string, readonly string[]][] {
  const entries = [...podSpecPaths.entries()];
  const counts = new Map<string, number>();
  for (const [, path] of entries) counts.set(path.join("."), (counts.get(path.join(".")) ?? 0) + 1);
  const common = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  return [
    ...entries.filter(([, path]) => path.join(".") !== common),
    ...entries.filter(([, path]) => path.join(".") === common).slice(0, 1),
  ];
}

/** `variables.gk == k1 ? e1 : variables.gk == k2 ? e2 : … : eLast`. */
function byKind(render: (path: readonly string[]) => string): string {
  const cases = podSpecCases();
  const last = cases.at(-1);
  if (last === undefined) return "null";
  const branches = cases
    .slice(0, -1)
    .map(([gk, path]) => `variables.gk == ${celString(gk)} ? ${render(path)} :`);
  return [...branches, render(last[1])].join("\n");
}

/**
 * Variables are evaluated lazily, the first time an expression reads them, so a pod-spec
 * variable costs nothing on a Service. `dyn()` keeps the type checker from reading
 * `object.spec.template` against every matched kind's schema.
 */
export const policyVariables: readonly PolicyVariable[] = [
  {
    // The request's `group/Kind` ("/Pod", "apps/Deployment"): what the rules' cases match.
    name: "gk",
    expression: "request.kind.group + '/' + request.kind.kind",
  },
  { name: "podSpecPath", expression: byKind((path) => celString(path.join("."))) },
  { name: "podSpec", expression: byKind((path) => `dyn(object).${path.join(".")}`) },
  { name: "volumes", expression: "variables.podSpec.?volumes.orValue([])" },
  { name: "annotations", expression: "object.metadata.?annotations.orValue({})" },
];
