// The install manifests: least-privilege RBAC, the operator's own hardening, apply order, kustomize tree.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  CRD_RETENTION_ANNOTATIONS,
  IMAGE,
  installObjects,
  NAME,
  NAMESPACE,
  namespacedObjects,
  operatorRules,
} from "../../../scripts/install/index.ts";
import { checkObject } from "../../../src/app/rules/index.ts";
import { configVariables, loadConfig } from "../../../src/platform/config.ts";

type Json = Record<string, unknown>;
interface Rule {
  apiGroups?: string[];
  resources?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports: { name: string; containerPort: number }[];
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: Json & { capabilities: { drop: string[] } };
}
interface PodSpec {
  serviceAccountName: string;
  securityContext: Json;
  containers: Container[];
  volumes?: unknown[];
}

const root = resolve(import.meta.dirname, "../../..");
const nameOf = (o: Json) => (o.metadata as { name: string }).name;
const namespaceOf = (o: Json) => (o.metadata as { namespace?: string }).namespace;
const idOf = (o: Json) => `${o.kind}/${namespaceOf(o) ?? ""}/${nameOf(o)}`;
const find = (objects: Json[], kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && nameOf(x) === name);
  if (o === undefined) throw new Error(`no ${kind} ${name}`);
  return o;
};
const podSpecOf = (deployment: Json) =>
  (deployment as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
const operatorContainer = (objects: Json[]) => {
  const c = podSpecOf(find(objects, "Deployment", NAME)).containers[0];
  if (c === undefined) throw new Error("no container");
  return c;
};
const rulesOf = (o: Json) => (o as { rules: Rule[] }).rules;

const CLUSTER_SCOPED = new Set([
  "Namespace",
  "CustomResourceDefinition",
  "ClusterRole",
  "ClusterRoleBinding",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
]);
const DANGEROUS_VERBS = ["*", "escalate", "bind", "impersonate"];

describe("RBAC", () => {
  const objects = installObjects();
  const roles = objects.filter((o) => o.kind === "ClusterRole" || o.kind === "Role");

  test("no role grants a wildcard or escalate, bind, impersonate", () => {
    for (const role of roles) {
      for (const rule of rulesOf(role) ?? []) {
        for (const verb of DANGEROUS_VERBS) expect(rule.verbs, nameOf(role)).not.toContain(verb);
        expect(rule.resources ?? [], nameOf(role)).not.toContain("*");
        expect(rule.apiGroups ?? [], nameOf(role)).not.toContain("*");
        expect(rule.nonResourceURLs ?? [], nameOf(role)).not.toContain("*");
      }
    }
  });

  test("the operator's ClusterRole holds exactly the rules the code needs", () => {
    expect(rulesOf(find(objects, "ClusterRole", NAME))).toEqual(operatorRules);
    const grants = new Set(
      operatorRules.flatMap((r) =>
        r.resources.flatMap((res) => r.verbs.map((v) => `${r.apiGroups[0]}/${res}:${v}`)),
      ),
    );
    // Spot checks of what each operator feature calls; a change that drops one fails here.
    for (const needed of [
      "twelvefactor.dev/statelessapps:watch",
      "twelvefactor.dev/statelessapps/status:patch",
      "apps/deployments:patch",
      "apps/deployments:delete",
      // A child name the caches do not hold is read by name before its first write (NameInUse).
      "apps/deployments:get",
      "/services:get",
      "/secrets:watch",
      "/secrets:get",
      "/pods:list",
      "/pods/eviction:create",
      "events.k8s.io/events:create",
    ])
      expect(grants).toContain(needed);
    // Nothing the operator never does: it applies rather than updates, and reads no ConfigMaps.
    for (const unneeded of ["apps/deployments:update", "/configmaps:get", "/pods:delete"])
      expect(grants).not.toContain(unneeded);
  });

  test("the Lease is reachable by name only, in the operator's namespace", () => {
    const lease = find(objects, "Role", `${NAME}-leader-election`);
    expect(namespaceOf(lease)).toBe(NAMESPACE);
    const byName = rulesOf(lease).filter((r) => r.resourceNames !== undefined);
    expect(byName).toEqual([
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        resourceNames: [loadConfig({}).leaderElection.name],
        verbs: ["get", "update"],
      },
    ]);
  });

  test("every binding names the operator's ServiceAccount in its namespace", () => {
    const bindings = objects.filter((o) => /RoleBinding$/.test(String(o.kind)));
    expect(bindings.length).toBe(4);
    for (const b of bindings) {
      expect((b as { subjects: unknown[] }).subjects).toEqual([
        { kind: "ServiceAccount", name: NAME, namespace: NAMESPACE },
      ]);
    }
    const sa = find(objects, "ServiceAccount", NAME);
    expect(namespaceOf(sa)).toBe(NAMESPACE);
  });

  test("StatelessApps are aggregated into edit and view; the provisioned-services role aggregates", () => {
    const labelsOf = (o: Json) => (o.metadata as { labels: Record<string, string> }).labels;
    const edit = find(objects, "ClusterRole", `${NAME}-edit`);
    const view = find(objects, "ClusterRole", `${NAME}-view`);
    expect(labelsOf(edit)["rbac.authorization.k8s.io/aggregate-to-edit"]).toBe("true");
    expect(labelsOf(view)["rbac.authorization.k8s.io/aggregate-to-view"]).toBe("true");
    expect(rulesOf(view).flatMap((r) => r.verbs)).not.toContain("create");
    const provisioned = find(objects, "ClusterRole", `${NAME}-provisioned-services`);
    expect(provisioned).not.toHaveProperty("rules");
    expect(provisioned.aggregationRule).toEqual({
      clusterRoleSelectors: [
        { matchLabels: { "twelvefactor.dev/aggregate-to-provisioned-services": "true" } },
      ],
    });
  });

  test("/metrics: the operator may review tokens and access, readers get /metrics only", () => {
    expect(rulesOf(find(objects, "ClusterRole", `${NAME}-metrics-auth`))).toEqual([
      { apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
      {
        apiGroups: ["authorization.k8s.io"],
        resources: ["subjectaccessreviews"],
        verbs: ["create"],
      },
    ]);
    const binding = find(objects, "ClusterRoleBinding", `${NAME}-metrics-auth`) as {
      roleRef: { name: string };
    };
    expect(binding.roleRef.name).toBe(`${NAME}-metrics-auth`);
    expect(rulesOf(find(objects, "ClusterRole", `${NAME}-metrics-reader`))).toEqual([
      { nonResourceURLs: ["/metrics"], verbs: ["get"] },
    ]);
    // Nobody is bound to the reader role by the install: the admin binds their Prometheus.
    const bound = objects
      .filter((o) => o.kind === "ClusterRoleBinding")
      .map((o) => (o as { roleRef: { name: string } }).roleRef.name);
    expect(bound).not.toContain(`${NAME}-metrics-reader`);
  });

  test("the namespaced variant's only cluster-scoped objects are /metrics' roles; it watches its own namespace", () => {
    const ns = namespacedObjects();
    expect(ns.filter((o) => CLUSTER_SCOPED.has(String(o.kind))).map(idOf)).toEqual([
      `ClusterRole//${NAME}-metrics-auth`,
      `ClusterRole//${NAME}-metrics-reader`,
      `ClusterRoleBinding//${NAME}-metrics-auth`,
    ]);
    const role = find(ns, "Role", NAME);
    expect(rulesOf(role)).toEqual(expect.arrayContaining([...operatorRules]));
    const watch = operatorContainer(ns).env.find((e) => e.name === "WATCH_NAMESPACES");
    expect(watch?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.namespace");
  });
});

describe("the operator Deployment", () => {
  const objects = installObjects();
  const deployment = find(objects, "Deployment", NAME);
  const pod = podSpecOf(deployment);
  const container = operatorContainer(objects);

  test("runs two replicas with leader election and the downward API identity", () => {
    expect((deployment as { spec: { replicas: number } }).spec.replicas).toBe(2);
    const env = Object.fromEntries(container.env.map((e) => [e.name, e]));
    expect(env.LEADER_ELECT?.value).toBe("true");
    expect(env.POD_NAME?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.name");
    expect(env.POD_NAMESPACE?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.namespace");
    expect(pod.serviceAccountName).toBe(NAME);
    expect(container.image).toBe(IMAGE);
    expect(container.args).toEqual(["run"]);
  });

  test("sets only variables the operator reads, with values its configuration accepts", () => {
    const known = new Set(configVariables().map((v) => v.name));
    for (const e of container.env) expect(known, e.name).toContain(e.name);
    const literal = Object.fromEntries(
      container.env.flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])),
    );
    const config = loadConfig({ ...literal, POD_NAMESPACE: NAMESPACE, POD_NAME: "p" });
    expect(config.leaderElection).toMatchObject({ enabled: true, namespace: NAMESPACE });
    const port = container.ports.find((p) => p.name === "http");
    expect(port?.containerPort).toBe(config.httpAddress.port);
    const metrics = container.ports.find((p) => p.name === "metrics");
    expect(metrics?.containerPort).toBe(config.metrics.address.port);
    expect(config.metrics.secure).toBe(true);
    const service = find(objects, "Service", `${NAME}-metrics`) as {
      spec: { ports: { name: string; port: number; targetPort: string }[] };
    };
    expect(service.spec.ports).toEqual([
      { name: "https", port: 8443, targetPort: "metrics", protocol: "TCP" },
    ]);
  });

  test("probes /healthz and /readyz on the HTTP port", () => {
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
  });

  test("is hardened: non-root, read-only root, no escalation, no capabilities, RuntimeDefault", () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    // The uid is the image's (or the platform's, e.g. OpenShift's restricted-v2 SCC): a fixed one
    // is refused there.
    expect(pod.securityContext).not.toHaveProperty("runAsUser");
    expect(pod.securityContext).not.toHaveProperty("runAsGroup");
    expect(container.securityContext).not.toHaveProperty("runAsUser");
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod.volumes).toBeUndefined();
    expect(Object.keys(container.resources.requests).sort()).toEqual(["cpu", "memory"]);
    expect(container.resources.limits.memory).toBeDefined();
  });

  test("the NetworkPolicy admits only the metrics and health ports in and the API server ports out", () => {
    const policy = find(objects, "NetworkPolicy", NAME) as {
      spec: { policyTypes: string[]; ingress: unknown[]; egress: unknown[] };
    };
    expect(policy.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(policy.spec.ingress).toEqual([
      { ports: [{ protocol: "TCP", port: 8443 }] },
      { ports: [{ protocol: "TCP", port: 8080 }] },
    ]);
    expect(policy.spec.egress).toEqual([
      {
        ports: [
          { protocol: "TCP", port: 443 },
          { protocol: "TCP", port: 6443 },
        ],
      },
    ]);
  });

  test("no managed-by label: the operator must not mistake its own objects for children", () => {
    for (const o of objects) {
      const labels = (o.metadata as { labels?: Record<string, string> }).labels ?? {};
      expect(labels["app.kubernetes.io/managed-by"], idOf(o)).toBeUndefined();
    }
  });

  test("the install obeys the processes rules it enforces (audit is clean, even advice)", () => {
    for (const o of [...objects, ...namespacedObjects()])
      expect(checkObject(o), idOf(o)).toEqual([]);
  });
});

describe("the CRD", () => {
  const annotationsOf = (o: Json) =>
    (o.metadata as { annotations?: Record<string, string> }).annotations ?? {};
  const crdIn = (file: string) => {
    const objects = parseAllDocuments(readFileSync(join(root, file), "utf8")).map(
      (d) => d.toJS() as Json,
    );
    return find(objects, "CustomResourceDefinition", "statelessapps.twelvefactor.dev");
  };

  test("survives helm uninstall, Flux and Argo CD prunes and Argo CD app deletion, in every install path", () => {
    expect(CRD_RETENTION_ANNOTATIONS).toEqual({
      "helm.sh/resource-policy": "keep",
      "kustomize.toolkit.fluxcd.io/prune": "disabled",
      "argocd.argoproj.io/sync-options": "Prune=false,Delete=false",
    });
    for (const file of ["dist/install.yaml", "manifests/crd/twelvefactor.dev_statelessapps.yaml"])
      expect(annotationsOf(crdIn(file)), file).toMatchObject(CRD_RETENTION_ANNOTATIONS);
  });
});

describe("dist/install.yaml", () => {
  const objects = installObjects();

  test("applies in order: Namespace, CRD, RBAC, policies, then the workload, Deployment last", () => {
    const kinds = objects.map((o) => String(o.kind));
    expect(kinds[0]).toBe("Namespace");
    expect(kinds[1]).toBe("CustomResourceDefinition");
    expect(kinds.at(-1)).toBe("Deployment");
    const first = (kind: string) => kinds.indexOf(kind);
    const last = (kind: string) => kinds.lastIndexOf(kind);
    expect(last("ServiceAccount")).toBeLessThan(first("ClusterRoleBinding"));
    expect(last("ClusterRole")).toBeLessThan(first("ClusterRoleBinding"));
    expect(last("Role")).toBeLessThan(first("RoleBinding"));
    expect(last("RoleBinding")).toBeLessThan(first("ValidatingAdmissionPolicy"));
    expect(first("ValidatingAdmissionPolicy")).toBeLessThan(
      first("ValidatingAdmissionPolicyBinding"),
    );
  });

  test("every namespaced object lives in the operator's namespace, no object twice", () => {
    for (const o of objects) {
      if (CLUSTER_SCOPED.has(String(o.kind))) expect(namespaceOf(o), idOf(o)).toBeUndefined();
      else expect(namespaceOf(o), idOf(o)).toBe(NAMESPACE);
    }
    expect(new Set(objects.map(idOf)).size).toBe(objects.length);
  });

  test("the committed file parses back to exactly these objects", () => {
    const text = readFileSync(join(root, "dist/install.yaml"), "utf8");
    const parsed = parseAllDocuments(text).map((d) => d.toJS() as Json);
    expect(parsed).toEqual(objects);
  });
});

/**
 * A small reading of the kustomize tree (resources and images only) so that a missing file or a
 * base left out of default/ fails without a kubectl; the integration test runs `kubectl kustomize`.
 */
function readKustomization(dir: string): Json[] {
  const file = join(dir, "kustomization.yaml");
  expect(existsSync(file), file).toBe(true);
  const k = parseAllDocuments(readFileSync(file, "utf8"))[0]?.toJS() as {
    resources: string[];
    images?: { name: string; newName?: string; newTag?: string }[];
  };
  const objects = k.resources.flatMap((r) => {
    const path = resolve(dir, r);
    if (existsSync(join(path, "kustomization.yaml"))) return readKustomization(path);
    expect(existsSync(path), path).toBe(true);
    return parseAllDocuments(readFileSync(path, "utf8")).map((d) => d.toJS() as Json);
  });
  for (const image of k.images ?? []) {
    for (const o of objects) {
      if (o.kind !== "Deployment") continue;
      for (const c of podSpecOf(o).containers) {
        if (c.image.split(":")[0] !== image.name) continue;
        c.image = `${image.newName ?? image.name}:${image.newTag ?? c.image.split(":")[1]}`;
      }
    }
  }
  return objects;
}

test("manifests/default holds the same objects as dist/install.yaml", () => {
  const fromTree = readKustomization(join(root, "manifests/default"));
  const byId = (list: Json[]) => new Map(list.map((o) => [idOf(o), o]));
  const tree = byId(fromTree);
  const dist = byId(installObjects());
  expect([...tree.keys()].sort()).toEqual([...dist.keys()].sort());
  for (const [id, o] of dist) expect(tree.get(id), id).toEqual(o);
  expect(dirname(IMAGE)).toBe("ghcr.io/stateless-operator");
});
