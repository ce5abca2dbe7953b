// TF-PROC-002: Ingress annotations that turn on sticky sessions in the ingress controller.
import type { Rule } from "./rule.ts";
import {
  celStickyAnnotations,
  findStickyAnnotations,
  stickyIngressAnnotations,
} from "./sticky-annotations.ts";
import { ingress } from "./targets.ts";

export const ingressStickyAnnotations: Rule = {
  id: "TF-PROC-002",
  title: "sticky-session Ingress annotation",
  severity: "error",
  why:
    "A session cookie set by the ingress controller pins each browser to one pod, so the app " +
    "can keep session data in that pod's memory; a restart, a scale-down or a redeploy then " +
    "logs users out or loses their work.",
  fix:
    "Delete the affinity and session-cookie annotations and keep session state in a backing " +
    "service (Redis, Memcached, a database) that every process can read.",
  targets: [ingress],
  check: ({ object }) => findStickyAnnotations(object, stickyIngressAnnotations),
  cel: [{ targets: [ingress], paths: celStickyAnnotations(stickyIngressAnnotations) }],
};
