// TF-PROC-013: a StatefulSet in a namespace that asked for stateless processes.
import type { Rule } from "./rule.ts";
import { statefulSet as statefulSetTarget } from "./targets.ts";

export const statefulSet: Rule = {
  id: "TF-PROC-013",
  title: "StatefulSet",
  severity: "warning",
  why:
    "A StatefulSet gives each pod a stable identity and its own storage: the shape of a " +
    "backing service (a database, a queue), not of an app process. Where a namespace opted " +
    "into stateless enforcement it is most likely a process that should be a Deployment.",
  fix:
    "Run app processes as Deployments (or a StatelessApp); run stateful backing services in " +
    "a namespace of their own, or use a managed service.",
  targets: [statefulSetTarget],
  check: () => [{ path: ["kind"], message: "StatefulSet runs stateful pods" }],
  cel: [{ targets: [statefulSetTarget], paths: "['kind']" }],
};
