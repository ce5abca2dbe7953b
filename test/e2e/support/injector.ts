// A stand-in for Istio's sidecar injector: a MutatingAdmissionPolicy that adds to each new pod
// what Istio's injection template adds (no Istio CNI, native sidecar), with its status annotation.
// And a "rogue" injector that adds an unbounded emptyDir and no mark, as an unknown agent would.

import type { KubeObject } from "../../../src/runtime/index.ts";

/** The namespace label Istio's injector selects on (and so does this one). */
export const ISTIO_INJECTION_LABEL = "istio-injection";
export const ROGUE_INJECTION_LABEL = "test.twelvefactor.dev/rogue-injection";

const PROXY_IMAGE = "docker.io/istio/proxyv2:1.27.1";

/** A CEL value: objects typed by their path in the pod (`Object.spec.volumes`), lists, scalars. */
type Cel = string | number | boolean | readonly Cel[] | { readonly [field: string]: Cel };

/** Renders `value` as CEL for an ApplyConfiguration, typing each object by its path. */
function cel(value: Cel, type: string): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map((v) => cel(v, type)).join(", ")}]`;
  const fields = Object.entries(value as Record<string, Cel>).map(
    ([k, v]) => `${k}: ${cel(v, `${type}.${k}`)}`,
  );
  return `${type}{${fields.join(", ")}}`;
}

const istioVolumes: Record<string, Cel>[] = [
  { name: "workload-socket", emptyDir: {} },
  { name: "credential-socket", emptyDir: {} },
  { name: "workload-certs", emptyDir: {} },
  { name: "istio-envoy", emptyDir: { medium: "Memory" } },
  { name: "istio-data", emptyDir: {} },
  {
    name: "istio-podinfo",
    downwardAPI: {
      items: [
        { path: "labels", fieldRef: { fieldPath: "metadata.labels" } },
        { path: "annotations", fieldRef: { fieldPath: "metadata.annotations" } },
      ],
    },
  },
  {
    name: "istio-token",
    projected: {
      sources: [
        {
          serviceAccountToken: {
            audience: "istio-ca",
            expirationSeconds: 43200,
            path: "istio-token",
          },
        },
      ],
    },
  },
  { name: "istiod-ca-cert", configMap: { name: "istio-ca-root-cert" } },
];

const istioInit: Record<string, Cel> = {
  name: "istio-init",
  image: PROXY_IMAGE,
  args: [
    "istio-iptables",
    "-p",
    "15001",
    "-z",
    "15006",
    "-u",
    "1337",
    "-m",
    "REDIRECT",
    "-i",
    "*",
    "-x",
    "",
    "-b",
    "*",
    "-d",
    "15090,15021,15020",
  ],
  securityContext: {
    allowPrivilegeEscalation: false,
    capabilities: { add: ["NET_ADMIN", "NET_RAW"], drop: ["ALL"] },
    privileged: false,
    readOnlyRootFilesystem: false,
    runAsGroup: 0,
    runAsNonRoot: false,
    runAsUser: 0,
  },
};

const istioProxy: Record<string, Cel> = {
  name: "istio-proxy",
  image: PROXY_IMAGE,
  args: [
    "proxy",
    "sidecar",
    "--domain",
    "$(POD_NAMESPACE).svc.cluster.local",
    "--proxyLogLevel=warning",
  ],
  restartPolicy: "Always",
  ports: [{ containerPort: 15090, name: "http-envoy-prom", protocol: "TCP" }],
  securityContext: {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsGroup: 1337,
    runAsNonRoot: true,
    runAsUser: 1337,
  },
  volumeMounts: [
    { name: "workload-socket", mountPath: "/var/run/secrets/workload-spiffe-uds" },
    { name: "credential-socket", mountPath: "/var/run/secrets/credential-uds" },
    { name: "workload-certs", mountPath: "/var/run/secrets/workload-spiffe-credentials" },
    { name: "istiod-ca-cert", mountPath: "/var/run/secrets/istio" },
    { name: "istio-data", mountPath: "/var/lib/istio/data" },
    { name: "istio-envoy", mountPath: "/etc/istio/proxy" },
    { name: "istio-token", mountPath: "/var/run/secrets/tokens" },
    { name: "istio-podinfo", mountPath: "/etc/istio/pod" },
  ],
};

/** What Istio records on the pod: the names of everything it injected. */
export const istioStatus = JSON.stringify({
  initContainers: ["istio-init", "istio-proxy"],
  containers: null,
  volumes: istioVolumes.map((v) => v.name),
  imagePullSecrets: null,
  revision: "default",
});

function mutatingPolicy(
  name: string,
  namespaceLabel: string,
  conditions: { name: string; expression: string }[],
  expression: string,
): KubeObject[] {
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingAdmissionPolicy",
      metadata: { name },
      spec: {
        failurePolicy: "Fail",
        reinvocationPolicy: "Never",
        matchConstraints: {
          resourceRules: [
            { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] },
          ],
        },
        matchConditions: conditions,
        // A JSON patch, as an injecting webhook sends one (an apply configuration may not touch
        // the atomic lists of a container, such as its args).
        mutations: [{ patchType: "JSONPatch", jsonPatch: { expression } }],
      },
    } as KubeObject,
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingAdmissionPolicyBinding",
      metadata: { name },
      spec: {
        policyName: name,
        matchResources: {
          namespaceSelector: { matchLabels: { [namespaceLabel]: "enabled" } },
        },
      },
    } as KubeObject,
  ];
}

/**
 * CEL: JSON patches appending `items` to the list at `path`, creating it empty first when absent.
 * (A list of typed objects as one patch value makes kube-apiserver 1.36 panic converting it.)
 */
function appendAll(path: string, has: string, items: readonly Cel[], type: string): string {
  const each = items.map((i) => `JSONPatch{op: "add", path: "${path}/-", value: ${cel(i, type)}}`);
  return `(${has} ? [] : [JSONPatch{op: "add", path: "${path}", value: []}]) + [${each.join(", ")}]`;
}

/** CEL: JSON patches setting `entries` in the string map at `path`, creating it when absent. */
function setAll(path: string, has: string, entries: Record<string, string>): string {
  const each = Object.entries(entries).map(
    ([k, v]) =>
      `JSONPatch{op: "add", path: "${path}/" + jsonpatch.escapeKey(${JSON.stringify(k)}), value: ${JSON.stringify(v)}}`,
  );
  return `(${has} ? [] : [JSONPatch{op: "add", path: "${path}", value: {}}]) + [${each.join(", ")}]`;
}

const annotation = (key: string) =>
  `object.metadata.?annotations.orValue({}).exists(k, k == ${JSON.stringify(key)})`;

/** Istio's injector: skips pods already injected and pods that opt out, as Istio does. */
export function istioInjector(): KubeObject[] {
  const patch = [
    appendAll(
      "/spec/initContainers",
      "has(object.spec.initContainers)",
      [istioInit, istioProxy],
      "Object.spec.initContainers",
    ),
    appendAll("/spec/volumes", "has(object.spec.volumes)", istioVolumes, "Object.spec.volumes"),
    setAll("/metadata/annotations", "has(object.metadata.annotations)", {
      "sidecar.istio.io/status": istioStatus,
      "istio.io/rev": "default",
    }),
    setAll("/metadata/labels", "has(object.metadata.labels)", {
      "security.istio.io/tlsMode": "istio",
    }),
  ].join(" +\n");
  return mutatingPolicy(
    "test-istio-sidecar-injector",
    ISTIO_INJECTION_LABEL,
    [
      { name: "not-injected", expression: `!${annotation("sidecar.istio.io/status")}` },
      {
        name: "not-opted-out",
        expression:
          "object.metadata.?annotations.orValue({}).filter(k, k == 'sidecar.istio.io/inject').all(k, object.metadata.annotations[k] != 'false')",
      },
    ],
    patch,
  );
}

/** An agent nobody listed: an unbounded scratch volume, no mark on the pod. */
export function rogueInjector(): KubeObject[] {
  return mutatingPolicy(
    "test-rogue-agent-injector",
    ROGUE_INJECTION_LABEL,
    [],
    appendAll(
      "/spec/volumes",
      "has(object.spec.volumes)",
      [{ name: "agent-cache", emptyDir: {} }],
      "Object.spec.volumes",
    ),
  );
}
