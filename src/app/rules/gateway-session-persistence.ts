// TF-PROC-004: Gateway API session persistence on route rules and backend policies.
import { celIndexed } from "./cel.ts";
import { hasField, listAt, objectAt } from "./json.ts";
import type { Rule, Violation } from "./rule.ts";
import {
  backendLBPolicy,
  grpcRoute,
  httpRoute,
  targetOf,
  xBackendTrafficPolicy,
} from "./targets.ts";

const routes = [httpRoute, grpcRoute];
const policies = [backendLBPolicy, xBackendTrafficPolicy];

export const gatewaySessionPersistence: Rule = {
  id: "TF-PROC-004",
  title: "Gateway API session persistence",
  severity: "error",
  why:
    "sessionPersistence tells the gateway to send a client's requests to the backend that " +
    "served the first one, by cookie or header; the app then depends on per-pod session " +
    "state that a restart or a rollout throws away.",
  fix:
    "Remove sessionPersistence and keep session state in a backing service that every " +
    "process can read.",
  targets: [...routes, ...policies],
  check: ({ object }) => {
    const spec = objectAt(object, "spec");
    if (targetOf(object, policies) !== undefined) {
      return hasField(spec, "sessionPersistence")
        ? [{ path: ["spec", "sessionPersistence"], message: "sessionPersistence is set" }]
        : [];
    }
    const violations: Violation[] = [];
    for (const [i, rule] of listAt(spec, "rules").entries()) {
      if (!hasField(rule, "sessionPersistence")) continue;
      violations.push({
        path: ["spec", "rules", i, "sessionPersistence"],
        message: `route rule ${i} sets sessionPersistence`,
      });
    }
    return violations;
  },
  cel: [
    {
      targets: routes,
      paths: `object.spec.?rules.orValue([]).transformList(i, r, has(r.sessionPersistence), ${celIndexed("'spec.rules'", "i", ".sessionPersistence")})`,
    },
    {
      targets: policies,
      paths: "object.spec.?sessionPersistence.hasValue() ? ['spec.sessionPersistence'] : []",
    },
  ],
};
