// TF-PROC-008: a generic ephemeral volume, a claim provisioned per pod.
import { podTemplateTargets } from "./pod-spec.ts";
import { celVolumesWhere, volumesWith } from "./pod-volumes.ts";
import type { Rule } from "./rule.ts";

export const ephemeralVolumeClaim: Rule = {
  id: "TF-PROC-008",
  title: "ephemeral volume claim template",
  severity: "error",
  why:
    "A generic ephemeral volume provisions a persistent volume per pod from a claim template: " +
    "an unbounded local store that invites processes to keep state, and that storage classes " +
    "may retain or snapshot beyond the pod's life.",
  fix:
    "Use an emptyDir with a sizeLimit for per-request scratch space, and a backing service " +
    "for anything that must outlive the request.",
  targets: podTemplateTargets,
  check: (object) =>
    volumesWith(object, "ephemeral", (v) => `volume "${v.name}" provisions a volume claim per pod`),
  cel: [{ targets: podTemplateTargets, paths: celVolumesWhere("has(v.ephemeral)", ".ephemeral") }],
};
