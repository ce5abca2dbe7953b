import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import { describe, expect, test } from "vitest";
import { podFailure, processFailure, trimPod } from "../../../src/app/status/index.ts";
import type { KubeObject } from "../../../src/runtime/index.ts";

const waiting = (reason: string, message?: string, name = "app"): V1ContainerStatus => ({
  name,
  image: "x",
  imageID: "",
  ready: false,
  restartCount: 0,
  state: { waiting: { reason, ...(message === undefined ? {} : { message }) } },
});

const pod = (name: string, status: V1Pod["status"], meta: Partial<V1Pod["metadata"]> = {}) =>
  ({ metadata: { name, namespace: "shop", ...meta }, status }) as V1Pod;

const CRASH: V1ContainerStatus = {
  ...waiting(
    "CrashLoopBackOff",
    "back-off 10s restarting failed container=app pod=shop-web-1_shop(u1)",
  ),
  restartCount: 2,
  lastState: { terminated: { exitCode: 3, reason: "Error", message: "boom\n" } },
};

describe("podFailure: the kubelet's and the scheduler's reasons", () => {
  test.each([
    ["ImagePullBackOff", 'Back-off pulling image "nope:1"'],
    ["ErrImagePull", "failed to pull and unpack image: not found"],
    ["ErrImageNeverPull", 'Container image "nope:1" is not present with pull policy of Never'],
    ["InvalidImageName", 'Failed to apply default image tag "NOPE": invalid reference format'],
    [
      "CreateContainerConfigError",
      "container has runAsNonRoot and image has non-numeric user (node)",
    ],
    ["CreateContainerError", "context deadline exceeded"],
    ["RunContainerError", "exec: no such file"],
  ])("a container waiting with %s is a failure, with the kubelet's message", (reason, message) => {
    expect(
      podFailure(pod("p", { phase: "Pending", containerStatuses: [waiting(reason, message)] })),
    ).toEqual({ pod: "p", container: "app", reason, message });
  });

  test("CrashLoopBackOff carries the last exit: code, reason and termination message", () => {
    expect(podFailure(pod("p", { phase: "Running", containerStatuses: [CRASH] }))).toEqual({
      pod: "p",
      container: "app",
      reason: "CrashLoopBackOff",
      message:
        "back-off 10s restarting failed container=app pod=shop-web-1_shop(u1); last exit code 3 (Error): boom",
    });
  });

  test("containers on their way, running ones, and pods that are done or going are not failures", () => {
    const running: V1ContainerStatus = { ...waiting("x"), state: { running: {} }, ready: true };
    expect(
      podFailure(pod("a", { phase: "Pending", containerStatuses: [waiting("ContainerCreating")] })),
    ).toBeUndefined();
    expect(
      podFailure(
        pod("b", { phase: "Pending", initContainerStatuses: [waiting("PodInitializing")] }),
      ),
    ).toBeUndefined();
    expect(
      podFailure(pod("c", { phase: "Running", containerStatuses: [running] })),
    ).toBeUndefined();
    expect(podFailure(pod("d", { phase: "Pending" }))).toBeUndefined();
    expect(podFailure(pod("e", { phase: "Failed", containerStatuses: [CRASH] }))).toBeUndefined();
    expect(
      podFailure(
        pod(
          "f",
          { phase: "Running", containerStatuses: [CRASH] },
          { deletionTimestamp: new Date() },
        ),
      ),
    ).toBeUndefined();
  });

  test("an init container's failure comes first, as init containers run first", () => {
    const failure = podFailure(
      pod("p", {
        phase: "Pending",
        initContainerStatuses: [waiting("ErrImagePull", "init image", "init")],
        containerStatuses: [waiting("PodInitializing")],
      }),
    );
    expect(failure).toMatchObject({ container: "init", reason: "ErrImagePull" });
  });

  test("a waiting reason without a message says so; an unschedulable pod names the scheduler's message", () => {
    expect(
      podFailure(pod("p", { containerStatuses: [waiting("CreateContainerError")] }))?.message,
    ).toBe("no message from the kubelet");
    const unschedulable = pod("p", {
      phase: "Pending",
      conditions: [
        {
          type: "PodScheduled",
          status: "False",
          reason: "Unschedulable",
          message: "0/1 nodes are available: 1 Insufficient cpu.",
        },
      ],
    });
    expect(podFailure(unschedulable)).toEqual({
      pod: "p",
      reason: "Unschedulable",
      message: "0/1 nodes are available: 1 Insufficient cpu.",
    });
  });
});

describe("processFailure: one line per process type", () => {
  const pull = (name: string) =>
    pod(name, {
      phase: "Pending",
      containerStatuses: [waiting("ImagePullBackOff", 'Back-off pulling image "nope:1"')],
    });

  test("names the process type, the reason, the message, the first failing pod by name and how many more", () => {
    expect(
      processFailure("web", [pull("web-b"), pod("web-c", { phase: "Running" }), pull("web-a")]),
    ).toBe(
      'web: ImagePullBackOff: Back-off pulling image "nope:1" (pod web-a, container app; 1 more pods failing)',
    );
    expect(processFailure("web", [pull("web-a")])).toBe(
      'web: ImagePullBackOff: Back-off pulling image "nope:1" (pod web-a, container app)',
    );
  });

  test("no failing pod: no line", () => {
    expect(processFailure("web", [])).toBeUndefined();
    expect(processFailure("web", [pod("web-a", { phase: "Running" })])).toBeUndefined();
  });
});

describe("trimPod: what the pod cache keeps", () => {
  const full = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "web-1",
      namespace: "shop",
      uid: "u1",
      resourceVersion: "7",
      labels: { "app.kubernetes.io/instance": "shop" },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: "shop-web-abc",
          uid: "r",
          controller: true,
        },
      ],
      annotations: { big: "x".repeat(10_000) },
      creationTimestamp: "2026-01-01T00:00:00Z",
    },
    spec: {
      containers: [{ name: "app", image: "x", env: [{ name: "A", value: "y".repeat(5000) }] }],
    },
    status: {
      phase: "Running",
      podIP: "10.0.0.1",
      conditions: [
        { type: "Ready", status: "False" },
        { type: "PodScheduled", status: "True" },
      ],
      containerStatuses: [
        { ...CRASH, lastState: { terminated: { exitCode: 1, message: "z".repeat(4000) } } },
        { ...waiting("x", undefined, "sidecar"), state: { running: {} } },
      ],
    },
  } as unknown as KubeObject;

  test("identity, labels, owner and the waiting containers; no spec, annotations or running containers; long messages clipped", () => {
    const trimmed = trimPod(full) as V1Pod;
    expect(trimmed.metadata).toEqual({
      name: "web-1",
      namespace: "shop",
      uid: "u1",
      resourceVersion: "7",
      labels: { "app.kubernetes.io/instance": "shop" },
      ownerReferences: (full as V1Pod).metadata?.ownerReferences,
    });
    expect(trimmed.spec).toBeUndefined();
    expect(trimmed.status?.conditions).toBeUndefined();
    expect(trimmed.status?.containerStatuses?.map((c) => c.name)).toEqual(["app"]);
    expect(trimmed.status?.containerStatuses?.[0]?.lastState?.terminated?.message?.length).toBe(
      512,
    );
    expect(JSON.stringify(trimmed).length).toBeLessThan(1200);
  });

  test("whoever creates the pod cannot make its cache entry large: two labels, one owner, one failing container per list", () => {
    const many = {
      ...full,
      metadata: {
        ...(full as V1Pod).metadata,
        labels: Object.fromEntries(
          Array.from({ length: 500 }, (_, i) => [`l${i}`, "v".repeat(63)]),
        ),
        ownerReferences: Array.from({ length: 50 }, (_, i) => ({
          apiVersion: "v1",
          kind: "ConfigMap",
          name: `c${i}`,
          uid: `u${i}`,
        })),
      },
      status: {
        phase: "Pending",
        containerStatuses: Array.from({ length: 50 }, (_, i) =>
          waiting("ErrImagePull", "m".repeat(4000), `c${i}`),
        ),
      },
    } as unknown as KubeObject;
    const trimmed = trimPod(many) as V1Pod;
    expect(trimmed.metadata?.labels).toEqual({});
    expect(trimmed.metadata?.ownerReferences).toEqual([]);
    expect(trimmed.status?.containerStatuses?.map((c) => c.name)).toEqual(["c0"]);
    expect(JSON.stringify(trimmed).length).toBeLessThan(1000);
  });

  test("a Job's pod keeps its creation time (a failed release reads the newest one's log); a ReplicaSet's does not", () => {
    const ofJob = {
      ...full,
      metadata: {
        ...(full as V1Pod).metadata,
        ownerReferences: [
          {
            apiVersion: "batch/v1",
            kind: "Job",
            name: "shop-release-1",
            uid: "j",
            controller: true,
          },
        ],
      },
      status: { phase: "Failed" },
    } as unknown as KubeObject;
    expect(trimPod(ofJob).metadata?.creationTimestamp).toBe("2026-01-01T00:00:00Z");
    expect(trimPod(ofJob).status).toEqual({ phase: "Failed" });
    expect(trimPod(full).metadata?.creationTimestamp).toBeUndefined();
  });

  test("the trimmed pod fails as the full one does", () => {
    const failing = {
      ...full,
      status: { phase: "Pending", containerStatuses: [CRASH, waiting("ErrImagePull", "nope")] },
    } as KubeObject;
    expect(podFailure(trimPod(failing) as V1Pod)).toEqual(podFailure(failing as V1Pod));
    const unschedulable = {
      ...full,
      status: {
        phase: "Pending",
        conditions: [
          { type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/1 nodes" },
        ],
      },
    } as KubeObject;
    expect(podFailure(trimPod(unschedulable) as V1Pod)).toEqual(podFailure(unschedulable as V1Pod));
  });
});
