// Every rule, case by case: what it finds, where, and what it leaves alone.
import { describe, expect, test } from "vitest";
import {
  checkObject,
  defaultRuleSet,
  defaultWorkloadKinds,
  formatPath,
  groupKind,
  resolveScope,
  rules,
} from "../../../src/app/rules/index.ts";

type Obj = Record<string, unknown>;

const readOnly = {
  name: "web",
  image: "shop:1",
  securityContext: { readOnlyRootFilesystem: true },
};
const podSpec = (extra: Obj = {}): Obj => ({ containers: [readOnly], ...extra });
const deployment = (spec: Obj): Obj => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "d" },
  spec: { template: { spec } },
});
const ownedPod = (spec: Obj): Obj => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", ownerReferences: [{ kind: "ReplicaSet", name: "r", controller: true }] },
  spec,
});
const service = (spec: Obj, annotations: Record<string, string> = {}): Obj => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "s", annotations },
  spec,
});
const ingress = (annotations: Record<string, string>): Obj => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: { name: "i", annotations },
  spec: {},
});
const custom = (apiVersion: string, kind: string, spec: Obj): Obj => ({
  apiVersion,
  kind,
  metadata: { name: "x" },
  spec,
});

const found = (object: unknown) =>
  checkObject(object).map((f) => `${f.ruleId} ${formatPath(f.path)}`);

describe("the rule set", () => {
  test("ids are unique and numbered in order", () => {
    expect(rules.map((r) => r.id)).toEqual(
      rules.map((_, i) => `TF-PROC-${String(i + 1).padStart(3, "0")}`),
    );
  });

  test.each(rules.map((r) => [r.id, r] as const))(
    "%s explains itself and has CEL for each target",
    (_id, rule) => {
      expect(rule.title.length).toBeGreaterThan(3);
      expect(rule.why.length).toBeGreaterThan(40);
      expect(rule.fix.length).toBeGreaterThan(20);
      const celTargets = rule.cel
        .flatMap((c) => resolveScope(c.targets, defaultRuleSet).map(groupKind))
        .sort();
      expect(celTargets).toEqual(resolveScope(rule.targets, defaultRuleSet).map(groupKind).sort());
    },
  );

  test("has rules of every severity", () => {
    expect(new Set(rules.map((r) => r.severity))).toEqual(new Set(["error", "warning", "info"]));
  });

  test.each([
    ["null", null],
    ["a string", "Service"],
    ["a list", [service({ sessionAffinity: "ClientIP" })]],
    ["an object without kind", { apiVersion: "v1", spec: { sessionAffinity: "ClientIP" } }],
    [
      "a kind of another group",
      custom("example.com/v1", "Service", { sessionAffinity: "ClientIP" }),
    ],
  ])("ignores %s", (_what, value) => {
    expect(found(value)).toEqual([]);
  });
});

describe.each<[string, unknown, string[]]>([
  // TF-PROC-001
  [
    "ClientIP affinity",
    service({ sessionAffinity: "ClientIP" }),
    ["TF-PROC-001 spec.sessionAffinity"],
  ],
  ["None affinity", service({ sessionAffinity: "None" }), []],
  ["no affinity", service({}), []],
  // TF-PROC-002
  [
    "nginx affinity in another case",
    ingress({ "nginx.ingress.kubernetes.io/affinity": "Cookie" }),
    ["TF-PROC-002 metadata.annotations[nginx.ingress.kubernetes.io/affinity]"],
  ],
  [
    "a Traefik 1.x affinity that is off",
    ingress({ "traefik.ingress.kubernetes.io/affinity": "false" }),
    [],
  ],
  [
    "an ALB attribute list without stickiness but with a similar name",
    ingress({ "alb.ingress.kubernetes.io/target-group-attributes": "stickiness.enabled=false" }),
    [],
  ],
  [
    "Ingress annotations on a Service are not Ingress findings",
    service({}, { "nginx.ingress.kubernetes.io/affinity": "cookie" }),
    [],
  ],
  [
    "unrelated annotations with a sticky-looking prefix",
    ingress({
      "nginx.ingress.kubernetes.io/session-cookie": "x",
      "example.com/affinity": "cookie",
    }),
    [],
  ],
  // TF-PROC-003
  [
    "Service annotations on an Ingress are not Service findings",
    ingress({ "traefik.ingress.kubernetes.io/service.sticky.cookie": "true" }),
    [],
  ],
  [
    "an NLB attribute list with stickiness",
    service(
      {},
      {
        "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes":
          "stickiness.enabled=TRUE",
      },
    ),
    [
      "TF-PROC-003 metadata.annotations[service.beta.kubernetes.io/aws-load-balancer-target-group-attributes]",
    ],
  ],
  // TF-PROC-004
  ["a route without rules", custom("gateway.networking.k8s.io/v1", "HTTPRoute", {}), []],
  [
    "session persistence on two rules",
    custom("gateway.networking.k8s.io/v1", "HTTPRoute", {
      rules: [{ sessionPersistence: {} }, {}, { sessionPersistence: { type: "Cookie" } }],
    }),
    [
      "TF-PROC-004 spec.rules[0].sessionPersistence",
      "TF-PROC-004 spec.rules[2].sessionPersistence",
    ],
  ],
  // TF-PROC-005
  [
    "a BackendConfig without sessionAffinity",
    custom("cloud.google.com/v1", "BackendConfig", { timeoutSec: 30 }),
    [],
  ],
  [
    "a legacy-group Traefik IngressRoute",
    custom("traefik.containo.us/v1alpha1", "IngressRoute", {
      routes: [
        { services: [{ name: "a" }] },
        { services: [{ name: "b", sticky: { cookie: {} } }] },
      ],
    }),
    ["TF-PROC-005 spec.routes[1].services[0].sticky"],
  ],
  [
    "Contour RequestHash",
    custom("projectcontour.io/v1", "HTTPProxy", {
      routes: [{ loadBalancerPolicy: { strategy: "RequestHash" } }],
    }),
    ["TF-PROC-005 spec.routes[0].loadBalancerPolicy.strategy"],
  ],
  [
    "Istio port-level consistent hash",
    custom("networking.istio.io/v1beta1", "DestinationRule", {
      trafficPolicy: {
        portLevelSettings: [{}, { loadBalancer: { consistentHash: { useSourceIp: true } } }],
      },
    }),
    ["TF-PROC-005 spec.trafficPolicy.portLevelSettings[1].loadBalancer.consistentHash"],
  ],
  // TF-PROC-006 … 010: volumes
  [
    "a hostPath among harmless volumes",
    deployment(
      podSpec({
        volumes: [
          { name: "c", configMap: { name: "c" } },
          { name: "h", hostPath: { path: "/" } },
        ],
      }),
    ),
    ["TF-PROC-006 spec.template.spec.volumes[1].hostPath"],
  ],
  [
    "a PVC in a bare pod's spec",
    {
      ...ownedPod(podSpec({ volumes: [{ name: "v", persistentVolumeClaim: { claimName: "c" } }] })),
    },
    ["TF-PROC-007 spec.volumes[0].persistentVolumeClaim"],
  ],
  [
    "an inline CSI volume is ephemeral and allowed",
    deployment(podSpec({ volumes: [{ name: "v", csi: { driver: "secrets-store.csi.k8s.io" } }] })),
    [],
  ],
  [
    "two network volumes",
    deployment(
      podSpec({
        volumes: [
          { name: "a", iscsi: {} },
          { name: "b", azureFile: {} },
        ],
      }),
    ),
    [
      "TF-PROC-009 spec.template.spec.volumes[0].iscsi",
      "TF-PROC-009 spec.template.spec.volumes[1].azureFile",
    ],
  ],
  [
    "an emptyDir with sizeLimit 0 is bounded",
    deployment(podSpec({ volumes: [{ name: "t", emptyDir: { sizeLimit: "0" } }] })),
    [],
  ],
  // TF-PROC-011
  [
    "a pod-level readOnlyRootFilesystem does not count",
    deployment({ securityContext: { readOnlyRootFilesystem: true }, containers: [{ name: "w" }] }),
    ["TF-PROC-011 spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem"],
  ],
  [
    'readOnlyRootFilesystem: "true" as a string is not true',
    deployment({
      containers: [{ name: "w", securityContext: { readOnlyRootFilesystem: "true" } }],
    }),
    ["TF-PROC-011 spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem"],
  ],
  [
    "an inline CSI volume of another driver",
    deployment(podSpec({ volumes: [{ name: "share", csi: { driver: "nfs.csi.k8s.io" } }] })),
    ["TF-PROC-015 spec.template.spec.volumes[0].csi.driver"],
  ],
  [
    "an inline CSI volume without a driver",
    deployment(podSpec({ volumes: [{ name: "share", csi: {} }] })),
    ["TF-PROC-015 spec.template.spec.volumes[0].csi.driver"],
  ],
  [
    "a writable ephemeral container (added through pods/ephemeralcontainers)",
    ownedPod(podSpec({ ephemeralContainers: [{ name: "debug", image: "busybox" }] })),
    ["TF-PROC-011 spec.ephemeralContainers[0].securityContext.readOnlyRootFilesystem"],
  ],
  [
    "a read-only ephemeral container",
    ownedPod(podSpec({ ephemeralContainers: [{ ...readOnly, name: "debug" }] })),
    [],
  ],
  [
    "a Windows pod: one finding for the pod, none per container",
    deployment({ os: { name: "windows" }, containers: [{ name: "w" }, { name: "x" }] }),
    ["TF-PROC-011 spec.template.spec.os.name"],
  ],
  [
    "a Linux pod stated explicitly",
    deployment({ os: { name: "linux" }, containers: [{ name: "w" }] }),
    ["TF-PROC-011 spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem"],
  ],
  // TF-PROC-012
  [
    "host namespaces set to false",
    deployment(podSpec({ hostNetwork: false, hostPID: false, hostIPC: false })),
    [],
  ],
  // TF-PROC-013
  [
    "a StatefulSet",
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "s" },
      spec: { template: { spec: podSpec() } },
    },
    ["TF-PROC-013 kind"],
  ],
  // TF-PROC-014
  [
    "a pod owned by a non-controller",
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", ownerReferences: [{ kind: "X", controller: false }] },
      spec: podSpec(),
    },
    ["TF-PROC-014 metadata.ownerReferences"],
  ],
  ["a controller-owned pod", ownedPod(podSpec()), []],
])("%s", (_what, object, expected) => {
  test("finds exactly the expected fields", () => {
    expect(found(object).sort()).toEqual([...expected].sort());
  });
});

describe("pod templates", () => {
  /** An object of `kind` with `spec` as its pod spec, wherever the kind keeps it. */
  const objectOf = (kind: (typeof defaultWorkloadKinds)[number], spec: Obj): Obj => {
    const root: Obj = { apiVersion: kind.group === "" ? "v1" : `${kind.group}/v1` };
    let at: Obj = root;
    for (const field of kind.template) {
      const next: Obj = {};
      at[field] = next;
      at = next;
    }
    at.spec = spec;
    return { ...root, kind: kind.kind, metadata: { name: "x", ...(root.metadata ?? {}) } };
  };

  test.each(defaultWorkloadKinds.map((k) => [`${k.kind}.${k.group || "core"}`, k] as const))(
    "%s: the pod spec is found where the kind keeps it",
    (_kind, kind) => {
      const prefix = [...kind.template, "spec"].join(".");
      expect(
        found(objectOf(kind, { containers: [{ name: "w" }] })).filter((f) =>
          f.startsWith("TF-PROC-011"),
        ),
      ).toEqual([`TF-PROC-011 ${prefix}.containers[0].securityContext.readOnlyRootFilesystem`]);
    },
  );

  test.each([
    ["StatefulSet", "apps/v1"],
    ["CloneSet", "apps.kruise.io/v1alpha1"],
  ])("%s: volume claim templates are found", (kind, apiVersion) => {
    expect(
      found({
        apiVersion,
        kind,
        metadata: { name: "x" },
        spec: {
          template: { spec: podSpec() },
          volumeClaimTemplates: [{ metadata: { name: "data" } }],
        },
      }).filter((f) => f.startsWith("TF-PROC-007")),
    ).toEqual(["TF-PROC-007 spec.volumeClaimTemplates[0]"]);
  });

  test("a Rollout with a workloadRef and no template is checked through its Deployment", () => {
    expect(
      found({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Rollout",
        metadata: { name: "r" },
        spec: { workloadRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" } },
      }),
    ).toEqual([]);
  });

  test("a malformed template (no spec) is skipped, not a crash", () => {
    expect(
      found({ apiVersion: "apps/v1", kind: "Deployment", metadata: {}, spec: { template: "x" } }),
    ).toEqual([]);
  });
});

describe("findings", () => {
  test("carry the rule's severity and title, and a message naming the thing", () => {
    const [finding] = checkObject(
      deployment(podSpec({ volumes: [{ name: "data", hostPath: { path: "/srv" } }] })),
    );
    expect(finding).toMatchObject({
      ruleId: "TF-PROC-006",
      severity: "error",
      title: "hostPath volume",
      message: 'volume "data" mounts the node\'s /srv',
    });
  });
});
