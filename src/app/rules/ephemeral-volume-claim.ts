// TF-PROC-008: a generic ephemeral volume, a claim provisioned per pod.

import { celVolumesWhere, volumesWith } from "./pod-volumes.ts";
import { POD_TEMPLATES, type Rule } from "./rule.ts";

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
  targets: POD_TEMPLATES,
  check: (input) =>
    volumesWith(input, "ephemeral", (v) => `volume "${v.name}" provisions a volume claim per pod`),
  cel: [{ targets: POD_TEMPLATES, paths: celVolumesWhere("has(v.ephemeral)", ".ephemeral") }],
};
