import type { V1Deployment, V1Service } from "@kubernetes/client-node";
import { describe, expect, test } from "vitest";
import { forbiddenAdditions } from "../../../src/app/reconcile/index.ts";
import { desired } from "../../../src/app/render/index.ts";
import { app } from "../../fixtures/apps.ts";

const rendered = desired(
  app({ scratch: [{ name: "tmp", mountPath: "/tmp", sizeLimit: "64Mi" }] }),
).objects;
const deployment = rendered.find((o) => o.kind === "Deployment") as V1Deployment;

/** The rendered Deployment with `edit` applied to a copy of its pod spec, as another manager would. */
function edited(
  edit: (pod: NonNullable<V1Deployment["spec"]>["template"]["spec"] & object) => void,
): V1Deployment {
  const copy = structuredClone(deployment);
  const pod = copy.spec?.template.spec;
  if (pod === undefined) throw new Error("no pod spec");
  edit(pod);
  return copy;
}

describe("forbiddenAdditions", () => {
  test("finds nothing on the object as rendered, or when it does not exist", () => {
    expect(forbiddenAdditions(deployment, deployment)).toEqual({ findings: [], patch: [] });
    expect(forbiddenAdditions(deployment, undefined)).toEqual({ findings: [], patch: [] });
  });

  test("removes a hostPath volume and its mount, guarded by name tests", () => {
    const live = edited((pod) => {
      pod.volumes?.push({ name: "host", hostPath: { path: "/var/data" } });
      pod.containers[0]?.volumeMounts?.push({ name: "host", mountPath: "/data" });
    });
    expect(forbiddenAdditions(deployment, live)).toEqual({
      findings: ['volume "host": a hostPath volume shares the node\'s disk between processes'],
      patch: [
        { op: "test", path: "/spec/template/spec/containers/0/volumeMounts/1/name", value: "host" },
        { op: "remove", path: "/spec/template/spec/containers/0/volumeMounts/1" },
        { op: "test", path: "/spec/template/spec/volumes/1/name", value: "host" },
        { op: "remove", path: "/spec/template/spec/volumes/1" },
      ],
    });
  });

  test.each([
    [
      { name: "pvc", persistentVolumeClaim: { claimName: "data" } },
      "a persistentVolumeClaim volume keeps state across restarts",
    ],
    [
      { name: "eph", ephemeral: { volumeClaimTemplate: { spec: {} } } },
      "an ephemeral volume claim is a disk outside the scratch bound",
    ],
    [{ name: "big", emptyDir: {} }, "an emptyDir without sizeLimit is unbounded"],
  ])("removes %o", (volume, why) => {
    const live = edited((pod) => pod.volumes?.push(volume));
    const fix = forbiddenAdditions(deployment, live);
    expect(fix.findings).toEqual([`volume ${JSON.stringify(volume.name)}: ${why}`]);
    expect(fix.patch.at(-1)).toEqual({ op: "remove", path: "/spec/template/spec/volumes/1" });
  });

  test("leaves a foreign but harmless volume (a bounded emptyDir, a configMap) alone", () => {
    const live = edited((pod) =>
      pod.volumes?.push(
        { name: "cfg", configMap: { name: "c" } },
        { name: "s", emptyDir: { sizeLimit: "1Mi" } },
      ),
    );
    expect(forbiddenAdditions(deployment, live).patch).toEqual([]);
  });

  test("removes host namespaces and a foreign container with a writable root filesystem", () => {
    const live = edited((pod) => {
      pod.hostNetwork = true;
      pod.hostPID = true;
      pod.containers.push(
        { name: "sidecar", image: "x" },
        { name: "ok", image: "y", securityContext: { readOnlyRootFilesystem: true } },
      );
    });
    expect(forbiddenAdditions(deployment, live)).toEqual({
      findings: [
        "/spec/template/spec.hostNetwork was true: host namespaces share state with the node",
        "/spec/template/spec.hostPID was true: host namespaces share state with the node",
        'containers "sidecar": its root filesystem is writable',
      ],
      patch: [
        { op: "remove", path: "/spec/template/spec/hostNetwork" },
        { op: "remove", path: "/spec/template/spec/hostPID" },
        { op: "test", path: "/spec/template/spec/containers/1/name", value: "sidecar" },
        { op: "remove", path: "/spec/template/spec/containers/1" },
      ],
    });
  });

  test("drops sessionAffinityConfig from an owned Service, setting affinity back to None in the same patch", () => {
    const svc = desired(
      app({ processes: [{ name: "web", ports: [{ name: "http", containerPort: 80 }] }] }),
    ).objects.find((o) => o.kind === "Service") as V1Service;
    const live = structuredClone(svc);
    if (live.spec === undefined) throw new Error("no spec");
    live.spec.sessionAffinity = "ClientIP";
    live.spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10 } };
    expect(forbiddenAdditions(svc, live).patch).toEqual([
      { op: "replace", path: "/spec/sessionAffinity", value: "None" },
      { op: "remove", path: "/spec/sessionAffinityConfig" },
    ]);
  });
});
