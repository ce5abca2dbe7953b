import type { V1Job } from "@kubernetes/client-node";
import { describe, expect, test } from "vitest";
import {
  BINDINGS_HASH_ANNOTATION,
  desired,
  labelsFor,
  RELEASE_CONTAINER,
  releaseHash,
  releaseJobName,
  renderDeployment,
  renderReleaseJob,
} from "../../../src/app/render/index.ts";
import { checkObject } from "../../../src/app/rules/index.ts";
import { app } from "../../fixtures/apps.ts";

const migrate = { command: ["bin/migrate"], args: ["--up"] };

const job = (spec: Parameters<typeof app>[0] = {}): V1Job => {
  const j = renderReleaseJob(app({ release: migrate, ...spec }));
  if (j === undefined) throw new Error("no Job");
  return j;
};

describe("the release Job", () => {
  test("no spec.release, no Job", () => {
    expect(renderReleaseJob(app())).toBeUndefined();
    expect(desired(app()).objects.some((o) => o.kind === "Job")).toBe(false);
  });

  test("named <app>-release-<hash of image and release>, owned by the app, rendered last", () => {
    const a = app({ release: migrate });
    const j = job();
    expect(j.apiVersion).toBe("batch/v1");
    expect(j.metadata?.name).toBe(`shop-release-${releaseHash(a.spec.image, migrate)}`);
    expect(j.metadata?.name).toMatch(/^shop-release-[0-9a-f]{10}$/);
    expect(j.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: "StatelessApp", name: "shop", controller: true }),
    ]);
    expect(j.metadata?.labels).toEqual(labelsFor(a));
    expect(desired(a).objects.at(-1)?.kind).toBe("Job");
  });

  test.each([
    ["a new image", { image: "registry.example.com/shop:1.4.3" }, true],
    ["a changed command", { release: { ...migrate, args: ["--down"] } }, true],
    ["a changed backoffLimit", { release: { ...migrate, backoffLimit: 2 } }, true],
    [
      "the release's keys in another order",
      { release: { args: ["--up"], command: ["bin/migrate"] } },
      false,
    ],
    ["a changed replica count", { processes: [{ name: "web", replicas: 5 }] }, false],
  ])("%s: a new name is %s", (_what, spec, renamed) => {
    const a = app({ release: migrate, ...spec });
    const base = app({ release: migrate });
    const names = [a, base].map((x) => (x.spec.release ? releaseJobName(x, x.spec.release) : ""));
    expect(names[0] !== names[1]).toBe(renamed);
  });

  test("runs the command once with the app's image, env, scratch and pod security, restartPolicy Never", () => {
    const j = job({
      env: [
        { name: "LOG", value: "info" },
        { name: "MODE", value: "app" },
      ],
      release: {
        ...migrate,
        env: [{ name: "MODE", value: "release" }],
        activeDeadlineSeconds: 600,
      },
      scratch: [{ name: "tmp", mountPath: "/tmp", sizeLimit: "64Mi" }],
      pod: { securityContext: { runAsUser: 1000 }, serviceAccountName: "shop" },
    });
    expect(j.spec?.backoffLimit).toBe(0);
    expect(j.spec?.activeDeadlineSeconds).toBe(600);
    const pod = j.spec?.template.spec;
    expect(pod?.restartPolicy).toBe("Never");
    expect(pod?.serviceAccountName).toBe("shop");
    expect(pod?.automountServiceAccountToken).toBe(false);
    expect(pod?.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: "RuntimeDefault" },
    });
    const [c] = pod?.containers ?? [];
    expect(c?.name).toBe(RELEASE_CONTAINER);
    expect(c?.image).toBe("registry.example.com/shop:1.4.2");
    expect(c?.command).toEqual(["bin/migrate"]);
    expect(c?.args).toEqual(["--up"]);
    expect(c?.env?.slice(0, 2)).toEqual([
      { name: "LOG", value: "info" },
      { name: "MODE", value: "release" },
    ]);
    expect(c?.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(c?.volumeMounts?.map((m) => m.mountPath)).toEqual(["/tmp"]);
    expect(pod?.volumes?.[0]?.emptyDir?.sizeLimit).toBe("64Mi");
    expect(j.spec?.template.metadata?.annotations?.[BINDINGS_HASH_ANNOTATION]).toBeUndefined();
  });

  test("the pods carry no process type: no Service or PodDisruptionBudget selects them", () => {
    const labels = job().spec?.template.metadata?.labels ?? {};
    expect(labels["app.kubernetes.io/component"]).toBeUndefined();
    expect(labels["app.kubernetes.io/instance"]).toBe("shop");
  });

  test("mounts the bindings and config the Deployments mount", () => {
    const spec = {
      backingServices: [{ name: "db", type: "redis", secretRef: { name: "db-creds" } }],
      config: [{ name: "settings", mountPath: "/etc/shop", configMap: { name: "shop-config" } }],
      envFrom: [{ configMapRef: { name: "shop-env" } }],
    } as Parameters<typeof app>[0];
    const a = app({ release: migrate, ...spec });
    const proc = a.spec.processes[0];
    if (proc === undefined) throw new Error("no process");
    const deployment = renderDeployment(a, proc).spec?.template.spec;
    const pod = job(spec).spec?.template.spec;
    expect(pod?.volumes).toEqual(deployment?.volumes);
    expect(pod?.containers[0]?.volumeMounts).toEqual(deployment?.containers[0]?.volumeMounts);
    expect(pod?.containers[0]?.envFrom).toEqual(deployment?.containers[0]?.envFrom);
  });

  test("passes the processes rules", () => {
    expect(
      checkObject(job({ scratch: [{ name: "tmp", mountPath: "/tmp", sizeLimit: "64Mi" }] })),
    ).toEqual([]);
  });
});
