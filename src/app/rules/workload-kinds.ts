// The kinds that carry a pod template, and where: built-in workloads, the shipped extras, a user's list.
import { err, ok, type Result } from "../../api/index.ts";
import { isObject } from "./json.ts";
import {
  cronJob,
  daemonSet,
  deployment,
  job,
  pod,
  replicaSet,
  replicationController,
  statefulSet,
  type Target,
} from "./targets.ts";

/** A kind whose objects run pods, with the paths both checkers read them at. */
export interface WorkloadKind extends Target {
  /**
   * Path of the pod template: the object holding the pod's `metadata` and `spec`. Empty when
   * the object is the pod itself (a Pod, a Knative Revision, whose spec inlines a pod spec).
   */
  readonly template: readonly string[];
  /** Path of a list of PersistentVolumeClaim templates, one claim per pod (StatefulSet). */
  readonly volumeClaimTemplates?: readonly string[];
  /** Who makes this kind, for documentation. */
  readonly project?: string;
}

const template = ["spec", "template"] as const;
const claims = ["spec", "volumeClaimTemplates"] as const;

/** The Kubernetes workload kinds. StatelessApps are not here: admission sees their Deployments. */
export const builtinWorkloadKinds: readonly WorkloadKind[] = [
  { ...pod, template: [] },
  { ...deployment, template },
  { ...replicaSet, template },
  { ...daemonSet, template },
  { ...statefulSet, template, volumeClaimTemplates: claims },
  { ...job, template },
  { ...cronJob, template: ["spec", "jobTemplate", "spec", "template"] },
  { ...replicationController, template },
];

/** Widely used custom workload kinds, shipped in the default list. */
export const shippedWorkloadKinds: readonly WorkloadKind[] = [
  {
    group: "argoproj.io",
    kind: "Rollout",
    resource: "rollouts",
    template,
    project: "Argo Rollouts",
  },
  {
    group: "apps.kruise.io",
    kind: "CloneSet",
    resource: "clonesets",
    template,
    volumeClaimTemplates: claims,
    project: "OpenKruise",
  },
  {
    group: "serving.knative.dev",
    kind: "Service",
    resource: "services",
    template,
    project: "Knative Serving",
  },
  {
    group: "serving.knative.dev",
    kind: "Configuration",
    resource: "configurations",
    template,
    project: "Knative Serving",
  },
  // A Revision's spec is a pod spec with a few fields added; its own metadata is the pod's.
  {
    group: "serving.knative.dev",
    kind: "Revision",
    resource: "revisions",
    template: [],
    project: "Knative Serving",
  },
];

export const defaultWorkloadKinds: readonly WorkloadKind[] = [
  ...builtinWorkloadKinds,
  ...shippedWorkloadKinds,
];

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;
const RESOURCE = /^[a-z][a-z0-9]*$/;
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `spec.template` → ["spec", "template"]; "" → [] (the object itself). */
function parsePath(text: unknown, where: string, emptyAllowed: boolean): Result<string[], string> {
  if (typeof text !== "string") return err(`${where}: must be a dotted field path`);
  if (text === "") return emptyAllowed ? ok([]) : err(`${where}: must not be empty`);
  const fields = text.split(".");
  const bad = fields.find((f) => !FIELD.test(f));
  return bad === undefined
    ? ok(fields)
    : err(`${where}: "${text}" is not a dotted field path (bad field "${bad}")`);
}

/**
 * More workload kinds, from a YAML or JSON list (`--workload-kinds`): each entry names
 * `group`, `kind`, `resource`, `template` (a dotted path, "" for the object itself) and
 * optionally `volumeClaimTemplates`. They add to the defaults; a kind listed twice is an error.
 */
export function parseWorkloadKinds(
  value: unknown,
  base: readonly WorkloadKind[] = defaultWorkloadKinds,
): Result<WorkloadKind[], string[]> {
  const entries = Array.isArray(value)
    ? value
    : isObject(value) && Array.isArray(value.workloadKinds)
      ? value.workloadKinds
      : undefined;
  if (entries === undefined)
    return err(["must be a list of workload kinds (or {workloadKinds: [...]})"]);
  const problems: string[] = [];
  const out: WorkloadKind[] = [...base];
  for (const [i, entry] of entries.entries()) {
    const at = `[${i}]`;
    if (!isObject(entry)) {
      problems.push(`${at}: must be a mapping`);
      continue;
    }
    const { group, kind, resource } = entry;
    const before = problems.length;
    if (typeof group !== "string" || (group !== "" && !DNS_SUBDOMAIN.test(group)))
      problems.push(`${at}.group: must be an API group ("" for the core group)`);
    if (typeof kind !== "string" || !KIND.test(kind))
      problems.push(`${at}.kind: must be a kind such as Rollout`);
    if (typeof resource !== "string" || !RESOURCE.test(resource))
      problems.push(`${at}.resource: must be the plural resource name, lower case`);
    const templatePath = parsePath(entry.template, `${at}.template`, true);
    if (!templatePath.ok) problems.push(templatePath.error);
    const claimPath =
      entry.volumeClaimTemplates === undefined
        ? undefined
        : parsePath(entry.volumeClaimTemplates, `${at}.volumeClaimTemplates`, false);
    if (claimPath !== undefined && !claimPath.ok) problems.push(claimPath.error);
    const unknown = Object.keys(entry).filter(
      (k) => !["group", "kind", "resource", "template", "volumeClaimTemplates"].includes(k),
    );
    for (const k of unknown) problems.push(`${at}.${k}: unknown field`);
    if (problems.length > before || !templatePath.ok) continue;
    const parsed: WorkloadKind = {
      group: group as string,
      kind: kind as string,
      resource: resource as string,
      template: templatePath.value,
      ...(claimPath?.ok ? { volumeClaimTemplates: claimPath.value } : {}),
    };
    const same = out.find(
      (k) => k.group === parsed.group && (k.kind === parsed.kind || k.resource === parsed.resource),
    );
    if (same !== undefined) {
      problems.push(`${at}: ${same.kind}.${same.group || "core"} is already a workload kind`);
      continue;
    }
    out.push(parsed);
  }
  return problems.length > 0 ? err(problems) : ok(out);
}
