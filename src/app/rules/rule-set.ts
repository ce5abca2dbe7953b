// The processes rule set, in id order, with the workload kinds its pod-spec rules look into.
import { ephemeralVolumeClaim } from "./ephemeral-volume-claim.ts";
import { gatewaySessionPersistence } from "./gateway-session-persistence.ts";
import { hostNamespace } from "./host-namespaces.ts";
import { hostPathVolume } from "./host-path-volume.ts";
import { ingressStickyAnnotations } from "./ingress-sticky-annotations.ts";
import { inlineCsiVolume } from "./inline-csi-volume.ts";
import { networkVolume } from "./network-volume.ts";
import { persistentVolumeClaim } from "./persistent-volume-claim.ts";
import { proxySessionAffinity } from "./proxy-session-affinity.ts";
import { POD_TEMPLATES, type Rule, type Scope } from "./rule.ts";
import { serviceStickyAnnotations } from "./service-sticky-annotations.ts";
import { serviceSessionAffinity } from "./session-affinity.ts";
import { statefulSet } from "./stateful-set.ts";
import type { Target } from "./targets.ts";
import { unboundedEmptyDir } from "./unbounded-empty-dir.ts";
import { unmanagedPod } from "./unmanaged-pod.ts";
import { defaultWorkloadKinds, type WorkloadKind } from "./workload-kinds.ts";
import { writableRootFilesystem } from "./writable-root-filesystem.ts";

export const rules: readonly Rule[] = [
  serviceSessionAffinity,
  ingressStickyAnnotations,
  serviceStickyAnnotations,
  gatewaySessionPersistence,
  proxySessionAffinity,
  hostPathVolume,
  persistentVolumeClaim,
  ephemeralVolumeClaim,
  networkVolume,
  unboundedEmptyDir,
  writableRootFilesystem,
  hostNamespace,
  statefulSet,
  unmanagedPod,
  inlineCsiVolume,
];

/** What audit runs and the admission policies enforce: the rules, over these workload kinds. */
export interface RuleSet {
  readonly rules: readonly Rule[];
  readonly workloadKinds: readonly WorkloadKind[];
}

/** The rule set over `workloadKinds` (the built-in and shipped kinds by default). */
export function ruleSet(workloadKinds: readonly WorkloadKind[] = defaultWorkloadKinds): RuleSet {
  return { rules, workloadKinds };
}

export const defaultRuleSet: RuleSet = ruleSet();

/** The targets a scope stands for in a rule set. */
export function resolveScope(scope: Scope, set: RuleSet): readonly Target[] {
  return scope === POD_TEMPLATES ? set.workloadKinds : scope;
}

/** Every target of the rule set, once each (by group and resource), in rule order. */
export function targetsOf(set: RuleSet): Target[] {
  const seen = new Map<string, Target>();
  for (const rule of set.rules)
    for (const t of resolveScope(rule.targets, set)) seen.set(`${t.group}/${t.resource}`, t);
  return [...seen.values()];
}
