// Pod failures in the app's status, on a real kube-apiserver: pods of the app's Deployment whose
// status (set through the API, as a kubelet would) says ImagePullBackOff or CrashLoopBackOff make
// Ready=False name the process type, the reason and the message, with one Warning Event per
// distinct message; a recovered pod clears it; a pod that is not our Deployment's is ignored.
import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
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
  settledApp,
  startTestOperator,
  type TestOperator,
} from "../../support/operator.ts";

printClusterLogsOnFailure();

let ns: string;
let op: TestOperator;

beforeAll(async () => {
  await installCrd();
  ns = await createTestNamespace("pod-failures");
  op = await startTestOperator({ namespaces: [ns] });
});
afterAll(async () => {
  await op?.stop();
});

const podsPath = () => `/api/v1/namespaces/${ns}/pods`;

/** Plays the ReplicaSet controller: a pod of Deployment `deployment` (owned by its ReplicaSet's name). */
async function createPod(name: string, deployment: string, labels: Record<string, string>) {
  const hash = "5d8f7c9b6";
  return requestJson<V1Pod>(adminTransport(), {
    method: "POST",
    path: podsPath(),
    body: JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        labels: { ...labels, "pod-template-hash": hash },
        ownerReferences: [
          {
            apiVersion: "apps/v1",
            kind: "ReplicaSet",
            name: `${deployment}-${hash}`,
            uid: "00000000-0000-0000-0000-000000000001",
            controller: true,
          },
        ],
      },
      spec: {
        nodeName: "nowhere",
        containers: [{ name: "app", image: "registry.example.com/nope:1" }],
      },
    }),
  });
}

/** Plays the kubelet: the pod's container status. */
async function setContainerState(name: string, status: Record<string, unknown>) {
  await requestJson(adminTransport(), {
    method: "PATCH",
    path: `${podsPath()}/${name}/status`,
    contentType: "application/merge-patch+json",
    body: JSON.stringify({
      status: {
        phase: "Pending",
        containerStatuses: [
          {
            name: "app",
            image: "registry.example.com/nope:1",
            imageID: "",
            ready: false,
            restartCount: 0,
            ...status,
          },
        ],
      },
    }),
  });
}

const events = async (reason: string) =>
  (
    await listObjects<{ reason?: string; note?: string; regarding?: { name?: string } }>(
      "Event",
      ns,
    )
  ).filter((e) => e.reason === reason && e.regarding?.name === "shop");

describe("pod failures in the status", () => {
  test("ImagePullBackOff, then CrashLoopBackOff, name the process type, reason and message; a recovered pod clears them", async () => {
    await applyAsUser([
      {
        apiVersion: "twelvefactor.dev/v1alpha1",
        kind: "StatelessApp",
        metadata: { name: "shop", namespace: ns },
        spec: { image: "registry.example.com/nope:1", processes: [{ name: "web", replicas: 1 }] },
      },
    ]);
    await settledApp(ns, "shop", (a) => conditionOf(a, "Ready")?.reason === "Progressing");
    const deployment = await getObject<V1Deployment>("Deployment", ns, "shop-web");
    const labels = deployment?.spec?.template.metadata?.labels ?? {};
    await createPod("shop-web-1", "shop-web", labels);
    // Another's pod with our labels (not of our Deployment's ReplicaSet) never shows up.
    await createPod("other-1", "other", labels);
    await setContainerState("other-1", {
      state: { waiting: { reason: "ErrImagePull", message: "not ours" } },
    });

    const pull = 'Back-off pulling image "registry.example.com/nope:1"';
    await setContainerState("shop-web-1", {
      state: { waiting: { reason: "ImagePullBackOff", message: pull } },
    });
    const pulling = await settledApp(
      ns,
      "shop",
      (a) => conditionOf(a, "Ready")?.reason === "PodsFailing",
    );
    expect(conditionOf(pulling, "Ready")).toMatchObject({
      status: "False",
      message: `rolling out: web 0/1; web: ImagePullBackOff: ${pull} (pod shop-web-1, container app)`,
    });
    expect(conditionOf(pulling, "Reconciling")?.status).toBe("True");
    expect(conditionOf(pulling, "Ready")?.message).not.toContain("not ours");

    await setContainerState("shop-web-1", {
      restartCount: 3,
      state: {
        waiting: {
          reason: "CrashLoopBackOff",
          message: "back-off 20s restarting failed container=app",
        },
      },
      lastState: { terminated: { exitCode: 3, reason: "Error" } },
    });
    const crashing = await settledApp(ns, "shop", (a) =>
      (conditionOf(a, "Ready")?.message ?? "").includes("CrashLoopBackOff"),
    );
    expect(conditionOf(crashing, "Ready")?.message).toBe(
      "rolling out: web 0/1; web: CrashLoopBackOff: back-off 20s restarting failed container=app; last exit code 3 (Error) (pod shop-web-1, container app)",
    );
    // One Warning per distinct message: the pull and the crash, each once (a repeat joins its series).
    const warnings = await eventually(
      async () => {
        const found = await events("PodFailing");
        return found.length >= 2 ? found : undefined;
      },
      { what: "two PodFailing Warnings" },
    );
    expect(warnings.map((e) => e.note).sort()).toEqual([
      "web: CrashLoopBackOff: back-off 20s restarting failed container=app; last exit code 3 (Error) (pod shop-web-1, container app)",
      `web: ImagePullBackOff: ${pull} (pod shop-web-1, container app)`,
    ]);

    // The container runs: the failure is gone from the status.
    await setContainerState("shop-web-1", { restartCount: 3, state: { running: {} } });
    const recovered = await settledApp(
      ns,
      "shop",
      (a) => conditionOf(a, "Ready")?.reason === "Progressing",
    );
    expect(conditionOf(recovered, "Ready")?.message).toBe("rolling out: web 0/1");
    expect(await events("PodFailing")).toHaveLength(2);
  });
});
