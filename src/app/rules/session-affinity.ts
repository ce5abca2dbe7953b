// TF-PROC-001: a Service that sends each client to the same pod.
import { objectAt, stringAt } from "./json.ts";
import type { Rule } from "./rule.ts";
import { service } from "./targets.ts";

export const serviceSessionAffinity: Rule = {
  id: "TF-PROC-001",
  title: "Service session affinity",
  severity: "error",
  why:
    "sessionAffinity: ClientIP makes kube-proxy send every connection from a client to the pod " +
    "that served it first, which only helps when that pod holds state the others lack; when the " +
    "pod goes away, so does whatever the client relied on.",
  fix:
    "Remove sessionAffinity (or set it to None) and keep session state in a backing service " +
    "such as Redis or Memcached.",
  targets: [service],
  check: ({ object }) =>
    stringAt(objectAt(object, "spec"), "sessionAffinity") === "ClientIP"
      ? [{ path: ["spec", "sessionAffinity"], message: "sessionAffinity is ClientIP" }]
      : [],
  cel: [
    {
      targets: [service],
      paths:
        "object.spec.?sessionAffinity.orValue('None') == 'ClientIP' ? ['spec.sessionAffinity'] : []",
    },
  ],
};
