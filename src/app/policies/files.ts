// The policy manifests as files for manifests/policies/: YAML text, kustomization included.
import { stringify } from "yaml";
import { defaultRuleSet, type RuleSet } from "../rules/index.ts";
import { renderPolicySet } from "./policy-set.ts";

export interface GeneratedFile {
  /** Path relative to the repository root. */
  readonly path: string;
  readonly content: string;
}

export const POLICY_DIR = "manifests/policies";

const header = [
  "# Generated from src/app/rules by `npm run generate`; do not edit.",
  "# Requires Kubernetes 1.33 or newer (ValidatingAdmissionPolicy v1, CEL two-variable comprehensions).",
].join("\n");

// Shared objects (labels, variables) must not become YAML anchors.
const toYaml = (docs: readonly unknown[]): string =>
  `${header}\n${docs.map((d) => `---\n${stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })}`).join("")}`;

/** Every file of manifests/policies/, deterministic. */
export function renderPolicyFiles(set: RuleSet = defaultRuleSet): GeneratedFile[] {
  const groups = renderPolicySet(set);
  const files = groups.map((g) => {
    const name = (g.policy.metadata as { name: string }).name;
    return { path: `${POLICY_DIR}/${name}.yaml`, content: toYaml([g.policy, ...g.bindings]) };
  });
  const kustomization = {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    resources: files.map((f) => f.path.slice(POLICY_DIR.length + 1)),
  };
  return [...files, { path: `${POLICY_DIR}/kustomization.yaml`, content: toYaml([kustomization]) }];
}
