// The StatelessApp reconciler on a real kube-apiserver: children, status, spec changes, pruning, drift, no-op resyncs.
import type { V1Deployment, V1Service } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { requestJson } from "../../../src/runtime/index.ts";
import {
  createTestNamespace,
  eventually,
  printClusterLogsOnFailure,
} from "../../support/cluster.ts";
import {
  adminTransport,
  applyAsUser,
  conditionOf,
  getObject,
  installCrd,
  listObjects,
  objectPath,
  settledApp,
  startTestOperator,
  type TestOperator,
} from "../../support/operator.ts";

printClusterLogsOnFailure();

let ns: string;
let op: TestOperator;

beforeAll(async () => {
  await installCrd();
  ns = await createTestNamespace("reconcile");
  op = await startTestOperator({ namespaces: [ns] });
});
afterAll(async () => {
  await op?.stop();
});

const app = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: "twelvefactor.dev/v1alpha1",
  kind: "StatelessApp",
  metadata: { name, namespace: ns },
  spec: { image: "registry.example.com/shop:1.0.0", ...spec },
});

/** Plays the Deployment controller: reports every process of the Deployment as updated and available. */
async function rollOut(name: string): Promise<void> {
  const d = await getObject<V1Deployment>("Deployment", ns, name);
  const replicas = d?.spec?.replicas ?? 1;
  await requestJson(adminTransport(), {
    method: "PATCH",
    path: `${objectPath({ kind: "Deployment", metadata: { namespace: ns, name } })}/status`,
    contentType: "application/merge-patch+json",
    body: JSON.stringify({
      status: {
        observedGeneration: d?.metadata?.generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
      },
    }),
  });
}

describe("reconciling a StatelessApp", () => {
  test("renders its children with the processes rule and reports progress, then Ready", async () => {
    await applyAsUser([
      app("shop", {
        processes: [
          {
            name: "web",
            replicas: 2,
            ports: [{ name: "http", containerPort: 8080, servicePort: 80 }],
          },
          { name: "worker", replicas: 1 },
          { name: "api", autoscale: { minReplicas: 2, maxReplicas: 4 } },
        ],
        scratch: [{ name: "tmp", mountPath: "/tmp", sizeLimit: "64Mi" }],
      }),
    ]);
    const progressing = await settledApp(
      ns,
      "shop",
      (a) => conditionOf(a, "Reconciling")?.status === "True",
    );
    expect(conditionOf(progressing, "Ready")).toMatchObject({
      status: "False",
      reason: "Progressing",
      observedGeneration: 1,
    });

    const web = await getObject<V1Deployment>("Deployment", ns, "shop-web");
    expect(web?.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: "StatelessApp",
      name: "shop",
      controller: true,
    });
    expect(web?.spec?.replicas).toBe(2);
    const container = web?.spec?.template.spec?.containers[0];
    expect(container?.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
    });
    expect(web?.spec?.template.spec?.volumes).toEqual([
      { name: "scratch-tmp", emptyDir: { sizeLimit: "64Mi" } },
    ]);
    const svc = await getObject<V1Service>("Service", ns, "shop-web");
    expect(svc?.spec).toMatchObject({
      type: "ClusterIP",
      sessionAffinity: "None",
      ports: [{ name: "http", port: 80, targetPort: "http" }],
    });
    expect(await getObject("Service", ns, "shop-worker")).toBeUndefined();
    expect(await getObject("PodDisruptionBudget", ns, "shop-web")).toMatchObject({
      spec: { maxUnavailable: 1 },
    });
    expect(await getObject("PodDisruptionBudget", ns, "shop-worker")).toBeUndefined();
    const api = await getObject<V1Deployment>("Deployment", ns, "shop-api");
    expect(api?.spec?.replicas).toBe(1); // the API server's default: the autoscaler owns it, we never set it
    expect(await getObject("HorizontalPodAutoscaler", ns, "shop-api")).toMatchObject({
      spec: { minReplicas: 2, maxReplicas: 4 },
    });

    for (const d of ["shop-web", "shop-worker", "shop-api"]) await rollOut(d);
    const ready = await settledApp(ns, "shop", (a) => conditionOf(a, "Ready")?.status === "True");
    expect(conditionOf(ready, "Reconciling")).toBeUndefined();
    expect(conditionOf(ready, "Stalled")).toBeUndefined();
    expect(ready.status?.summary).toBe("web 2/2, worker 1/1, api 1/1");
    await eventually(
      async () =>
        (
          await listObjects<{ reason: string; type: string; regarding: { name: string } }>(
            "Event",
            ns,
          )
        ).some((e) => e.regarding.name === "shop" && e.type === "Normal" && e.reason === "Ready"),
      { what: "a Normal Ready Event" },
    );
  });

  test("follows a spec change: observedGeneration, the new image, a removed process type and port deleted", async () => {
    await applyAsUser([
      app("shop", {
        image: "registry.example.com/shop:2.0.0",
        processes: [{ name: "web", replicas: 3 }],
        scratch: [{ name: "tmp", mountPath: "/tmp", sizeLimit: "64Mi" }],
      }),
    ]);
    const changed = await settledApp(ns, "shop", (a) => a.metadata.generation === 2);
    expect(changed.status?.observedGeneration).toBe(2);
    await eventually(async () => (await getObject("Deployment", ns, "shop-worker")) === undefined, {
      what: "shop-worker deleted",
    });
    await eventually(async () => (await getObject("Service", ns, "shop-web")) === undefined, {
      what: "shop-web Service deleted",
    });
    await eventually(
      async () => (await getObject("HorizontalPodAutoscaler", ns, "shop-api")) === undefined,
      { what: "HPA deleted" },
    );
    const web = await getObject<V1Deployment>("Deployment", ns, "shop-web");
    expect(web?.spec?.template.spec?.containers[0]?.image).toBe("registry.example.com/shop:2.0.0");
    expect(web?.spec?.replicas).toBe(3);
    expect(
      (await listObjects<V1Deployment>("Deployment", ns)).map((d) => d.metadata?.name),
    ).toEqual(["shop-web"]);
  });

  test("a forced full resync of converged apps makes zero writes and reads nothing by name", async () => {
    await settledApp(ns, "shop");
    await eventually(
      async () =>
        op.operator.controller.queue.length === 0 && op.operator.controller.queue.inFlight === 0,
      {
        what: "an idle queue",
      },
    );
    op.requests.reset();
    const before = op.reconciles();
    op.operator.controller.enqueue(`${ns}/shop`);
    await eventually(async () => op.reconciles() > before, { what: "the resync reconcile" });
    expect(op.requests.writes).toEqual([]);
    // Every child is in the caches: no lookup by name (those are for names the caches lack).
    expect(op.requests.counts.get("get") ?? 0).toBe(0);
  });

  test("reverts drift on a child with a Warning Event, and removes a hostPath volume another manager added", async () => {
    const path = objectPath({ kind: "Deployment", metadata: { namespace: ns, name: "shop-web" } });
    await requestJson(adminTransport(), {
      method: "PATCH",
      path,
      query: { fieldManager: "intruder" },
      contentType: "application/strategic-merge-patch+json",
      body: JSON.stringify({
        spec: {
          replicas: 7,
          template: {
            spec: {
              volumes: [{ name: "data", hostPath: { path: "/var/data" } }],
              containers: [{ name: "web", volumeMounts: [{ name: "data", mountPath: "/data" }] }],
            },
          },
        },
      }),
    });
    const fixed = await eventually(
      async () => {
        const d = await getObject<V1Deployment>("Deployment", ns, "shop-web");
        return d?.spec?.replicas === 3 &&
          !d.spec.template.spec?.volumes?.some((v) => v.name === "data")
          ? d
          : undefined;
      },
      { what: "the drift to be corrected" },
    );
    expect(fixed.spec?.template.spec?.containers[0]?.volumeMounts?.map((m) => m.name)).toEqual([
      "scratch-tmp",
    ]);
    const events = await eventually(
      async () => {
        const list = await listObjects<{
          reason: string;
          type: string;
          note: string;
          regarding: { name: string };
        }>("Event", ns);
        const reasons = new Set(
          list.filter((e) => e.regarding.name === "shop").map((e) => e.reason),
        );
        return reasons.has("ForbiddenRemoved") && reasons.has("DriftCorrected") ? list : undefined;
      },
      { what: "Warning Events for the corrections" },
    );
    const removed = events.find((e) => e.reason === "ForbiddenRemoved");
    expect(removed).toMatchObject({ type: "Warning" });
    expect(removed?.note).toContain('volumes "data" (TF-PROC-006 hostPath volume)');
  });

  test("removes what the rules flag that others add: an NFS and an inline CSI volume, a privileged root sidecar, sticky-session Service annotations", async () => {
    await applyAsUser([
      app("intruded", {
        processes: [{ name: "web", replicas: 1, ports: [{ name: "http", containerPort: 8080 }] }],
        scratch: [{ name: "tmp", mountPath: "/tmp", sizeLimit: "64Mi" }],
      }),
    ]);
    await settledApp(ns, "intruded");
    await eventually(async () => (await getObject("Service", ns, "intruded-web")) !== undefined, {
      what: "the Service",
    });
    const deploymentPath = objectPath({
      kind: "Deployment",
      metadata: { namespace: ns, name: "intruded-web" },
    });
    await requestJson(adminTransport(), {
      method: "PATCH",
      path: deploymentPath,
      query: { fieldManager: "intruder" },
      contentType: "application/strategic-merge-patch+json",
      body: JSON.stringify({
        spec: {
          template: {
            spec: {
              volumes: [
                { name: "share", nfs: { server: "nfs.example.com", path: "/exports" } },
                {
                  name: "files",
                  csi: { driver: "file.csi.azure.com", volumeAttributes: { shareName: "s" } },
                },
              ],
              containers: [
                { name: "web", volumeMounts: [{ name: "share", mountPath: "/share" }] },
                {
                  name: "shell",
                  image: "busybox",
                  securityContext: { privileged: true, runAsUser: 0, runAsNonRoot: false },
                  volumeMounts: [{ name: "files", mountPath: "/files" }],
                },
              ],
            },
          },
        },
      }),
    });
    const sticky = {
      "traefik.ingress.kubernetes.io/service.sticky.cookie": "true",
      "service.beta.kubernetes.io/do-loadbalancer-sticky-sessions-type": "cookies",
    };
    await requestJson(adminTransport(), {
      method: "PATCH",
      path: objectPath({ kind: "Service", metadata: { namespace: ns, name: "intruded-web" } }),
      query: { fieldManager: "kubectl-annotate" },
      contentType: "application/merge-patch+json",
      body: JSON.stringify({
        metadata: { annotations: { ...sticky, "example.com/team": "shop" } },
      }),
    });
    const d = await eventually(
      async () => {
        const got = await getObject<V1Deployment>("Deployment", ns, "intruded-web");
        const pod = got?.spec?.template.spec;
        return pod?.volumes?.every((v) => v.nfs === undefined && v.csi === undefined) &&
          pod.containers.every((c) => c.name !== "shell")
          ? got
          : undefined;
      },
      { what: "the NFS and CSI volumes and the sidecar removed" },
    );
    expect(d.spec?.template.spec?.containers.map((c) => c.name)).toEqual(["web"]);
    expect(d.spec?.template.spec?.containers[0]?.volumeMounts?.map((m) => m.name)).toEqual([
      "scratch-tmp",
    ]);
    const svc = await eventually(
      async () => {
        const got = await getObject<V1Service>("Service", ns, "intruded-web");
        const annotations = got?.metadata?.annotations ?? {};
        return Object.keys(sticky).every((k) => !(k in annotations)) ? got : undefined;
      },
      { what: "the sticky annotations removed" },
    );
    expect(svc.metadata?.annotations?.["example.com/team"]).toBe("shop");
    const notes = await eventually(
      async () => {
        const list = (
          await listObjects<{ reason: string; note: string; regarding: { name: string } }>(
            "Event",
            ns,
          )
        ).filter((e) => e.regarding.name === "intruded" && e.reason === "ForbiddenRemoved");
        const text = list.map((e) => e.note).join("\n");
        return text.includes("TF-PROC-009") &&
          text.includes("TF-PROC-015") &&
          text.includes("TF-PROC-011") &&
          text.includes("TF-PROC-003")
          ? text
          : undefined;
      },
      { what: "ForbiddenRemoved Warnings naming the rules" },
    );
    expect(notes).toContain('volumes "share" (TF-PROC-009');
    expect(notes).toContain('containers "shell" (TF-PROC-011');
  });

  test("hands the replica count to a new autoscaler without a scale-down to one", async () => {
    await applyAsUser([app("handoff", { processes: [{ name: "web", replicas: 3 }] })]);
    await eventually(
      async () =>
        (await getObject<V1Deployment>("Deployment", ns, "handoff-web"))?.spec?.replicas === 3,
      {
        what: "3 replicas",
      },
    );
    await applyAsUser([
      app("handoff", {
        processes: [{ name: "web", autoscale: { minReplicas: 2, maxReplicas: 6 } }],
      }),
    ]);
    await eventually(
      async () => (await getObject("HorizontalPodAutoscaler", ns, "handoff-web")) !== undefined,
      {
        what: "the autoscaler",
      },
    );
    await settledApp(ns, "handoff");
    const d = await getObject<V1Deployment>("Deployment", ns, "handoff-web");
    expect(d?.spec?.replicas).toBe(3);
    const owners = (d?.metadata?.managedFields ?? []).filter((e) =>
      JSON.stringify(e.fieldsV1 ?? {}).includes('"f:replicas"'),
    );
    expect(owners.map((e) => e.manager)).toEqual(["stateless-operator-replicas-handoff"]);
  });

  test("sets sessionAffinity back to None when someone makes sessions sticky", async () => {
    await applyAsUser([
      app("sticky", {
        processes: [{ name: "web", ports: [{ name: "http", containerPort: 8080 }] }],
      }),
    ]);
    await settledApp(ns, "sticky");
    await eventually(async () => (await getObject("Service", ns, "sticky-web")) !== undefined, {
      what: "the Service",
    });
    await requestJson(adminTransport(), {
      method: "PATCH",
      path: objectPath({ kind: "Service", metadata: { namespace: ns, name: "sticky-web" } }),
      query: { fieldManager: "kubectl-edit" },
      contentType: "application/merge-patch+json",
      body: JSON.stringify({
        spec: {
          sessionAffinity: "ClientIP",
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
        },
      }),
    });
    const svc = await eventually(
      async () => {
        const s = await getObject<V1Service>("Service", ns, "sticky-web");
        return s?.spec?.sessionAffinity === "None" && s.spec.sessionAffinityConfig === undefined
          ? s
          : undefined;
      },
      { what: "sessionAffinity None again" },
    );
    expect(svc.spec?.sessionAffinity).toBe("None");
  });

  test("paused: leaves the children alone and says so", async () => {
    await applyAsUser([
      app("frozen", { processes: [{ name: "web", replicas: 1 }], paused: false }),
    ]);
    await eventually(async () => (await getObject("Deployment", ns, "frozen-web")) !== undefined, {
      what: "frozen-web",
    });
    await applyAsUser([app("frozen", { processes: [{ name: "web", replicas: 4 }], paused: true })]);
    const paused = await settledApp(
      ns,
      "frozen",
      (a) => conditionOf(a, "Paused")?.status === "True",
    );
    expect(conditionOf(paused, "Paused")?.message).toBe(
      "spec.paused is true: children are left as they are",
    );
    expect((await getObject<V1Deployment>("Deployment", ns, "frozen-web"))?.spec?.replicas).toBe(1);
  });
});
