// TF-PROC-005: session affinity configured in a proxy's or cloud load balancer's own resources.
import { celFlatten, celIndexed, celStrings } from "./cel.ts";
import type { FieldPath } from "./field-path.ts";
import { type JsonObject, listAt, objectAt, stringAt, valueAt } from "./json.ts";
import type { Rule, Violation } from "./rule.ts";
import {
  contourHTTPProxy,
  gkeBackendConfig,
  gkeGCPBackendPolicy,
  istioDestinationRule,
  type Target,
  targetOf,
  traefikIngressRoute,
  traefikLegacyIngressRoute,
} from "./targets.ts";

const ingressRoutes = [traefikIngressRoute, traefikLegacyIngressRoute];
/** Contour strategies that hash a client attribute to pick the endpoint. */
const contourStickyStrategies = ["Cookie", "RequestHash"] as const;

const violation = (path: FieldPath, message: string): Violation => ({ path, message });

function checkGke(object: JsonObject, path: readonly string[]): Violation[] {
  const type = valueAt(object, path);
  return typeof type === "string" && type !== "NONE"
    ? [violation(path, `session affinity ${type} pins clients to one backend`)]
    : [];
}

function checkContour(object: JsonObject): Violation[] {
  const violations: Violation[] = [];
  for (const [i, route] of listAt(objectAt(object, "spec"), "routes").entries()) {
    const strategy = stringAt(objectAt(route, "loadBalancerPolicy"), "strategy");
    if (
      strategy === undefined ||
      !(contourStickyStrategies as readonly string[]).includes(strategy)
    )
      continue;
    violations.push(
      violation(
        ["spec", "routes", i, "loadBalancerPolicy", "strategy"],
        `load-balancer strategy ${strategy} pins clients to one endpoint`,
      ),
    );
  }
  return violations;
}

function checkTraefik(object: JsonObject): Violation[] {
  const violations: Violation[] = [];
  for (const [i, route] of listAt(objectAt(object, "spec"), "routes").entries()) {
    for (const [j, svc] of listAt(route, "services").entries()) {
      if (objectAt(svc, "sticky") === undefined) continue;
      violations.push(
        violation(["spec", "routes", i, "services", j, "sticky"], "sticky is set on a service"),
      );
    }
  }
  return violations;
}

function checkTrafficPolicy(policy: unknown, path: FieldPath): Violation[] {
  const hashed = (settings: unknown) =>
    objectAt(objectAt(settings, "loadBalancer"), "consistentHash") !== undefined;
  const message = "consistentHash load balancing pins clients to one endpoint";
  const violations: Violation[] = [];
  if (hashed(policy))
    violations.push(violation([...path, "loadBalancer", "consistentHash"], message));
  for (const [j, port] of listAt(policy, "portLevelSettings").entries()) {
    if (!hashed(port)) continue;
    violations.push(
      violation([...path, "portLevelSettings", j, "loadBalancer", "consistentHash"], message),
    );
  }
  return violations;
}

function checkIstio(object: JsonObject): Violation[] {
  const spec = objectAt(object, "spec");
  const subsets = listAt(spec, "subsets").flatMap((subset, i) =>
    checkTrafficPolicy(objectAt(subset, "trafficPolicy"), ["spec", "subsets", i, "trafficPolicy"]),
  );
  return [
    ...checkTrafficPolicy(objectAt(spec, "trafficPolicy"), ["spec", "trafficPolicy"]),
    ...subsets,
  ];
}

/** CEL for an Istio TrafficPolicy: `policy` is an optional, `path` a string expression. */
function celTrafficPolicy(policy: string, path: string): string {
  const top = `(${policy}.?loadBalancer.?consistentHash.hasValue() ? [${path} + '.loadBalancer.consistentHash'] : [])`;
  const ports = `${policy}.?portLevelSettings.orValue([]).transformList(j, pls, pls.?loadBalancer.?consistentHash.hasValue(), ${celIndexed(`${path} + '.portLevelSettings'`, "j", ".loadBalancer.consistentHash")})`;
  return `${top} + ${ports}`;
}

const targets: readonly Target[] = [
  gkeBackendConfig,
  gkeGCPBackendPolicy,
  contourHTTPProxy,
  ...ingressRoutes,
  istioDestinationRule,
];

export const proxySessionAffinity: Rule = {
  id: "TF-PROC-005",
  title: "load-balancer session affinity",
  severity: "error",
  why:
    "Session affinity in the load balancer's own configuration (a GKE BackendConfig or " +
    "GCPBackendPolicy, a Contour HTTPProxy, a Traefik IngressRoute, an Istio DestinationRule) " +
    "routes a client back to the same pod, which hides per-pod session state until that pod " +
    "is replaced.",
  fix:
    "Use a load-balancing policy without affinity (round robin, least request) and keep " +
    "session state in a backing service every process can read.",
  targets,
  check: ({ object }) => {
    const target = targetOf(object, targets);
    if (target === gkeBackendConfig)
      return checkGke(object, ["spec", "sessionAffinity", "affinityType"]);
    if (target === gkeGCPBackendPolicy)
      return checkGke(object, ["spec", "default", "sessionAffinity", "type"]);
    if (target === contourHTTPProxy) return checkContour(object);
    if (target === istioDestinationRule) return checkIstio(object);
    if (target !== undefined) return checkTraefik(object);
    return [];
  },
  cel: [
    {
      targets: [gkeBackendConfig],
      paths:
        "object.spec.?sessionAffinity.?affinityType.orValue('NONE') != 'NONE' ? ['spec.sessionAffinity.affinityType'] : []",
    },
    {
      targets: [gkeGCPBackendPolicy],
      paths:
        "object.spec.?default.?sessionAffinity.?type.orValue('NONE') != 'NONE' ? ['spec.default.sessionAffinity.type'] : []",
    },
    {
      targets: [contourHTTPProxy],
      paths: `object.spec.?routes.orValue([]).transformList(i, r, r.?loadBalancerPolicy.?strategy.orValue('') in ${celStrings(contourStickyStrategies)}, ${celIndexed("'spec.routes'", "i", ".loadBalancerPolicy.strategy")})`,
    },
    {
      targets: ingressRoutes,
      paths: celFlatten(
        `object.spec.?routes.orValue([]).transformList(i, r, r.?services.orValue([]).transformList(j, s, has(s.sticky), ${celIndexed(`${celIndexed("'spec.routes'", "i", ".services")}`, "j", ".sticky")}))`,
      ),
    },
    {
      targets: [istioDestinationRule],
      paths: `${celTrafficPolicy("object.spec.?trafficPolicy", "'spec.trafficPolicy'")} + ${celFlatten(
        `object.spec.?subsets.orValue([]).transformList(i, sub, ${celTrafficPolicy("sub.?trafficPolicy", `${celIndexed("'spec.subsets'", "i", ".trafficPolicy")}`)})`,
      )}`,
    },
  ],
};
