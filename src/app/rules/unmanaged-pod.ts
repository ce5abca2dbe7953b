// TF-PROC-014: a pod no controller owns, so nothing replaces it when it goes.
import { isObject, listAt, objectAt } from "./json.ts";
import type { Rule } from "./rule.ts";
import { pod } from "./targets.ts";

export const unmanagedPod: Rule = {
  id: "TF-PROC-014",
  title: "pod without a controller",
  severity: "info",
  why:
    "Processes must be disposable: a pod can be evicted or its node lost at any time. A pod " +
    "created directly has no controller to start a replacement, so losing it loses the process.",
  fix: "Run the process from a Deployment (or a Job for one-off work, or a StatelessApp).",
  targets: [pod],
  check: ({ object }) => {
    const owners = listAt(objectAt(object, "metadata"), "ownerReferences");
    const controlled = owners.some((o) => isObject(o) && o.controller === true);
    return controlled
      ? []
      : [{ path: ["metadata", "ownerReferences"], message: "no controller owns this pod" }];
  },
  cel: [
    {
      targets: [pod],
      paths:
        "object.metadata.?ownerReferences.orValue([]).exists(o, o.?controller.orValue(false) == true) ? [] : ['metadata.ownerReferences']",
    },
  ],
};
