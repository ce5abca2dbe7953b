// TF-PROC-003: Service annotations that turn on stickiness in a proxy or cloud load balancer.
import type { Rule } from "./rule.ts";
import {
  celStickyAnnotations,
  findStickyAnnotations,
  stickyServiceAnnotations,
} from "./sticky-annotations.ts";
import { service } from "./targets.ts";

export const serviceStickyAnnotations: Rule = {
  id: "TF-PROC-003",
  title: "sticky-session Service annotation",
  severity: "error",
  why:
    "The load balancer in front of the Service (Traefik, an AWS target group, a DigitalOcean " +
    "load balancer) pins each client to one pod, which only matters when pods hold session " +
    "state; that state dies with the pod.",
  fix:
    "Delete the stickiness annotations and keep session state in a backing service that every " +
    "process can read.",
  targets: [service],
  check: ({ object }) => findStickyAnnotations(object, stickyServiceAnnotations),
  cel: [{ targets: [service], paths: celStickyAnnotations(stickyServiceAnnotations) }],
};
