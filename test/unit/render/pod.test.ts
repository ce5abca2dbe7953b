import type { V1Deployment, V1PodSpec } from "@kubernetes/client-node";
import { describe, expect, test } from "vitest";
import {
  DEFAULT_PRESTOP_SLEEP_SECONDS,
  OPERATOR_LABELS,
  type PodSettings,
  parseStatelessApp,
} from "../../../src/api/index.ts";
import {
  BINDINGS_HASH_ANNOTATION,
  labelsFor,
  renderDeployment,
} from "../../../src/app/render/index.ts";
import { checkObject } from "../../../src/app/rules/index.ts";
import { app, rawApp } from "../../fixtures/apps.ts";

const web = (shared?: PodSettings, own?: PodSettings, extra: Record<string, unknown> = {}) => {
  const a = app({
    ...(shared === undefined ? {} : { pod: shared }),
    processes: [{ name: "web", replicas: 2, ...(own === undefined ? {} : { pod: own }), ...extra }],
  });
  const proc = a.spec.processes[0];
  if (proc === undefined) throw new Error("no process");
  return renderDeployment(a, proc, "h1");
};
const spec = (d: V1Deployment): V1PodSpec => {
  const s = d.spec?.template.spec;
  if (s === undefined) throw new Error("no pod spec");
  return s;
};
const ownPods = {
  matchLabels: { "app.kubernetes.io/instance": "shop", "app.kubernetes.io/component": "web" },
};

describe("pod settings", () => {
  test("every field of spec.pod lands in the pod template under its core/v1 name", () => {
    const d = web({
      metadata: { labels: { team: "a" }, annotations: { "prometheus.io/scrape": "true" } },
      imagePullSecrets: [{ name: "regcred" }],
      serviceAccountName: "shop",
      nodeSelector: { "kubernetes.io/os": "linux" },
      tolerations: [{ key: "dedicated", operator: "Equal", value: "shop", effect: "NoSchedule" }],
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { topologyKey: "topology.kubernetes.io/zone", labelSelector: ownPods },
          ],
        },
      },
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: "topology.kubernetes.io/zone",
          whenUnsatisfiable: "DoNotSchedule",
        },
      ],
      priorityClassName: "high",
      terminationGracePeriodSeconds: 45,
      securityContext: {
        runAsUser: 1000,
        runAsGroup: 1001,
        fsGroup: 2000,
        supplementalGroups: [3],
      },
    });
    expect(d.spec?.template.metadata).toEqual({
      labels: { team: "a", ...labelsFor(app(), "web") },
      annotations: { "prometheus.io/scrape": "true", [BINDINGS_HASH_ANNOTATION]: "h1" },
    });
    const { containers: _, ...rest } = spec(d);
    expect(rest).toEqual({
      serviceAccountName: "shop",
      automountServiceAccountToken: false,
      imagePullSecrets: [{ name: "regcred" }],
      nodeSelector: { "kubernetes.io/os": "linux" },
      tolerations: [{ key: "dedicated", operator: "Equal", value: "shop", effect: "NoSchedule" }],
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { topologyKey: "topology.kubernetes.io/zone", labelSelector: ownPods },
          ],
        },
      },
      // A constraint without a labelSelector counts this process type's pods.
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: "topology.kubernetes.io/zone",
          whenUnsatisfiable: "DoNotSchedule",
          labelSelector: ownPods,
        },
      ],
      priorityClassName: "high",
      terminationGracePeriodSeconds: 45,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1001,
        fsGroup: 2000,
        supplementalGroups: [3],
        seccompProfile: { type: "RuntimeDefault" },
      },
      enableServiceLinks: false,
    });
  });

  test.each<[string, PodSettings, PodSettings, Partial<V1PodSpec>]>([
    [
      "a scalar of the process replaces the app's",
      { priorityClassName: "low", serviceAccountName: "a" },
      { priorityClassName: "high" },
      { priorityClassName: "high", serviceAccountName: "a" },
    ],
    [
      "maps merge by key, the process's value winning",
      { nodeSelector: { a: "1", b: "1" } },
      { nodeSelector: { b: "2" } },
      { nodeSelector: { a: "1", b: "2" } },
    ],
    [
      "securityContext merges by field",
      { securityContext: { runAsUser: 1000, fsGroup: 2000 } },
      { securityContext: { runAsUser: 1001 } },
      {
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 1001,
          fsGroup: 2000,
          seccompProfile: { type: "RuntimeDefault" },
        },
      },
    ],
    [
      "lists replace: the process's tolerations, not both",
      { tolerations: [{ key: "a", operator: "Exists" }] },
      { tolerations: [{ key: "b", operator: "Exists" }] },
      { tolerations: [{ key: "b", operator: "Exists" }] },
    ],
    [
      "an empty list clears the app's",
      { imagePullSecrets: [{ name: "regcred" }] },
      { imagePullSecrets: [] },
      { imagePullSecrets: [] },
    ],
    [
      "affinity merges by kind",
      { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } } },
      { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } } },
      {
        affinity: {
          podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] },
          podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] },
        },
      },
    ],
    [
      "the token is mounted only when automountServiceAccountToken is true",
      { automountServiceAccountToken: true },
      {},
      { automountServiceAccountToken: true },
    ],
    [
      "runAsNonRoot stays true whatever the spec says",
      { securityContext: { runAsNonRoot: true } },
      {},
      { securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } } },
    ],
  ])("%s", (_, shared, own, expected) => {
    expect(spec(web(shared, own))).toMatchObject(expected);
  });

  test("pod labels and annotations merge by key; the operator's labels and hash are its own", () => {
    const d = web(
      { metadata: { labels: { team: "a", tier: "x" }, annotations: { a: "1" } } },
      { metadata: { labels: { tier: "front" } } },
    );
    expect(d.spec?.template.metadata?.labels).toEqual({
      team: "a",
      tier: "front",
      ...labelsFor(app(), "web"),
    });
    expect(d.spec?.template.metadata?.annotations).toEqual({
      a: "1",
      [BINDINGS_HASH_ANNOTATION]: "h1",
    });
    expect(d.metadata?.labels).toEqual(labelsFor(app(), "web"));
  });

  describe("the default spread", () => {
    const hostname = {
      maxSkew: 1,
      topologyKey: "kubernetes.io/hostname",
      whenUnsatisfiable: "ScheduleAnyway",
      labelSelector: ownPods,
    };
    test.each<[string, Record<string, unknown>, PodSettings | undefined, unknown]>([
      ["two replicas: across nodes", { replicas: 2 }, undefined, [hostname]],
      ["one replica: none", { replicas: 1 }, undefined, undefined],
      ["no replicas given (one): none", { replicas: undefined }, undefined, undefined],
      [
        "an autoscaler that may add a pod",
        { replicas: undefined, autoscale: { maxReplicas: 3 } },
        undefined,
        [hostname],
      ],
      [
        "an autoscaler pinned at one",
        { replicas: undefined, autoscale: { maxReplicas: 1 } },
        undefined,
        undefined,
      ],
      ["the user's [] opts out", { replicas: 3 }, { topologySpreadConstraints: [] }, undefined],
    ])("%s", (_, extra, own, expected) => {
      expect(spec(web(undefined, own, extra)).topologySpreadConstraints).toEqual(expected);
    });
  });
});

describe("pod settings the API refuses, naming the field", () => {
  const problems = (pod: unknown, where: "app" | "process" = "app") =>
    parseStatelessApp(
      where === "app"
        ? rawApp({ pod })
        : rawApp({ processes: [{ name: "web", replicas: 2, pod }] }),
    );
  test.each<[string, unknown, string, string]>([
    [
      "runAsUser 0",
      { securityContext: { runAsUser: 0 } },
      "spec.pod.securityContext.runAsUser",
      "never run as root",
    ],
    [
      "runAsNonRoot false",
      { securityContext: { runAsNonRoot: false } },
      "spec.pod.securityContext.runAsNonRoot",
      "never run as root",
    ],
    ...OPERATOR_LABELS.map((k): [string, unknown, string, string] => [
      `the operator's label ${k}`,
      { metadata: { labels: { [k]: "x" } } },
      `spec.pod.metadata.labels.${k}`,
      "operator's own keys",
    ]),
    [
      "the bindings-hash annotation",
      { metadata: { annotations: { [BINDINGS_HASH_ANNOTATION]: "x" } } },
      `spec.pod.metadata.annotations.${BINDINGS_HASH_ANNOTATION}`,
      "operator's own keys",
    ],
    ["a volume", { volumes: [{ name: "v", emptyDir: {} }] }, "spec.pod.volumes", "unknown field"],
    ["hostNetwork", { hostNetwork: true }, "spec.pod.hostNetwork", "unknown field"],
    [
      "privileged",
      { securityContext: { privileged: true } },
      "spec.pod.securityContext.privileged",
      "unknown field",
    ],
    [
      "a system- PriorityClass",
      { priorityClassName: "system-cluster-critical" },
      "spec.pod.priorityClassName",
      "system-",
    ],
    [
      "a pod affinity across namespaces",
      {
        affinity: {
          podAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { topologyKey: "k", namespaceSelector: {} },
            ],
          },
        },
      },
      "spec.pod.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].namespaceSelector",
      "unknown field",
    ],
  ])("%s", (_, pod, path, message) => {
    const parsed = problems(pod);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(
      parsed.error.find((p) => p.path === path)?.message ?? JSON.stringify(parsed.error),
    ).toContain(message);
  });

  test("per process too", () => {
    const parsed = problems({ securityContext: { runAsUser: 0 } }, "process");
    expect(parsed.ok ? [] : parsed.error.map((p) => p.path)).toEqual([
      "spec.processes[0].pod.securityContext.runAsUser",
    ]);
  });
});

describe("lifecycle.preStop", () => {
  const http = [{ name: "http", containerPort: 8080 }];
  const container = (extra: Record<string, unknown>, shared?: PodSettings) =>
    spec(web(shared, undefined, extra)).containers[0];
  test.each<[string, Record<string, unknown>, PodSettings | undefined, unknown]>([
    [
      "a process with ports sleeps 5 s by default",
      { ports: http },
      undefined,
      { preStop: { sleep: { seconds: DEFAULT_PRESTOP_SLEEP_SECONDS } } },
    ],
    [
      "never longer than the grace period",
      { ports: http },
      { terminationGracePeriodSeconds: 2 },
      { preStop: { sleep: { seconds: 2 } } },
    ],
    ["a process without ports has none", {}, undefined, undefined],
    [
      "the user's hook replaces the default",
      { ports: http, lifecycle: { preStop: { httpGet: { path: "/drain", port: "http" } } } },
      undefined,
      { preStop: { httpGet: { path: "/drain", port: "http" } } },
    ],
    [
      "exec",
      { lifecycle: { preStop: { exec: { command: ["/app/drain"] } } } },
      undefined,
      { preStop: { exec: { command: ["/app/drain"] } } },
    ],
    [
      "sleep",
      { lifecycle: { preStop: { sleep: { seconds: 10 } } } },
      undefined,
      { preStop: { sleep: { seconds: 10 } } },
    ],
  ])("%s", (_, extra, shared, expected) => {
    expect(container(extra, shared)?.lifecycle).toEqual(expected);
  });

  test("a sleep longer than the grace period is refused, naming the field", () => {
    const parsed = parseStatelessApp(
      rawApp({
        pod: { terminationGracePeriodSeconds: 10 },
        processes: [{ name: "web", lifecycle: { preStop: { sleep: { seconds: 11 } } } }],
      }),
    );
    expect(parsed.ok ? [] : parsed.error.map((p) => p.path)).toEqual([
      "spec.processes[0].lifecycle.preStop.sleep.seconds",
    ]);
  });
});

describe("envFrom and config", () => {
  const render = (spec: Record<string, unknown>, proc: Record<string, unknown> = {}) => {
    const parsed = parseStatelessApp(rawApp({ ...spec, processes: [{ name: "web", ...proc }] }));
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
    const p = parsed.value.spec.processes[0];
    if (p === undefined) throw new Error("no process");
    return spec_(renderDeployment(parsed.value, p));
  };
  const spec_ = spec;

  test("the app's envFrom, then the process's, prefix kept", () => {
    const pod = render(
      {
        envFrom: [
          { configMapRef: { name: "shared" } },
          { secretRef: { name: "s", optional: true }, prefix: "S_" },
        ],
      },
      { envFrom: [{ configMapRef: { name: "web" }, prefix: "WEB_" }] },
    );
    expect(pod.containers[0]?.envFrom).toEqual([
      { configMapRef: { name: "shared" } },
      { prefix: "S_", secretRef: { name: "s", optional: true } },
      { prefix: "WEB_", configMapRef: { name: "web" } },
    ]);
  });

  test("config volumes are mounted read-only, with their items", () => {
    const pod = render({
      config: [
        { name: "app", mountPath: "/etc/shop", configMap: { name: "files" } },
        {
          name: "tls",
          mountPath: "/etc/tls",
          secret: { name: "tls", items: [{ key: "tls.crt", path: "certs/tls.crt" }] },
        },
      ],
    });
    expect(pod.volumes).toEqual([
      { name: "config-app", configMap: { name: "files" } },
      {
        name: "config-tls",
        secret: { secretName: "tls", items: [{ key: "tls.crt", path: "certs/tls.crt" }] },
      },
    ]);
    expect(pod.containers[0]?.volumeMounts).toEqual([
      { name: "config-app", mountPath: "/etc/shop", readOnly: true },
      { name: "config-tls", mountPath: "/etc/tls", readOnly: true },
    ]);
    // The processes rule the admission policies and audit enforce holds.
    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      spec: { template: { spec: pod } },
    };
    expect(checkObject(deployment)).toEqual([]);
  });

  test.each<[string, Record<string, unknown>, string]>([
    [
      "config under config",
      {
        config: [
          { name: "a", mountPath: "/etc/a", configMap: { name: "a" } },
          { name: "b", mountPath: "/etc/a/b", configMap: { name: "b" } },
        ],
      },
      "spec.config[1].mountPath",
    ],
    [
      "scratch under config",
      {
        config: [{ name: "a", mountPath: "/etc/a", configMap: { name: "a" } }],
        scratch: [{ name: "t", mountPath: "/etc/a/t", sizeLimit: "1Mi" }],
      },
      "spec.config[0].mountPath",
    ],
    [
      "config in the binding root",
      { config: [{ name: "a", mountPath: "/bindings", configMap: { name: "a" } }] },
      "spec.config[0].mountPath",
    ],
    [
      "an item escaping the mount",
      {
        config: [
          {
            name: "a",
            mountPath: "/etc/a",
            secret: { name: "a", items: [{ key: "k", path: "../x" }] },
          },
        ],
      },
      "spec.config[0].secret.items[0].path",
    ],
  ])("refused: %s, naming the field", (_, spec, path) => {
    const parsed = parseStatelessApp(rawApp(spec));
    expect(parsed.ok ? [] : parsed.error.map((p) => p.path)).toContain(path);
  });
});
