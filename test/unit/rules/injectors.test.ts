// Injector-owned containers and volumes: exempt only with the injector's own mark on the pod.
import { describe, expect, test } from "vitest";
import { checkObject, formatPath, injectors } from "../../../src/app/rules/index.ts";

type Obj = Record<string, unknown>;

const pod = (metadata: Obj, spec: Obj): Obj => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", ownerReferences: [{ kind: "ReplicaSet", controller: true }], ...metadata },
  spec: {
    containers: [{ name: "app", securityContext: { readOnlyRootFilesystem: true } }],
    ...spec,
  },
});
const found = (object: Obj) => checkObject(object).map((f) => `${f.ruleId} ${formatPath(f.path)}`);

/** A pod with one writable init container and one unbounded emptyDir of these names. */
const shaped = (metadata: Obj, container: string, volume: string) =>
  pod(metadata, {
    initContainers: [{ name: container }],
    volumes: [{ name: volume, emptyDir: {} }],
  });
const both = [
  "TF-PROC-010 spec.volumes[0].emptyDir.sizeLimit",
  "TF-PROC-011 spec.initContainers[0].securityContext.readOnlyRootFilesystem",
];

const istioStatus = (names: string[]) => ({
  "sidecar.istio.io/status": JSON.stringify({ initContainers: names, volumes: names }),
});

describe.each<[string, Obj, string, string, string[]]>([
  [
    "Istio, named in its status",
    { annotations: istioStatus(["istio-init", "istio-data"]) },
    "istio-init",
    "istio-data",
    [],
  ],
  [
    "Istio, not named in its status",
    { annotations: istioStatus(["istio-proxy"]) },
    "istio-init",
    "istio-data",
    both,
  ],
  ["Istio names without any mark", {}, "istio-init", "istio-data", both],
  [
    "Istio's mark under Linkerd's names",
    { annotations: istioStatus(["linkerd-init"]) },
    "linkerd-init",
    "linkerd-identity-end-entity",
    both,
  ],
  [
    "Linkerd's injector",
    { annotations: { "linkerd.io/created-by": "linkerd/proxy-injector stable-2.14.10" } },
    "linkerd-init",
    "linkerd-identity-end-entity",
    [],
  ],
  [
    "Linkerd's names, someone else's created-by",
    { annotations: { "linkerd.io/created-by": "helm" } },
    "linkerd-init",
    "linkerd-identity-end-entity",
    both,
  ],
  [
    "Vault injected",
    { annotations: { "vault.hashicorp.com/agent-inject-status": "injected" } },
    "vault-agent-init",
    "vault-secrets-custom-12",
    [],
  ],
  [
    "Vault asked for but not yet injected",
    { annotations: { "vault.hashicorp.com/agent-inject-status": "update" } },
    "vault-agent-init",
    "vault-secrets",
    both,
  ],
  [
    "Vault, a custom volume without a number",
    { annotations: { "vault.hashicorp.com/agent-inject-status": "injected" } },
    "vault-agent",
    "vault-secrets-custom-x",
    [both[0] as string],
  ],
  [
    "Dapr's label",
    { labels: { "dapr.io/sidecar-injected": "true" } },
    "daprd",
    "dapr-unix-domain-socket",
    [],
  ],
  [
    "Dapr's key as an annotation, not a label",
    { annotations: { "dapr.io/sidecar-injected": "true" } },
    "daprd",
    "dapr-unix-domain-socket",
    both,
  ],
])("%s", (_what, metadata, container, volume, expected) => {
  test("finds exactly the expected fields", () => {
    expect(found(shaped(metadata, container, volume))).toEqual(expected);
  });
});

describe("platform-owned parts", () => {
  test("are exempt only from the emptyDir and root-filesystem rules", () => {
    const annotations = istioStatus(["istio-data", "istio-proxy"]);
    const object = pod(
      { annotations },
      {
        hostNetwork: true,
        containers: [{ name: "istio-proxy" }],
        volumes: [{ name: "istio-data", hostPath: { path: "/" } }],
      },
    );
    expect(found(object)).toEqual([
      "TF-PROC-006 spec.volumes[0].hostPath",
      "TF-PROC-012 spec.hostNetwork",
    ]);
  });

  test("never include an ephemeral container", () => {
    const object = pod(
      { annotations: istioStatus(["istio-proxy"]) },
      { ephemeralContainers: [{ name: "istio-proxy" }] },
    );
    expect(found(object)).toEqual([
      "TF-PROC-011 spec.ephemeralContainers[0].securityContext.readOnlyRootFilesystem",
    ]);
  });

  test("in a pod template are read from the template's metadata, not the workload's", () => {
    const deployment = (where: "metadata" | "template"): Obj => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        name: "d",
        ...(where === "metadata" ? { annotations: istioStatus(["istio-init"]) } : {}),
      },
      spec: {
        template: {
          metadata: where === "template" ? { annotations: istioStatus(["istio-init"]) } : {},
          spec: { containers: [], initContainers: [{ name: "istio-init" }] },
        },
      },
    });
    expect(found(deployment("template"))).toEqual([]);
    expect(found(deployment("metadata"))).toEqual([
      "TF-PROC-011 spec.template.spec.initContainers[0].securityContext.readOnlyRootFilesystem",
    ]);
  });

  test("the table names each injector's source and mark", () => {
    for (const injector of injectors) {
      expect(injector.source.length).toBeGreaterThan(10);
      expect(injector.mark.key).toMatch(/\//);
      expect(injector.containers.length + injector.emptyDirs.length).toBeGreaterThan(0);
    }
  });
});
