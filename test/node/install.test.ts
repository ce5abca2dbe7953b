// Real pods 1: dist/install.yaml with the operator's image built from our Dockerfile. The operator
// pod runs under Pod Security `restricted` with only its ServiceAccount (in-cluster config through
// the `kubernetes` Service), becomes leader, and reconciles a tenant's app into Ready pods.

import { beforeAll, describe, expect, test } from "vitest";
import { kubectlOk } from "../integration/install/kubectl.ts";
import { printClusterLogsOnFailure } from "../support/cluster.ts";
import {
  applyAsTenant,
  appPods,
  asTenant,
  deployRedis,
  image,
  installOperator,
  OPERATOR_NAMESPACE,
  sessionCounterObjects,
  tenantNamespace,
  waitReady,
} from "./support/node.ts";

printClusterLogsOnFailure();

type OperatorPod = {
  metadata: { name: string };
  spec: {
    serviceAccountName: string;
    containers: { image: string; securityContext?: Record<string, unknown> }[];
  };
  status: { phase: string; containerStatuses?: { ready: boolean; restartCount: number }[] };
};

let namespace: string;

beforeAll(async () => {
  await installOperator();
  namespace = await tenantNamespace("install");
});

describe("the operator installed from dist/install.yaml, running from its own image", () => {
  test("runs under Pod Security restricted, as its ServiceAccount, from the built image", async () => {
    const ns = JSON.parse(
      await kubectlOk(["get", "namespace", OPERATOR_NAMESPACE, "-o", "json"]),
    ) as { metadata: { labels: Record<string, string> } };
    expect(ns.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    const pods = JSON.parse(
      await kubectlOk(["-n", OPERATOR_NAMESPACE, "get", "pods", "-o", "json"]),
    ) as { items: OperatorPod[] };
    expect(pods.items.length).toBeGreaterThan(0);
    for (const pod of pods.items) {
      expect(pod.status.phase).toBe("Running");
      expect(pod.spec.serviceAccountName).toBe("stateless-operator");
      expect(pod.spec.containers[0]?.image).toBe(image("operator"));
      expect(pod.status.containerStatuses?.every((c) => c.ready && c.restartCount === 0)).toBe(
        true,
      );
    }
    // A real process in the image: it answers as the image's user, not root.
    const name = pods.items[0]?.metadata.name ?? "";
    const id = await kubectlOk([
      "-n",
      OPERATOR_NAMESPACE,
      "exec",
      name,
      "--",
      "node",
      "-e",
      "console.log(process.getuid(), process.getgid())",
    ]);
    expect(id.trim()).toBe("1000 1000");
  });

  test("one of its pods holds the leader Lease", async () => {
    const lease = JSON.parse(
      await kubectlOk([
        "-n",
        OPERATOR_NAMESPACE,
        "get",
        "lease",
        "stateless-operator",
        "-o",
        "json",
      ]),
    ) as { spec: { holderIdentity?: string } };
    const pods = (
      JSON.parse(await kubectlOk(["-n", OPERATOR_NAMESPACE, "get", "pods", "-o", "json"])) as {
        items: OperatorPod[];
      }
    ).items.map((p) => p.metadata.name);
    expect(pods.some((p) => lease.spec.holderIdentity?.includes(p))).toBe(true);
  });

  test("reconciles a tenant's session-counter app into Ready pods; its logs have no error", async () => {
    const password = "install-scenario-password";
    const redis = await deployRedis(namespace, password);
    await applyAsTenant(namespace, sessionCounterObjects(namespace, redis, password));
    await waitReady(namespace, "session-counter");
    const pods = await appPods(namespace, "session-counter");
    expect(pods.filter((p) => p.status?.phase === "Running")).toHaveLength(3);
    // The tenant sees the children, the status and the Events.
    const children = await asTenant(["-n", namespace, "get", "deploy,svc,pdb", "-o", "name"]);
    expect(children).toContain("deployment.apps/session-counter-web");
    expect(children).toContain("service/session-counter-web");
    // Every replica's log (the leader's and the standby's), through the kubelet.
    const logs = await kubectlOk([
      "-n",
      OPERATOR_NAMESPACE,
      "logs",
      "-l",
      "app.kubernetes.io/name=stateless-operator",
      "--prefix",
      "--tail=-1",
    ]);
    expect(logs).toContain('"msg":"starting workers"');
    // One warning is expected: dist/install.yaml creates the CRD and the operator together, so
    // its first list of StatelessApps may meet the new resource's storage still initializing
    // (HTTP 429), and it retries.
    const crdStarting =
      /"errCode":429,"reason":"TooManyRequests","err":"storage is \(re\)initializing"/;
    const bad = logs
      .split("\n")
      .filter((l) => /"level":"(warn|error|fatal)"|forbidden/i.test(l))
      .filter((l) => !crdStarting.test(l));
    expect(bad).toEqual([]);
  });
});
