// e2e tier smoke test: controllers, scheduler and kwok's fake nodes make a Deployment real.

import { AppsV1Api, CoreV1Api, type V1Deployment } from "@kubernetes/client-node";
import { beforeAll, describe, expect, test } from "vitest";
import {
  adminKubeConfig,
  createTestNamespace,
  eventually,
  printClusterLogsOnFailure,
} from "../support/cluster.ts";

printClusterLogsOnFailure();

const kc = adminKubeConfig();
const apps = kc.makeApiClient(AppsV1Api);
const core = kc.makeApiClient(CoreV1Api);

function deployment(name: string, replicas: number): V1Deployment {
  const labels = { "app.kubernetes.io/name": name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        // kwok never pulls or runs the image: any name works.
        spec: { containers: [{ name: "web", image: "registry.example.com/web:1" }] },
      },
    },
  };
}

describe("e2e tier", () => {
  let namespace: string;
  beforeAll(async () => {
    namespace = await createTestNamespace("deploy");
  });

  test("a Deployment rolls out on fake nodes and its children are garbage-collected", async () => {
    const name = "web";
    await apps.createNamespacedDeployment({ namespace, body: deployment(name, 2) });

    const ready = await eventually(
      async () => {
        const d = await apps.readNamespacedDeployment({ name, namespace });
        return d.status?.availableReplicas === 2 ? d : undefined;
      },
      { timeoutMs: 90_000, what: "availableReplicas 2" },
    );
    expect(ready.status?.readyReplicas).toBe(2);

    const selector = `app.kubernetes.io/name=${name}`;
    const sets = await apps.listNamespacedReplicaSet({ namespace, labelSelector: selector });
    expect(sets.items).toHaveLength(1);
    expect(sets.items[0]?.metadata?.ownerReferences?.[0]?.name).toBe(name);
    const pods = await core.listNamespacedPod({ namespace, labelSelector: selector });
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items) {
      expect(pod.status?.phase).toBe("Running");
      expect(pod.spec?.nodeName).toMatch(/^kwok-node-/);
      expect(pod.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    }

    // The API's default for Deployments is background propagation: the garbage collector
    // deletes the ReplicaSet, which in turn takes its Pods.
    await apps.deleteNamespacedDeployment({ name, namespace });
    await eventually(
      async () => {
        const [rs, po] = await Promise.all([
          apps.listNamespacedReplicaSet({ namespace, labelSelector: selector }),
          core.listNamespacedPod({ namespace, labelSelector: selector }),
        ]);
        return rs.items.length === 0 && po.items.length === 0;
      },
      { timeoutMs: 90_000, what: "the ReplicaSet and Pods to be garbage-collected" },
    );
  });
});
