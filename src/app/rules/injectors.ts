// Containers and volumes that mesh and secret injectors add to pods: platform-owned, matched exactly.
import { celString, celStrings } from "./cel.ts";
import { type JsonObject, objectAt, stringAt } from "./json.ts";

/** How an injector marks the pods it changed: a label or annotation with a known value. */
export interface InjectorMark {
  readonly in: "annotations" | "labels";
  readonly key: string;
  readonly value:
    | { readonly equals: string }
    | { readonly startsWith: string }
    /** The value is the injector's record of what it added, naming each container and volume. */
    | { readonly namesEach: true };
}

export interface Injector {
  readonly name: string;
  /** Where the names were taken from. */
  readonly source: string;
  readonly mark: InjectorMark;
  /** Containers and init containers it adds: exempt from TF-PROC-011 (writable root). */
  readonly containers: readonly string[];
  /** emptyDir volumes it adds without a sizeLimit: exempt from TF-PROC-010. `<n>` is a number. */
  readonly emptyDirs: readonly string[];
}

/**
 * The injectors whose additions the rules treat as the platform's. A container or volume is
 * the injector's only when its name is in the injector's list AND the pod carries the
 * injector's mark (and, for Istio, the mark names it): a container a user names `istio-proxy`
 * in a pod Istio did not inject is checked like any other.
 */
export const injectors: readonly Injector[] = [
  {
    name: "Istio sidecar (with or without Istio CNI, native sidecar or not)",
    source:
      "istio/istio manifests/charts/istio-control/istio-discovery/files/injection-template.yaml",
    mark: { in: "annotations", key: "sidecar.istio.io/status", value: { namesEach: true } },
    containers: ["istio-init", "istio-validation", "istio-proxy", "enable-core-dump"],
    emptyDirs: [
      "workload-socket",
      "credential-socket",
      "workload-certs",
      "istio-envoy",
      "istio-data",
    ],
  },
  {
    name: "Linkerd proxy",
    source: "linkerd/linkerd2 charts/partials/templates (_proxy, _proxy-init, _volumes)",
    mark: { in: "annotations", key: "linkerd.io/created-by", value: { startsWith: "linkerd/" } },
    containers: ["linkerd-init", "linkerd-network-validator", "linkerd-proxy"],
    emptyDirs: ["linkerd-proxy-init-xtables-lock", "linkerd-identity-end-entity"],
  },
  {
    name: "Vault Agent injector",
    source: "hashicorp/vault-k8s agent-inject/agent (container_volume.go, container_sidecar.go)",
    mark: {
      in: "annotations",
      key: "vault.hashicorp.com/agent-inject-status",
      value: { equals: "injected" },
    },
    containers: ["vault-agent-init", "vault-agent"],
    emptyDirs: [
      "vault-secrets",
      "vault-secrets-custom-<n>",
      "home-init",
      "home-sidecar",
      "vault-agent-cache",
    ],
  },
  {
    name: "Dapr sidecar",
    source: "dapr/dapr pkg/injector (consts.go, patcher/sidecar_volumes.go)",
    mark: { in: "labels", key: "dapr.io/sidecar-injected", value: { equals: "true" } },
    containers: ["daprd"],
    emptyDirs: ["dapr-unix-domain-socket", "dapr-components-unix-domain-socket"],
  },
];

/** The anchored pattern of a listed name: `vault-secrets-custom-<n>` → `^vault-secrets-custom-[0-9]+$`. */
const patternOf = (name: string): string =>
  `^${name.replaceAll(".", "\\.").replaceAll("<n>", "[0-9]+")}$`;

/** The name as the injector's record would quote it (`<n>` names are not listed one by one). */
const quoted = (name: string): string => `"${name}"`;

function marked(mark: InjectorMark, metadata: JsonObject | undefined, listed: string): boolean {
  const value = stringAt(objectAt(metadata, mark.in), mark.key);
  if (value === undefined) return false;
  if ("equals" in mark.value) return value === mark.value.equals;
  if ("startsWith" in mark.value) return value.startsWith(mark.value.startsWith);
  return value.includes(quoted(listed));
}

type Part = "containers" | "emptyDirs";

/** Whether `name` is a container (or emptyDir volume) an injector added to this pod. */
export function isPlatformOwned(
  part: Part,
  name: string,
  podMetadata: JsonObject | undefined,
): boolean {
  return injectors.some((injector) =>
    injector[part].some(
      (listed) =>
        new RegExp(patternOf(listed)).test(name) && marked(injector.mark, podMetadata, listed),
    ),
  );
}

/** CEL: whether the pod's labels or annotations (`variables.podLabels`, `variables.podAnnotations`) carry the mark. */
function celMarked(mark: InjectorMark, listed: string): string {
  const map = mark.in === "labels" ? "variables.podLabels" : "variables.podAnnotations";
  const key = celString(mark.key);
  const value = `${map}[${key}]`;
  const test =
    "equals" in mark.value
      ? `${value} == ${celString(mark.value.equals)}`
      : "startsWith" in mark.value
        ? `${value}.startsWith(${celString(mark.value.startsWith)})`
        : `${value}.contains(${celString(quoted(listed))})`;
  return `(${key} in ${map} && ${test})`;
}

/**
 * CEL: the patterns of the names the injectors added to this pod, a list(string) for
 * `name.matches(p)`. Names recorded one by one (Istio) are listed only when the record names them.
 */
export function celPlatformPatterns(part: Part): string {
  const lists = injectors.flatMap((injector) => {
    if (!("namesEach" in injector.mark.value)) {
      return [
        `(${celMarked(injector.mark, "")} ? ${celStrings(injector[part].map(patternOf))} : [])`,
      ];
    }
    return injector[part].map(
      (listed) => `(${celMarked(injector.mark, listed)} ? ${celStrings([patternOf(listed)])} : [])`,
    );
  });
  return lists.length === 0 ? "[]" : lists.join(" +\n");
}
