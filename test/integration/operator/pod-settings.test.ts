// Pod settings, envFrom and config on a real kube-apiserver: every field reaches the stored pod template, the rules accept it, a changed source rolls the pods, a tenant reaches only its namespace.
import { readFileSync } from "node:fs";
import type { V1Deployment } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parse } from "yaml";
import { CONFIG_HASH_ANNOTATION } from "../../../src/app/render/index.ts";
import { checkObject } from "../../../src/app/rules/index.ts";
import { type HttpTransport, type KubeObject, requestJson } from "../../../src/runtime/index.ts";
import {
  createTestNamespace,
  eventually,
  printClusterLogsOnFailure,
} from "../../support/cluster.ts";
import {
  adminTransport,
  applyAsUser,
  getObject,
  installCrd,
  objectPath,
  startTestOperator,
  type TestOperator,
  tenantTransport,
} from "../../support/operator.ts";

printClusterLogsOnFailure();

let ns: string;
/** Another team's namespace, watched by the same operator. */
let other: string;
let op: TestOperator;
/** A user with only the shipped stateless-operator-edit role in `ns`. */
let tenant: HttpTransport;

beforeAll(async () => {
  await installCrd();
  ns = await createTestNamespace("pod-settings");
  other = await createTestNamespace("pod-settings-other");
  tenant = await tenantTransport(ns);
  op = await startTestOperator({ namespaces: [ns, other] });
});
afterAll(async () => {
  await op?.stop();
});

/** The corpus's app with every pod setting, shared and per process. */
const everything = parse(
  readFileSync(new URL("../fuzz/corpus/pod-everything-valid.yaml", import.meta.url), "utf8"),
) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };

const deployment = (name: string) =>
  eventually(() => getObject<V1Deployment>("Deployment", ns, name), {
    what: `Deployment ${ns}/${name}`,
  });

describe("pod settings reach the pod template", () => {
  test("every field, as the API server stores it, merged per process", async () => {
    await applyAsUser([{ ...everything, metadata: { name: "shop", namespace: ns } }]);
    const web = await deployment("shop-web");
    const template = web.spec?.template;
    const ownPods = {
      matchLabels: { "app.kubernetes.io/instance": "shop", "app.kubernetes.io/component": "web" },
    };
    expect(template?.metadata?.labels).toEqual({
      team: "payments",
      "cost-center": "42",
      tier: "front",
      "app.kubernetes.io/name": "shop",
      "app.kubernetes.io/instance": "shop",
      "app.kubernetes.io/component": "web",
      "app.kubernetes.io/managed-by": "stateless-operator",
    });
    expect(template?.metadata?.annotations).toEqual({
      "prometheus.io/scrape": "true",
      "vault.hashicorp.com/role": "shop",
    });
    const pod = template?.spec;
    expect(pod?.imagePullSecrets).toEqual([{ name: "regcred" }]);
    expect(pod?.serviceAccountName).toBe("shop");
    expect(pod?.automountServiceAccountToken).toBe(true);
    expect(pod?.nodeSelector).toEqual({ "kubernetes.io/os": "linux" });
    expect(pod?.tolerations).toEqual([
      { key: "dedicated", operator: "Equal", value: "shop", effect: "NoSchedule" },
      { operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 },
    ]);
    expect(pod?.affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: "topology.kubernetes.io/zone", operator: "In", values: ["a", "b"] },
                { key: "example.com/generation", operator: "Gt", values: ["3"] },
              ],
            },
            { matchFields: [{ key: "metadata.name", operator: "NotIn", values: ["node-1"] }] },
          ],
        },
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 10, preference: { matchExpressions: [{ key: "disk", operator: "Exists" }] } },
        ],
      },
      // The process's podAffinity beside the app's podAntiAffinity: merged by kind.
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            topologyKey: "kubernetes.io/hostname",
            labelSelector: { matchLabels: { app: "cache" } },
          },
        ],
      },
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 50,
            podAffinityTerm: {
              topologyKey: "topology.kubernetes.io/zone",
              labelSelector: { matchLabels: { "app.kubernetes.io/instance": "shop" } },
            },
          },
        ],
      },
    });
    expect(pod?.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "DoNotSchedule",
        minDomains: 2,
        nodeAffinityPolicy: "Honor",
        nodeTaintsPolicy: "Ignore",
        labelSelector: ownPods,
      },
      {
        maxSkew: 2,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: {
          matchExpressions: [
            { key: "app.kubernetes.io/component", operator: "In", values: ["web"] },
          ],
        },
      },
    ]);
    expect(pod?.priorityClassName).toBe("high");
    expect(pod?.terminationGracePeriodSeconds).toBe(20);
    expect(pod?.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1001,
      runAsGroup: 1000,
      fsGroup: 2000,
      supplementalGroups: [3000],
      seccompProfile: { type: "RuntimeDefault" },
    });
    // The rules the admission policies and audit enforce accept what the API server stored.
    expect(checkObject({ ...web, apiVersion: "apps/v1", kind: "Deployment" })).toEqual([]);

    const worker = (await deployment("shop-worker")).spec?.template.spec;
    // Lists replace: the worker's [] clears the app's tolerations and the default spread.
    expect(worker?.tolerations).toBeUndefined();
    expect(worker?.topologySpreadConstraints).toBeUndefined();
    expect(worker?.terminationGracePeriodSeconds).toBe(60);
    expect(worker?.securityContext?.runAsUser).toBe(1000);
  });

  test("drift in a pod setting is corrected", async () => {
    await requestJson(adminTransport(), {
      method: "PATCH",
      path: objectPath({ kind: "Deployment", metadata: { namespace: ns, name: "shop-web" } }),
      query: { fieldManager: "intruder" },
      contentType: "application/strategic-merge-patch+json",
      body: JSON.stringify({
        spec: { template: { spec: { priorityClassName: "other", nodeSelector: { disk: "x" } } } },
      }),
    });
    const fixed = await eventually(
      async () => {
        const pod = (await getObject<V1Deployment>("Deployment", ns, "shop-web"))?.spec?.template
          .spec;
        return pod?.priorityClassName === "high" && pod.nodeSelector?.disk === undefined
          ? pod
          : undefined;
      },
      { what: "the pod settings restored" },
    );
    expect(fixed.nodeSelector).toEqual({ "kubernetes.io/os": "linux" });
  });

  test("a changed ConfigMap or Secret of envFrom or config rolls the pods; an unrelated change does not", async () => {
    const configMap = (value: string) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "conf-files", namespace: ns },
      data: { "app.yaml": value },
    });
    const secret = (value: string) => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "conf-env", namespace: ns },
      stringData: { TOKEN: value },
    });
    await applyAsUser([configMap("a: 1"), secret("one")]);
    await applyAsUser([
      {
        apiVersion: "twelvefactor.dev/v1alpha1",
        kind: "StatelessApp",
        metadata: { name: "conf", namespace: ns },
        spec: {
          image: "registry.example.com/shop:1",
          envFrom: [{ secretRef: { name: "conf-env" } }],
          config: [{ name: "files", mountPath: "/etc/conf", configMap: { name: "conf-files" } }],
          processes: [{ name: "web" }],
        },
      },
    ]);
    const hashOf = async () =>
      (await getObject<V1Deployment>("Deployment", ns, "conf-web"))?.spec?.template.metadata
        ?.annotations?.[CONFIG_HASH_ANNOTATION];
    const changedFrom = (before: string | undefined) =>
      eventually(
        async () => {
          const now = await hashOf();
          return now !== undefined && now !== before ? now : undefined;
        },
        { what: "the config hash to change" },
      );
    const first = await changedFrom(undefined);
    const pod = (await deployment("conf-web")).spec?.template.spec;
    expect(pod?.containers[0]?.envFrom).toEqual([{ secretRef: { name: "conf-env" } }]);
    expect(pod?.volumes).toEqual([
      { name: "config-files", configMap: { name: "conf-files", defaultMode: 420 } },
    ]);
    expect(pod?.containers[0]?.volumeMounts).toEqual([
      { name: "config-files", mountPath: "/etc/conf", readOnly: true },
    ]);

    await applyAsUser([configMap("a: 2")]);
    const second = await changedFrom(first);
    await applyAsUser([secret("two")]);
    const third = await changedFrom(second);
    // A label on the ConfigMap is not its data: the pods stay.
    await applyAsUser([
      { ...configMap("a: 2"), metadata: { ...configMap("").metadata, labels: { x: "y" } } },
    ]);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await hashOf()).toBe(third);
  });

  test("hostile tenant: envFrom and config read the app's namespace only; root and system- classes are refused", async () => {
    const asTenant = (object: KubeObject) =>
      requestJson(tenant, {
        method: "PATCH",
        path: objectPath(object),
        query: { fieldManager: "kubectl", force: true },
        contentType: "application/apply-patch+yaml",
        body: JSON.stringify(object),
      });
    const hostile = (spec: Record<string, unknown>) => ({
      apiVersion: "twelvefactor.dev/v1alpha1",
      kind: "StatelessApp",
      metadata: { name: "hostile", namespace: ns },
      spec: { image: "registry.example.com/shop:1", processes: [{ name: "web" }], ...spec },
    });
    // Another team's ConfigMap and Secret, of the names the tenant's app reads.
    const theirs = (data: string) => [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "shared", namespace: other },
        data: { k: data },
      },
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "shared", namespace: other },
        stringData: { k: data },
      },
    ];
    await applyAsUser(theirs("one"));
    await asTenant(
      hostile({
        envFrom: [{ secretRef: { name: "shared", optional: true } }],
        config: [{ name: "c", mountPath: "/etc/c", configMap: { name: "shared" } }],
      }),
    );
    const hashOf = async () =>
      (await getObject<V1Deployment>("Deployment", ns, "hostile-web"))?.spec?.template.metadata
        ?.annotations?.[CONFIG_HASH_ANNOTATION];
    const before = await eventually(hashOf, { what: "the hostile app's config hash" });
    await applyAsUser(theirs("two"));
    await new Promise((r) => setTimeout(r, 1500));
    // The other team's change is not the tenant's config: nothing rolls, nothing of it is read.
    expect(await hashOf()).toBe(before);

    for (const [spec, field] of [
      [{ pod: { priorityClassName: "system-node-critical" } }, "spec.pod.priorityClassName"],
      [{ pod: { securityContext: { runAsUser: 0 } } }, "spec.pod.securityContext.runAsUser"],
      [{ envFrom: [{ secretRef: { name: `${other}/shared` } }] }, "spec.envFrom[0].secretRef.name"],
    ] as const) {
      const refused = await asTenant(hostile(spec)).then(
        () => undefined,
        (error: { code?: number; message?: string }) => error,
      );
      expect(refused?.code, field).toBe(422);
      expect(refused?.message).toContain(field);
    }
  });
});
