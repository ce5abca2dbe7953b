// Annotations by which ingress controllers and cloud load balancers pin clients to a pod.
import { celString, celStrings } from "./cel.ts";
import { mapKey } from "./field-path.ts";
import { isObject, type JsonObject, objectAt } from "./json.ts";
import type { Violation } from "./rule.ts";

/** How an annotation turns stickiness on. Values compare case-insensitively. */
export type AnnotationMatch =
  /** The key, with one of `values` (any value when absent). */
  | { readonly key: string; readonly values?: readonly string[] }
  /** Any key starting with `prefix`: settings that only exist for sticky sessions. */
  | { readonly prefix: string }
  /** The key, holding a comma-separated list with `item` (blanks ignored). */
  | { readonly key: string; readonly listItem: string };

export interface StickyAnnotation {
  /** Who reads the annotation, for messages. */
  readonly controller: string;
  readonly match: AnnotationMatch;
}

/** On Ingress objects. */
export const stickyIngressAnnotations: readonly StickyAnnotation[] = [
  // ingress-nginx: only `cookie` affinity exists; the rest configures that cookie.
  {
    controller: "ingress-nginx",
    match: { key: "nginx.ingress.kubernetes.io/affinity", values: ["cookie"] },
  },
  { controller: "ingress-nginx", match: { key: "nginx.ingress.kubernetes.io/affinity-mode" } },
  {
    controller: "ingress-nginx",
    match: { key: "nginx.ingress.kubernetes.io/affinity-canary-behavior" },
  },
  { controller: "ingress-nginx", match: { prefix: "nginx.ingress.kubernetes.io/session-cookie-" } },
  // F5 NGINX Ingress Controller (NGINX Plus).
  { controller: "NGINX Ingress Controller", match: { key: "nginx.com/sticky-cookie-services" } },
  // Traefik 1.x reads these on the Ingress (2.x and later read `service.sticky.*` on the Service).
  {
    controller: "Traefik 1.x",
    match: { key: "traefik.ingress.kubernetes.io/affinity", values: ["true"] },
  },
  {
    controller: "Traefik 1.x",
    match: { key: "traefik.ingress.kubernetes.io/session-cookie-name" },
  },
  // HAProxy Ingress (haproxy-ingress.github.io), and the older unprefixed spelling it still reads.
  {
    controller: "HAProxy Ingress",
    match: { key: "haproxy-ingress.github.io/affinity", values: ["cookie"] },
  },
  { controller: "HAProxy Ingress", match: { prefix: "haproxy-ingress.github.io/session-cookie-" } },
  {
    controller: "HAProxy Ingress",
    match: { key: "ingress.kubernetes.io/affinity", values: ["cookie"] },
  },
  { controller: "HAProxy Ingress", match: { prefix: "ingress.kubernetes.io/session-cookie-" } },
  // HAProxy Kubernetes Ingress Controller (haproxy.org).
  { controller: "HAProxy Kubernetes Ingress", match: { key: "haproxy.org/cookie-persistence" } },
  // AWS Load Balancer Controller: ALB target-group stickiness.
  {
    controller: "AWS Load Balancer Controller",
    match: {
      key: "alb.ingress.kubernetes.io/target-group-attributes",
      listItem: "stickiness.enabled=true",
    },
  },
  // Azure Application Gateway Ingress Controller.
  {
    controller: "Application Gateway Ingress Controller",
    match: { key: "appgw.ingress.kubernetes.io/cookie-based-affinity", values: ["true"] },
  },
];

/** On Service objects (read by proxies and cloud load balancers in front of the Service). */
export const stickyServiceAnnotations: readonly StickyAnnotation[] = [
  {
    controller: "Traefik",
    match: { key: "traefik.ingress.kubernetes.io/service.sticky.cookie", values: ["true"] },
  },
  {
    controller: "Traefik",
    match: { prefix: "traefik.ingress.kubernetes.io/service.sticky.cookie." },
  },
  {
    controller: "AWS Load Balancer Controller",
    match: {
      key: "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes",
      listItem: "stickiness.enabled=true",
    },
  },
  {
    controller: "DigitalOcean cloud controller manager",
    match: {
      key: "service.beta.kubernetes.io/do-loadbalancer-sticky-sessions-type",
      values: ["cookies"],
    },
  },
  {
    controller: "DigitalOcean cloud controller manager",
    match: { prefix: "service.beta.kubernetes.io/do-loadbalancer-sticky-sessions-cookie-" },
  },
];

function matches(match: AnnotationMatch, key: string, value: string): boolean {
  if ("prefix" in match) return key.startsWith(match.prefix);
  if (key !== match.key) return false;
  if ("listItem" in match) {
    return value
      .split(",")
      .some((item) => item.replaceAll(" ", "").toLowerCase() === match.listItem);
  }
  return match.values === undefined || match.values.includes(value.toLowerCase());
}

/** The annotations of `object` that turn on sticky sessions, one violation each. */
export function findStickyAnnotations(
  object: JsonObject,
  catalogue: readonly StickyAnnotation[],
): Violation[] {
  const annotations = objectAt(objectAt(object, "metadata"), "annotations");
  if (!isObject(annotations)) return [];
  const violations: Violation[] = [];
  for (const [key, raw] of Object.entries(annotations)) {
    const value = typeof raw === "string" ? raw : String(raw);
    const hit = catalogue.find((a) => matches(a.match, key, value));
    if (hit === undefined) continue;
    violations.push({
      path: ["metadata", "annotations", mapKey(key)],
      message: `annotation ${key} makes ${hit.controller} pin each client to one pod`,
    });
  }
  return violations;
}

function celMatch(match: AnnotationMatch): string {
  if ("prefix" in match) return `k.startsWith(${celString(match.prefix)})`;
  const key = `k == ${celString(match.key)}`;
  if ("listItem" in match) {
    const item = celString(match.listItem);
    return `(${key} && variables.annotations[k].split(',').exists(i, i.replace(' ', '').lowerAscii() == ${item}))`;
  }
  if (match.values === undefined) return key;
  return `(${key} && variables.annotations[k].lowerAscii() in ${celStrings(match.values)})`;
}

/** CEL: the paths of the sticky annotations in `variables.annotations`. */
export function celStickyAnnotations(catalogue: readonly StickyAnnotation[]): string {
  const predicate = catalogue.map((a) => celMatch(a.match)).join(" ||\n    ");
  return `variables.annotations.filter(k,\n    ${predicate}\n  ).map(k, 'metadata.annotations[' + k + ']')`;
}
