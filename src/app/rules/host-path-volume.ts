// TF-PROC-006: a hostPath volume, state kept on the node the pod happens to run on.

import { objectAt, stringAt } from "./json.ts";

import { celVolumesWhere, volumesWith } from "./pod-volumes.ts";
import { POD_TEMPLATES, type Rule } from "./rule.ts";

export const hostPathVolume: Rule = {
  id: "TF-PROC-006",
  title: "hostPath volume",
  severity: "error",
  why:
    "A hostPath volume writes to the node's disk: the data stays behind when the pod moves to " +
    "another node, and pods on the same node share it, so processes are neither disposable " +
    "nor share-nothing.",
  fix:
    "Write durable data to a backing service (a database, object storage); use a bounded " +
    "emptyDir for single-request scratch space.",
  targets: POD_TEMPLATES,
  check: (input) =>
    volumesWith(input, "hostPath", (v) => {
      const path = stringAt(objectAt(v.volume, "hostPath"), "path");
      return `volume "${v.name}" mounts the node's ${path ?? "filesystem"}`;
    }),
  cel: [{ targets: POD_TEMPLATES, paths: celVolumesWhere("has(v.hostPath)", ".hostPath") }],
};
