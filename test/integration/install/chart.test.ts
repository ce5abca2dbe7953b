// The Helm chart with a real helm: lint, the same objects as dist/install.yaml, values, and install/upgrade/uninstall.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  installObjects,
  leaseRules,
  NAME,
  NAMESPACE,
  namespacedObjects,
  operatorRules,
} from "../../../scripts/install/index.ts";
import { renderPrometheusRule, renderServiceMonitor } from "../../../scripts/install/monitoring.ts";
import { toYamlDocuments } from "../../../src/cli/yaml.ts";
import { type Cluster, startCluster } from "../../../tools/cluster/index.ts";
import { eventually } from "../../support/cluster.ts";
import { chartPath, helm, renderChart, templateArgs } from "./helm.ts";
import { kubectl, kubectlOk } from "./kubectl.ts";

type Json = Record<string, unknown>;
interface Container {
  image: string;
  env: { name: string; value?: string; valueFrom?: unknown }[];
  resources: Json;
}

const nameOf = (o: Json) => (o.metadata as { name: string }).name;
const namespaceOf = (o: Json) => (o.metadata as { namespace?: string }).namespace;
const idOf = (o: Json) => `${o.kind}/${namespaceOf(o) ?? ""}/${nameOf(o)}`;
const byId = (objects: Json[]) => new Map(objects.map((o) => [idOf(o), o]));
const find = (objects: Json[], kind: string, name: string, namespace?: string) => {
  const o = objects.find(
    (x) =>
      x.kind === kind &&
      nameOf(x) === name &&
      (namespace === undefined || namespaceOf(x) === namespace),
  );
  if (o === undefined) throw new Error(`no ${kind} ${namespace ?? ""}/${name}`);
  return o;
};
const containerOf = (objects: Json[]) =>
  (
    find(objects, "Deployment", NAME) as {
      spec: { template: { spec: { containers: Container[] } } };
    }
  ).spec.template.spec.containers[0] as Container;
const envOf = (objects: Json[]) =>
  Object.fromEntries(containerOf(objects).env.map((e) => [e.name, e.value ?? e.valueFrom]));
const annotationsOf = (o: Json) =>
  (o.metadata as { annotations?: Record<string, string> }).annotations ?? {};

/** The same objects, compared by kind/namespace/name and then field by field. */
function expectSameObjects(actual: Json[], expected: Json[]): void {
  const a = byId(actual);
  const e = byId(expected);
  expect([...a.keys()].sort()).toEqual([...e.keys()].sort());
  for (const [id, o] of e) expect(a.get(id), id).toEqual(o);
}

describe("helm lint and helm template", () => {
  test("helm lint --strict passes (values checked against values.schema.json)", async () => {
    const r = await helm(["lint", "--strict", chartPath]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  test("with the default values it renders the objects of dist/install.yaml but the Namespace", async () => {
    const rendered = await renderChart(NAMESPACE);
    expectSameObjects(
      rendered,
      installObjects().filter((o) => o.kind !== "Namespace"),
    );
  });

  test("the default install lands in the release namespace, whatever it is", async () => {
    const rendered = await renderChart("platform-operators");
    expectSameObjects(
      rendered,
      installObjects("platform-operators").filter((o) => o.kind !== "Namespace"),
    );
  });

  test("namespaced=true renders manifests/namespaced's objects (and the CRD); the metrics-auth binding is the namespace's own", async () => {
    const rendered = await renderChart("team-a", {
      namespaced: "true",
      "policies.enabled": "false",
    });
    const binding = `${NAME}-metrics-auth`;
    const expected = namespacedObjects("team-a").map((o) =>
      o.kind === "ClusterRoleBinding" && nameOf(o) === binding
        ? { ...o, metadata: { ...(o.metadata as Json), name: `${binding}-team-a` } }
        : o,
    );
    expectSameObjects(
      rendered.filter((o) => o.kind !== "CustomResourceDefinition"),
      expected,
    );
    expect(rendered.filter((o) => o.kind === "CustomResourceDefinition")).toHaveLength(1);
    // A second namespaced release leaves the shared cluster-scoped objects to the first.
    const second = await renderChart("team-b", {
      namespaced: "true",
      "policies.enabled": "false",
      "crds.install": "false",
      "metrics.clusterRoles": "false",
    });
    expect(
      second.filter((o) => namespaceOf(o) === undefined).map((o) => `${o.kind}/${nameOf(o)}`),
    ).toEqual([`ClusterRoleBinding/${binding}-team-b`]);
  });

  test("namespaced with watchNamespaces: a Role per watched namespace, the Lease's Role at home", async () => {
    const rendered = await renderChart("team-a", {
      namespaced: "true",
      "policies.enabled": "false",
      watchNamespaces: "{shop,blog}",
    });
    for (const ns of ["shop", "blog"]) {
      expect((find(rendered, "Role", NAME, ns) as { rules: unknown }).rules).toEqual(operatorRules);
      const binding = find(rendered, "RoleBinding", NAME, ns) as { subjects: unknown };
      expect(binding.subjects).toEqual([
        { kind: "ServiceAccount", name: NAME, namespace: "team-a" },
      ]);
    }
    const lease = find(rendered, "Role", `${NAME}-leader-election`, "team-a") as { rules: unknown };
    expect(lease.rules).toEqual(leaseRules());
    // Only /metrics' roles are cluster-wide: no Role can grant token and access reviews.
    expect(rendered.filter((o) => o.kind === "ClusterRole").map(nameOf)).toEqual([
      `${NAME}-metrics-auth`,
      `${NAME}-metrics-reader`,
    ]);
    expect(envOf(rendered).WATCH_NAMESPACES).toBe("shop,blog");
  });

  test("values reach the objects they name", async () => {
    const r = await renderChart("ops", {
      "image.repository": "registry.example.com/platform/stateless-operator",
      "image.tag": "9.9.9",
      replicaCount: "3",
      "env.WORKERS": "8",
      "env.LEASE_NAME": "other-lease",
      "env.LOG_LEVEL": "debug",
      "resources.limits.memory": "1Gi",
      "crds.keep": "false",
      "networkPolicy.enabled": "false",
      "policies.enabled": "false",
      "nodeSelector.kubernetes\\.io/os": "linux",
      "podAnnotations.team": "platform",
    });
    const container = containerOf(r);
    expect(container.image).toBe("registry.example.com/platform/stateless-operator:9.9.9");
    expect((find(r, "Deployment", NAME) as { spec: { replicas: number } }).spec.replicas).toBe(3);
    expect(envOf(r)).toMatchObject({
      WORKERS: "8",
      LEASE_NAME: "other-lease",
      LOG_LEVEL: "debug",
      LEADER_ELECT: "true",
    });
    expect(container.resources).toMatchObject({ limits: { memory: "1Gi", cpu: "1" } });
    const lease = find(r, "Role", `${NAME}-leader-election`, "ops") as {
      rules: { resourceNames?: string[] }[];
    };
    expect(lease.rules.find((x) => x.resourceNames)?.resourceNames).toEqual(["other-lease"]);
    const crd = find(r, "CustomResourceDefinition", "statelessapps.twelvefactor.dev");
    expect(annotationsOf(crd)).not.toHaveProperty("helm.sh/resource-policy");
    expect(annotationsOf(crd)).toHaveProperty("kustomize.toolkit.fluxcd.io/prune", "disabled");
    expect(r.filter((o) => o.kind === "NetworkPolicy")).toEqual([]);
    expect(r.filter((o) => String(o.kind).startsWith("ValidatingAdmission"))).toEqual([]);
    const pod = (
      find(r, "Deployment", NAME) as {
        spec: { template: { metadata: { annotations: Json }; spec: { nodeSelector: Json } } };
      }
    ).spec.template;
    expect(pod.spec.nodeSelector).toEqual({ "kubernetes.io/os": "linux" });
    expect(pod.metadata.annotations).toEqual({
      "kubectl.kubernetes.io/default-container": "operator",
      team: "platform",
    });
  });

  test("serviceMonitor and prometheusRule render manifests/prometheus's objects, with extra labels", async () => {
    const r = await renderChart(NAMESPACE, {
      "serviceMonitor.enabled": "true",
      "prometheusRule.enabled": "true",
    });
    expectSameObjects(
      r.filter((o) => o.kind === "ServiceMonitor" || o.kind === "PrometheusRule"),
      [renderServiceMonitor(NAMESPACE), renderPrometheusRule(NAMESPACE)],
    );
    const labelled = await renderChart(NAMESPACE, {
      "serviceMonitor.enabled": "true",
      "serviceMonitor.labels.release": "kube-prometheus-stack",
      "serviceMonitor.interval": "15s",
      "serviceMonitor.tlsConfig.insecureSkipVerify": "false",
      "serviceMonitor.tlsConfig.serverName":
        "stateless-operator-metrics.stateless-operator-system.svc",
    });
    const monitor = find(labelled, "ServiceMonitor", NAME) as {
      metadata: { labels: Json };
      spec: { endpoints: Json[] };
    };
    expect(monitor.metadata.labels).toMatchObject({ release: "kube-prometheus-stack" });
    expect(monitor.spec.endpoints[0]).toMatchObject({
      interval: "15s",
      tlsConfig: {
        insecureSkipVerify: false,
        serverName: "stateless-operator-metrics.stateless-operator-system.svc",
      },
    });
    // The alerts' templates reach Prometheus as text, not as Helm actions.
    const rule = find(r, "PrometheusRule", NAME) as {
      spec: { groups: { rules: { annotations: { description: string } }[] }[] };
    };
    expect(rule.spec.groups[0]?.rules[1]?.annotations.description).toContain(
      "{{ $labels.namespace }}",
    );
  });

  test("metrics.certSecret mounts the Secret for METRICS_CERT_DIR; readers and metricsFrom are granted", async () => {
    const r = await renderChart(NAMESPACE, {
      "metrics.certSecret": "operator-metrics-tls",
      "metrics.readers[0].kind": "ServiceAccount",
      "metrics.readers[0].name": "prometheus",
      "metrics.readers[0].namespace": "monitoring",
      "networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.name": "monitoring",
    });
    const deployment = find(r, "Deployment", NAME) as {
      spec: {
        template: {
          spec: {
            volumes: unknown[];
            containers: { volumeMounts: { mountPath: string }[] }[];
          };
        };
      };
    };
    const pod = deployment.spec.template.spec;
    expect(pod.volumes).toEqual([
      { name: "metrics-tls", secret: { secretName: "operator-metrics-tls" } },
    ]);
    const mount = pod.containers[0]?.volumeMounts[0]?.mountPath;
    expect(envOf(r).METRICS_CERT_DIR).toBe(mount);
    const binding = find(r, "ClusterRoleBinding", `${NAME}-metrics-reader`) as {
      roleRef: { name: string };
      subjects: unknown[];
    };
    expect(binding.roleRef.name).toBe(`${NAME}-metrics-reader`);
    expect(binding.subjects).toEqual([
      { kind: "ServiceAccount", name: "prometheus", namespace: "monitoring" },
    ]);
    const policy = find(r, "NetworkPolicy", NAME) as { spec: { ingress: Json[] } };
    expect(policy.spec.ingress[0]).toEqual({
      ports: [{ protocol: "TCP", port: 8443 }],
      from: [{ namespaceSelector: { matchLabels: { name: "monitoring" } } }],
    });
    // Without them: no volume (the hardened default), nobody bound, any peer.
    const plain = await renderChart(NAMESPACE);
    expect(
      (find(plain, "Deployment", NAME) as { spec: { template: { spec: Json } } }).spec.template
        .spec,
    ).not.toHaveProperty("volumes");
    expect(plain.filter((o) => nameOf(o) === `${NAME}-metrics-reader`).map((o) => o.kind)).toEqual([
      "ClusterRole",
    ]);
  });

  test("a digest wins over the tag; crds.install=false leaves the CRD out", async () => {
    const digest = `sha256:${"a".repeat(64)}`;
    const r = await renderChart(NAMESPACE, { "image.digest": digest, "crds.install": "false" });
    expect(containerOf(r).image).toBe(`ghcr.io/stateless-operator/stateless-operator@${digest}`);
    expect(r.filter((o) => o.kind === "CustomResourceDefinition")).toEqual([]);
  });

  test("refuses a Kubernetes older than the oldest tested minor", async () => {
    const old = await helm([...templateArgs(NAMESPACE), "--kube-version", "1.34.9"]);
    expect(old.code).not.toBe(0);
    expect(old.stderr).toMatch(/chart requires kubeVersion: >=1\.35\.0-0/);
    const oldest = await helm([...templateArgs(NAMESPACE), "--kube-version", "1.35.0"]);
    expect(oldest.code, oldest.stderr).toBe(0);
  });

  test.each([
    [{ "env.WORKERS": "0" }, /at '\/env\/WORKERS': minimum/],
    [{ "env.NO_SUCH_VARIABLE": "1" }, /at '\/env': additional properties 'NO_SUCH_VARIABLE'/],
    [{ "env.RESYNC_PERIOD": "soon" }, /at '\/env\/RESYNC_PERIOD': 'soon' does not match/],
    [{ "image.pullPolicy": "Sometimes" }, /at '\/image\/pullPolicy'/],
    [{ replicaCount: "0" }, /at '\/replicaCount': minimum/],
    [{ watchNamespaces: "{Not_A_Name}" }, /at '\/watchNamespaces\/0'/],
    [
      { "env.LEADER_ELECT": "false" },
      /replicaCount is more than 1 but env\.LEADER_ELECT is not true/,
    ],
    [{ namespaced: "true" }, /policies\.enabled needs the cluster-wide mode/],
  ])("refuses %o, naming the value", async (set, message) => {
    const r = await helm(templateArgs(NAMESPACE, set));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });
});

describe("helm install, upgrade and uninstall on a cluster of its own", () => {
  // The shared tier has the CRD and ClusterRoles applied by kubectl (other files): helm refuses to
  // take over objects it did not create, so the release gets an API server to itself.
  let cluster: Cluster;
  let kubeconfig = "";
  const k = (args: string[]) => kubectlOk(args, { kubeconfig });
  const releaseArgs = ["--namespace", NAMESPACE, "--kubeconfig"];

  beforeAll(async () => {
    cluster = await startCluster({ tier: "integration", log: () => {} });
    kubeconfig = cluster.kubeconfigPath;
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  test("install creates every object the chart renders; the namespace enforces restricted", async () => {
    const r = await helm([
      "install",
      NAME,
      chartPath,
      ...releaseArgs,
      kubeconfig,
      "--create-namespace",
    ]);
    expect(r.code, r.stderr).toBe(0);
    await k([
      "label",
      "namespace",
      NAMESPACE,
      "pod-security.kubernetes.io/enforce=restricted",
      "--overwrite",
    ]);
    const rendered = join(mkdtempSync(join(tmpdir(), "chart-")), "rendered.yaml");
    writeFileSync(rendered, toYamlDocuments(await renderChart(NAMESPACE)));
    const live = JSON.parse(await k(["get", "-f", rendered, "-o", "json"])) as { items: Json[] };
    expect(live.items.map(idOf).sort()).toEqual(
      installObjects()
        .filter((o) => o.kind !== "Namespace")
        .map(idOf)
        .sort(),
    );
    for (const o of live.items)
      expect(annotationsOf(o)["meta.helm.sh/release-name"], idOf(o)).toBe(NAME);
    // The restricted profile admits the operator's pod template.
    const dry = await kubectl(
      ["apply", "--dry-run=server", "-f", rendered, "--server-side", "--force-conflicts"],
      { kubeconfig },
    );
    expect(dry.stderr).not.toMatch(/violate PodSecurity/);
  });

  test("upgrade changes what the values changed, and only that", async () => {
    await k(["wait", "--for=condition=Established", "crd/statelessapps.twelvefactor.dev"]);
    await k(["create", "namespace", "demo"]);
    await k(["apply", "-n", "demo", "-f", join(chartPath, "../../manifests/samples/web.yaml")]);
    const before = JSON.parse(await k(["get", "clusterrole", NAME, "-o", "json"])) as {
      metadata: { resourceVersion: string };
    };
    const r = await helm([
      "upgrade",
      NAME,
      chartPath,
      ...releaseArgs,
      kubeconfig,
      "--set",
      "env.WORKERS=8",
      "--set",
      "replicaCount=1",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const deployment = JSON.parse(
      await k(["get", "deployment", NAME, "-n", NAMESPACE, "-o", "json"]),
    ) as Json;
    expect((deployment as { spec: { replicas: number } }).spec.replicas).toBe(1);
    expect(envOf([deployment]).WORKERS).toBe("8");
    const after = JSON.parse(await k(["get", "clusterrole", NAME, "-o", "json"])) as {
      metadata: { resourceVersion: string };
    };
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    const history = await helm(["history", NAME, ...releaseArgs, kubeconfig, "-o", "json"]);
    expect((JSON.parse(history.stdout) as unknown[]).length).toBe(2);
  });

  test("uninstall removes the operator but keeps the CRD, and so every StatelessApp", async () => {
    const r = await helm(["uninstall", NAME, ...releaseArgs, kubeconfig]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /kept due to the resource policy[\s\S]*statelessapps\.twelvefactor\.dev/,
    );
    await eventually(
      async () =>
        (await kubectl(["get", "deployment", NAME, "-n", NAMESPACE], { kubeconfig })).code !== 0,
      { what: "the Deployment to be gone" },
    );
    expect((await kubectl(["get", "clusterrole", NAME], { kubeconfig })).code).not.toBe(0);
    await k(["get", "crd", "statelessapps.twelvefactor.dev"]);
    expect(await k(["get", "sapp", "-n", "demo", "-o", "name"])).toMatch(
      /statelessapp\.twelvefactor\.dev\/hello/,
    );
  });

  test("installing again adopts the kept CRD", async () => {
    const r = await helm(["install", NAME, chartPath, ...releaseArgs, kubeconfig]);
    expect(r.code, r.stderr).toBe(0);
    await k(["get", "deployment", NAME, "-n", NAMESPACE]);
    expect(await k(["get", "sapp", "-n", "demo", "-o", "name"])).toMatch(/hello/);
  });
});
