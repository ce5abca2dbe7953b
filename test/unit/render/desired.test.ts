import type { KubernetesObject, V1Deployment, V1Secret, V1Service } from "@kubernetes/client-node";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { stringify } from "yaml";
import type { StatelessApp } from "../../../src/api/index.ts";
import { BINDINGS_HASH_ANNOTATION, desired } from "../../../src/app/render/index.ts";
import { app, validApp } from "../../fixtures/apps.ts";

const find = <T extends KubernetesObject>(
  objects: KubernetesObject[],
  kind: string,
  name: string,
): T => {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (found === undefined)
    throw new Error(
      `no ${kind} ${name} in ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(", ")}`,
    );
  return found as T;
};
const kinds = (objects: KubernetesObject[]) => objects.map((o) => `${o.kind}/${o.metadata?.name}`);
const podSpec = (d: V1Deployment) => {
  const spec = d.spec?.template.spec;
  if (spec === undefined) throw new Error("no pod spec");
  return spec;
};

describe("desired", () => {
  test.each<[string, Parameters<typeof app>[0], string[]]>([
    [
      "a worker: a Deployment only",
      { processes: [{ name: "worker", replicas: 1 }] },
      ["Deployment/shop-worker"],
    ],
    [
      "a web process with two replicas and a port: Deployment, Service, PDB",
      { processes: [{ name: "web", replicas: 2, ports: [{ name: "http", containerPort: 8080 }] }] },
      ["Deployment/shop-web", "Service/shop-web", "PodDisruptionBudget/shop-web"],
    ],
    [
      "an autoscaled process: Deployment, PDB (floor 2), HPA",
      { processes: [{ name: "web", autoscale: { minReplicas: 2, maxReplicas: 5 } }] },
      ["Deployment/shop-web", "PodDisruptionBudget/shop-web", "HorizontalPodAutoscaler/shop-web"],
    ],
    [
      "an autoscaled process with floor 1: no PDB",
      { processes: [{ name: "web", autoscale: { maxReplicas: 5 } }] },
      ["Deployment/shop-web", "HorizontalPodAutoscaler/shop-web"],
    ],
    [
      "two process types",
      {
        processes: [
          { name: "web", replicas: 1 },
          { name: "clock", replicas: 1 },
        ],
      },
      ["Deployment/shop-web", "Deployment/shop-clock"],
    ],
  ])("%s", (_, spec, expected) => {
    expect(kinds(desired(app(spec)).objects)).toEqual(expected);
  });

  test("leaves replicas out when the autoscaler owns them", () => {
    const d = find<V1Deployment>(
      desired(app({ processes: [{ name: "web", autoscale: { maxReplicas: 3 } }] })).objects,
      "Deployment",
      "shop-web",
    );
    expect(d.spec).not.toHaveProperty("replicas");
  });

  test("defaults replicas to 1 and rolls without taking a process away first", () => {
    const d = find<V1Deployment>(
      desired(app({ processes: [{ name: "web" }] })).objects,
      "Deployment",
      "shop-web",
    );
    expect(d.spec?.replicas).toBe(1);
    expect(d.spec?.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
  });

  test("makes the root filesystem read-only and the scratch space the only writable place", () => {
    const spec = app({
      scratch: [
        { name: "tmp", mountPath: "/tmp", sizeLimit: "64Mi" },
        { name: "cache", mountPath: "/var/cache/app", sizeLimit: "0.5Gi" },
        { name: "shm", mountPath: "/dev/shm", sizeLimit: "32Mi", medium: "Memory" },
      ],
    });
    const pod = podSpec(find<V1Deployment>(desired(spec).objects, "Deployment", "shop-web"));
    const [container] = pod.containers;
    expect(container?.securityContext).toEqual({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.volumes).toEqual([
      { name: "scratch-tmp", emptyDir: { sizeLimit: "64Mi" } },
      { name: "scratch-cache", emptyDir: { sizeLimit: "0.5Gi" } },
      { name: "scratch-shm", emptyDir: { medium: "Memory", sizeLimit: "32Mi" } },
    ]);
    expect(container?.volumeMounts).toEqual([
      { name: "scratch-tmp", mountPath: "/tmp" },
      { name: "scratch-cache", mountPath: "/var/cache/app" },
      { name: "scratch-shm", mountPath: "/dev/shm" },
    ]);
    // Disk scratch only (64Mi + 512Mi): memory-backed scratch counts against the memory limit.
    expect(container?.resources).toEqual({
      requests: { "ephemeral-storage": "576Mi" },
      limits: { "ephemeral-storage": "576Mi" },
    });
    expect(pod.hostNetwork ?? pod.hostPID ?? pod.hostIPC).toBeUndefined();
  });

  test("keeps the user's own ephemeral-storage figures", () => {
    const spec = app({
      processes: [
        { name: "web", resources: { limits: { "ephemeral-storage": "1Gi", memory: "256Mi" } } },
      ],
      scratch: [{ name: "tmp", mountPath: "/tmp", sizeLimit: "64Mi" }],
    });
    const [container] = podSpec(
      find<V1Deployment>(desired(spec).objects, "Deployment", "shop-web"),
    ).containers;
    expect(container?.resources).toEqual({
      requests: { "ephemeral-storage": "64Mi" },
      limits: { "ephemeral-storage": "1Gi", memory: "256Mi" },
    });
  });

  test("renders a ClusterIP Service without session affinity, targeting ports by name", () => {
    const spec = app({
      processes: [
        {
          name: "web",
          ports: [
            { name: "http", containerPort: 8080, servicePort: 80 },
            { name: "grpc", containerPort: 9000, protocol: "TCP" },
          ],
        },
      ],
    });
    const svc = find<V1Service>(desired(spec).objects, "Service", "shop-web");
    expect(svc.spec).toEqual({
      type: "ClusterIP",
      sessionAffinity: "None",
      selector: { "app.kubernetes.io/instance": "shop", "app.kubernetes.io/component": "web" },
      ports: [
        { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
        { name: "grpc", port: 9000, targetPort: "grpc", protocol: "TCP" },
      ],
    });
  });

  test("merges env: the process overrides the app, bindings come after, user names win", () => {
    const spec = app({
      env: [
        { name: "A", value: "app" },
        { name: "B", value: "app" },
        { name: "REDIS_URL", value: "redis://mine" },
      ],
      processes: [{ name: "web", env: [{ name: "B", value: "web" }] }],
      backingServices: [{ name: "sessions", type: "redis", secretRef: { name: "shop-redis" } }],
    });
    const result = desired(spec);
    const env =
      podSpec(find<V1Deployment>(result.objects, "Deployment", "shop-web")).containers[0]?.env ??
      [];
    expect(env.map((e) => e.name)).toEqual([
      "A",
      "B",
      "REDIS_URL",
      "SERVICE_BINDING_ROOT",
      "SESSIONS_HOST",
      "SESSIONS_PORT",
      "SESSIONS_URL",
      "SESSIONS_USERNAME",
      "SESSIONS_PASSWORD",
    ]);
    expect(env.find((e) => e.name === "B")?.value).toBe("web");
    expect(env.find((e) => e.name === "REDIS_URL")?.value).toBe("redis://mine");
    expect(result.warnings).toEqual([
      {
        reason: "BindingEnvShadowed",
        message: "env REDIS_URL is set in the spec, so the binding's value for it is not injected",
      },
    ]);
  });

  test("projects each binding as a read-only Secret volume and env read through secretKeyRef only", () => {
    const spec = app({
      backingServices: [
        { name: "sessions", type: "redis", secretRef: { name: "shop-redis" } },
        {
          name: "page-cache",
          type: "memcached",
          service: { apiVersion: "cache.example.com/v1", kind: "Memcached", name: "pc" },
        },
      ],
    });
    const pod = podSpec(find<V1Deployment>(desired(spec).objects, "Deployment", "shop-web"));
    expect(pod.volumes).toEqual([
      { name: "binding-sessions", secret: { secretName: "shop-binding-sessions" } },
      { name: "binding-page-cache", secret: { secretName: "shop-binding-page-cache" } },
    ]);
    const [container] = pod.containers;
    expect(container?.volumeMounts).toEqual([
      { name: "binding-sessions", mountPath: "/bindings/sessions", readOnly: true },
      { name: "binding-page-cache", mountPath: "/bindings/page-cache", readOnly: true },
    ]);
    const env = container?.env ?? [];
    expect(env.find((e) => e.name === "SERVICE_BINDING_ROOT")).toEqual({
      name: "SERVICE_BINDING_ROOT",
      value: "/bindings",
    });
    expect(env.find((e) => e.name === "PAGE_CACHE_SERVERS")?.valueFrom?.secretKeyRef).toEqual({
      name: "shop-binding-page-cache",
      key: "servers",
    });
    expect(env.find((e) => e.name === "REDIS_URL")?.valueFrom?.secretKeyRef).toEqual({
      name: "shop-binding-sessions",
      key: "uri",
    });
    expect(env.find((e) => e.name === "MEMCACHED_SERVERS")?.valueFrom?.secretKeyRef).toEqual({
      name: "shop-binding-page-cache",
      key: "servers",
    });
    for (const e of env.filter((x) => x.name !== "SERVICE_BINDING_ROOT"))
      expect(e.value, e.name).toBeUndefined();
  });

  test("gives no type alias when two bindings share a type", () => {
    const spec = app({
      backingServices: [
        { name: "a", type: "redis", secretRef: { name: "a" } },
        { name: "b", type: "redis", secretRef: { name: "b" } },
      ],
    });
    const env =
      podSpec(find<V1Deployment>(desired(spec).objects, "Deployment", "shop-web")).containers[0]
        ?.env ?? [];
    expect(env.map((e) => e.name)).not.toContain("REDIS_URL");
  });

  test("mounts bindings under spec.bindingRoot and tells the processes so in SERVICE_BINDING_ROOT", () => {
    const spec = app({
      bindingRoot: "/etc/bindings",
      backingServices: [{ name: "s", type: "redis", secretRef: { name: "a" } }],
    });
    const [container] = podSpec(
      find<V1Deployment>(desired(spec).objects, "Deployment", "shop-web"),
    ).containers;
    expect(container?.volumeMounts).toEqual([
      { name: "binding-s", mountPath: "/etc/bindings/s", readOnly: true },
    ]);
    expect(container?.env?.filter((e) => e.name === "SERVICE_BINDING_ROOT")).toEqual([
      { name: "SERVICE_BINDING_ROOT", value: "/etc/bindings" },
    ]);
  });

  test("render was wrong: a redis binding named redis set REDIS_URL twice (its own and the alias); now once", () => {
    const spec = app({
      backingServices: [{ name: "redis", type: "redis", secretRef: { name: "a" } }],
    });
    const [container] = podSpec(
      find<V1Deployment>(desired(spec).objects, "Deployment", "shop-web"),
    ).containers;
    const names = (container?.env ?? []).map((e) => e.name);
    expect(names.filter((n) => n === "REDIS_URL")).toEqual(["REDIS_URL"]);
    expect(new Set(names).size).toBe(names.length);
  });

  test.each<
    [
      string,
      Record<string, string> | undefined,
      Record<string, string> | undefined,
      { requests: string; limits: string },
    ]
  >([
    [
      "no user values: the scratch total both ways",
      undefined,
      undefined,
      { requests: "3Gi", limits: "3Gi" },
    ],
    [
      "a user limit below the scratch total caps our request",
      undefined,
      { "ephemeral-storage": "1Gi" },
      { requests: "1Gi", limits: "1Gi" },
    ],
    [
      "a user limit above it keeps our request at the total",
      undefined,
      { "ephemeral-storage": "8Gi" },
      { requests: "3Gi", limits: "8Gi" },
    ],
    [
      "a user request above the total raises our limit",
      { "ephemeral-storage": "5Gi" },
      undefined,
      { requests: "5Gi", limits: "5Gi" },
    ],
    [
      "a fractional user limit is kept exactly",
      undefined,
      { "ephemeral-storage": "1500m" },
      { requests: "1500m", limits: "1500m" },
    ],
  ])(
    "render was wrong: its own ephemeral-storage request went above the user's limit (%s)",
    (_, requests, limits, expected) => {
      const spec = app({
        scratch: [
          { name: "a", mountPath: "/tmp", sizeLimit: "1Gi" },
          { name: "b", mountPath: "/cache", sizeLimit: "2Gi" },
        ],
        processes: [
          {
            name: "web",
            resources: {
              ...(requests === undefined ? {} : { requests }),
              ...(limits === undefined ? {} : { limits }),
            },
          },
        ],
      });
      const [container] = podSpec(
        find<V1Deployment>(desired(spec).objects, "Deployment", "shop-web"),
      ).containers;
      expect({
        requests: container?.resources?.requests?.["ephemeral-storage"],
        limits: container?.resources?.limits?.["ephemeral-storage"],
      }).toEqual(expected);
    },
  );

  test("renders the normalized binding Secrets first and stamps the bindings hash on the pods", () => {
    const spec = app({
      backingServices: [{ name: "sessions", type: "redis", secretRef: { name: "shop-redis" } }],
    });
    const result = desired(spec, {
      bindings: {
        hash: "abc123",
        resolved: [
          {
            name: "sessions",
            type: "redis",
            entries: { type: "redis", host: "r", port: "6379", uri: "redis://r:6379" },
          },
        ],
      },
    });
    expect(result.objects[0]?.kind).toBe("Secret");
    const secret = find<V1Secret>(result.objects, "Secret", "shop-binding-sessions");
    expect(secret.type).toBe("servicebinding.io/redis");
    expect(Object.keys(secret.data ?? {})).toEqual(["host", "port", "type", "uri"]);
    expect(Buffer.from(secret.data?.uri ?? "", "base64").toString()).toBe("redis://r:6379");
    const d = find<V1Deployment>(result.objects, "Deployment", "shop-web");
    expect(d.spec?.template.metadata?.annotations).toEqual({
      [BINDINGS_HASH_ANNOTATION]: "abc123",
    });
  });

  test("leaves the owner reference out of an offline render of an app without a uid", () => {
    const [d] = desired(app({}, { uid: undefined })).objects;
    expect(d?.metadata?.ownerReferences).toBeUndefined();
  });
});

describe("desired, over generated valid apps", () => {
  const each = (check: (objects: KubernetesObject[], a: StatelessApp) => void) =>
    fc.assert(
      fc.property(validApp, (a) => {
        check(desired(a).objects, a);
      }),
    );

  test("never throws and renders one Deployment per process type", () => {
    each((objects, a) => {
      expect(objects.filter((o) => o.kind === "Deployment")).toHaveLength(a.spec.processes.length);
    });
  });

  test("every container has a read-only root filesystem and no privilege escalation", () => {
    each((objects) => {
      for (const d of objects.filter((o): o is V1Deployment => o.kind === "Deployment")) {
        for (const c of podSpec(d).containers) {
          expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
          expect(c.securityContext?.allowPrivilegeEscalation).toBe(false);
        }
      }
    });
  });

  test("every volume is a bounded emptyDir or a binding Secret, and every writable mount an emptyDir", () => {
    each((objects) => {
      for (const d of objects.filter((o): o is V1Deployment => o.kind === "Deployment")) {
        const pod = podSpec(d);
        const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
        for (const v of volumes.values()) {
          expect(Object.keys(v).sort()).toSatisfy(
            (keys: string[]) => keys.join() === "emptyDir,name" || keys.join() === "name,secret",
          );
          if (v.emptyDir !== undefined) expect(v.emptyDir.sizeLimit).toBeTruthy();
        }
        for (const c of pod.containers) {
          for (const m of c.volumeMounts ?? []) {
            if (m.readOnly !== true) expect(volumes.get(m.name)?.emptyDir).toBeDefined();
          }
        }
        expect(pod.hostNetwork ?? pod.hostPID ?? pod.hostIPC).toBeUndefined();
      }
    });
  });

  test("every Service has sessionAffinity None", () => {
    each((objects) => {
      for (const s of objects.filter((o): o is V1Service => o.kind === "Service"))
        expect(s.spec?.sessionAffinity).toBe("None");
    });
  });

  test("every object carries the owner reference and the labels", () => {
    each((objects, a) => {
      for (const o of objects) {
        expect(o.metadata?.ownerReferences).toEqual([
          {
            apiVersion: "twelvefactor.dev/v1alpha1",
            kind: "StatelessApp",
            name: a.metadata.name,
            uid: a.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ]);
        expect(o.metadata?.labels).toMatchObject({
          "app.kubernetes.io/name": a.metadata.name,
          "app.kubernetes.io/instance": a.metadata.name,
          "app.kubernetes.io/managed-by": "stateless-operator",
        });
      }
    });
  });

  test("rendering twice gives identical bytes", () => {
    fc.assert(
      fc.property(validApp, (a) => {
        expect(stringify(desired(structuredClone(a)).objects)).toBe(stringify(desired(a).objects));
      }),
    );
  });
});
