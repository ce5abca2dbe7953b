import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { formatProblem, parseStatelessApp } from "../../../src/api/index.ts";
import { rawApp, validApp } from "../../fixtures/apps.ts";

const problemsOf = (input: unknown): string[] => {
  const result = parseStatelessApp(input);
  return result.ok ? [] : result.error.map(formatProblem);
};

describe("parseStatelessApp accepts", () => {
  test.each<[string, Record<string, unknown>]>([
    ["the minimal app", {}],
    ["a process without replicas", { processes: [{ name: "web" }] }],
    ["zero replicas", { processes: [{ name: "web", replicas: 0 }] }],
    [
      "autoscale without minReplicas",
      { processes: [{ name: "web", autoscale: { maxReplicas: 3 } }] },
    ],
    [
      "ports with distinct container and service ports",
      {
        processes: [
          {
            name: "web",
            ports: [
              { name: "http", containerPort: 8080, servicePort: 80 },
              { name: "metrics", containerPort: 9090 },
            ],
          },
        ],
      },
    ],
    [
      "scratch in memory",
      { scratch: [{ name: "tmp", mountPath: "/tmp", sizeLimit: "64Mi", medium: "Memory" }] },
    ],
    ["a decimal quantity", { scratch: [{ name: "tmp", mountPath: "/tmp", sizeLimit: "0.5Gi" }] }],
    [
      "a Provisioned Service",
      {
        backingServices: [
          {
            name: "cache",
            type: "memcached",
            service: { apiVersion: "x.io/v1", kind: "Memcached", name: "c" },
          },
        ],
      },
    ],
    ["maxPodLifetime 1h30m", { maxPodLifetime: "1h30m" }],
    [
      "int and string quantities in resources",
      { processes: [{ name: "web", resources: { requests: { cpu: 1, memory: "128Mi" } } }] },
    ],
    [
      "an env var from a Secret",
      { env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] },
    ],
    [
      "a probe on a named port",
      {
        processes: [
          {
            name: "web",
            ports: [{ name: "http", containerPort: 8080 }],
            readinessProbe: { httpGet: { path: "/", port: "http" } },
          },
        ],
      },
    ],
  ])("%s", (_, spec) => {
    expect(problemsOf(rawApp(spec))).toEqual([]);
  });

  test("every generated valid app", () => {
    fc.assert(
      fc.property(validApp, (app) => {
        expect(problemsOf(app)).toEqual([]);
      }),
    );
  });
});

describe("parseStatelessApp rejects, naming the field", () => {
  test.each<[string, Record<string, unknown>, string[]]>([
    ["a missing image", { image: undefined }, ["spec.image: required"]],
    [
      "an image with spaces",
      { image: "a b" },
      [
        "spec.image: must be an image reference: letters, digits and . _ - : / @ + [ ], no whitespace",
      ],
    ],
    ["no processes", { processes: [] }, ["spec.processes: must have at least 1 items"]],
    [
      "a wrong type",
      { processes: [{ name: "web", replicas: "2" }] },
      ["spec.processes[0].replicas: must be a number (got string)"],
    ],
    [
      "a fractional count",
      { processes: [{ name: "web", replicas: 1.5 }] },
      ["spec.processes[0].replicas: must be an integer"],
    ],
    [
      "negative replicas",
      { processes: [{ name: "web", replicas: -1 }] },
      ["spec.processes[0].replicas: must be ≥ 0"],
    ],
    [
      "a process name that is not a DNS label",
      { processes: [{ name: "Web_1" }] },
      [
        "spec.processes[0].name: must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit",
      ],
    ],
    [
      "a port above 65535",
      {
        processes: [
          { name: "web" },
          { name: "api", ports: [{ name: "http", containerPort: 70000 }] },
        ],
      },
      ["spec.processes[1].ports[0].containerPort: must be ≤ 65535"],
    ],
    [
      "port 0",
      { processes: [{ name: "web", ports: [{ name: "http", containerPort: 0 }] }] },
      ["spec.processes[0].ports[0].containerPort: must be ≥ 1"],
    ],
    [
      "duplicate container ports",
      {
        processes: [
          {
            name: "web",
            ports: [
              { name: "a", containerPort: 80 },
              { name: "b", containerPort: 80, servicePort: 81 },
            ],
          },
        ],
      },
      ["spec.processes[0].ports[1].containerPort: containerPort must be unique within a process"],
    ],
    [
      "duplicate service ports",
      {
        processes: [
          {
            name: "web",
            ports: [
              { name: "a", containerPort: 80 },
              { name: "b", containerPort: 81, servicePort: 80 },
            ],
          },
        ],
      },
      ["spec.processes[0].ports[1].servicePort: servicePort must be unique within a process"],
    ],
    [
      "replicas with autoscale",
      { processes: [{ name: "web", replicas: 2, autoscale: { maxReplicas: 3 } }] },
      [
        "spec.processes[0].replicas: replicas and autoscale are mutually exclusive: the autoscaler owns the replica count",
      ],
    ],
    [
      "minReplicas above maxReplicas",
      { processes: [{ name: "web", autoscale: { minReplicas: 4, maxReplicas: 3 } }] },
      ["spec.processes[0].autoscale.minReplicas: minReplicas must be ≤ maxReplicas"],
    ],
    [
      "a relative mountPath",
      { scratch: [{ name: "tmp", mountPath: "tmp", sizeLimit: "1Mi" }] },
      [
        "spec.scratch[0].mountPath: must be a clean absolute path: no '.', '..' or empty segments, no trailing '/', no ':' or control characters",
      ],
    ],
    [
      "mountPath /",
      { scratch: [{ name: "tmp", mountPath: "/", sizeLimit: "1Mi" }] },
      [
        "spec.scratch[0].mountPath: must be a clean absolute path: no '.', '..' or empty segments, no trailing '/', no ':' or control characters",
      ],
    ],
    [
      "a mountPath under the binding root",
      { scratch: [{ name: "tmp", mountPath: "/bindings/x", sizeLimit: "1Mi" }] },
      [
        "spec.scratch[0].mountPath: a scratch mountPath must not be the binding root (spec.bindingRoot, /bindings by default), nor lie under it or contain it: the bindings are mounted there",
      ],
    ],
    [
      "two scratch volumes on one path",
      {
        scratch: [
          { name: "a", mountPath: "/tmp", sizeLimit: "1Mi" },
          { name: "b", mountPath: "/tmp", sizeLimit: "1Mi" },
        ],
      },
      [
        "spec.scratch[1].mountPath: mountPath must be unique: two scratch volumes cannot share a path",
      ],
    ],
    [
      "scratch without sizeLimit",
      { scratch: [{ name: "tmp", mountPath: "/tmp" }] },
      ["spec.scratch[0].sizeLimit: required"],
    ],
    [
      "an invalid quantity",
      { scratch: [{ name: "tmp", mountPath: "/tmp", sizeLimit: "lots" }] },
      [
        "spec.scratch[0].sizeLimit: must be a non-negative Kubernetes quantity such as 128Mi, 1G, 500m or 1e3",
      ],
    ],
    [
      "a zero sizeLimit",
      { scratch: [{ name: "tmp", mountPath: "/tmp", sizeLimit: "0Mi" }] },
      ["spec.scratch[0].sizeLimit: sizeLimit must be greater than zero"],
    ],
    [
      "an unknown medium",
      { scratch: [{ name: "tmp", mountPath: "/tmp", sizeLimit: "1Mi", medium: "HugePages" }] },
      ['spec.scratch[0].medium: must be one of "", "Memory"'],
    ],
    [
      "both secretRef and service",
      {
        backingServices: [
          {
            name: "s",
            type: "redis",
            secretRef: { name: "a" },
            service: { apiVersion: "x.io/v1", kind: "K", name: "n" },
          },
        ],
      },
      ["spec.backingServices[0]: exactly one of secretRef or service must be set"],
    ],
    [
      "neither secretRef nor service",
      { backingServices: [{ name: "s", type: "redis" }] },
      ["spec.backingServices[0]: exactly one of secretRef or service must be set"],
    ],
    [
      "an unknown backing service type",
      { backingServices: [{ name: "s", type: "mysql", secretRef: { name: "a" } }] },
      ['spec.backingServices[0].type: must be one of "redis", "memcached"'],
    ],
    [
      "a malformed duration",
      { maxPodLifetime: "1 day" },
      [
        "spec.maxPodLifetime: must be a duration such as 24h, 90m or 1h30m (each number at most 5 digits)",
      ],
    ],
    [
      "too short a pod lifetime",
      { maxPodLifetime: "30s" },
      ["spec.maxPodLifetime: must be at least 1m and at most 8760h"],
    ],
    ["an unknown field", { replica: 2 }, ["spec.replica: unknown field"]],
    [
      "an env var with value and valueFrom",
      { env: [{ name: "A", value: "x", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] },
      ["spec.env[0].valueFrom: value and valueFrom are mutually exclusive"],
    ],
    [
      "a probe without a handler",
      { processes: [{ name: "web", readinessProbe: { periodSeconds: 5 } }] },
      [
        "spec.processes[0].readinessProbe: exactly one of exec, httpGet, tcpSocket or grpc must be set",
      ],
    ],
    [
      "too many processes",
      { processes: Array.from({ length: 17 }, (_, i) => ({ name: `p${i}` })) },
      ["spec.processes: must have at most 16 items"],
    ],
  ])("%s", (_, spec, expected) => {
    expect(problemsOf(rawApp(spec))).toEqual(expected);
  });

  test("an app name that cannot name a Service", () => {
    expect(problemsOf({ ...rawApp(), metadata: { name: "1shop" } })).toEqual([
      "metadata.name: metadata.name must be a DNS-1035 label (lowercase letters, digits and '-', starting with a letter): it names Services",
    ]);
  });

  test("an app and process name too long together", () => {
    const input = {
      ...rawApp({ processes: [{ name: "p".repeat(30) }] }),
      metadata: { name: "a".repeat(33) },
    };
    expect(problemsOf(input)).toEqual([
      "spec.processes[0].name: metadata.name and a process name must together be at most 62 characters: <app>-<process> names the process type's Deployment and Service, at most 63",
    ]);
  });

  test("with spec.release, an app name that would make the release Job's name longer than 63", () => {
    const release = { command: ["bin/migrate"] };
    expect(problemsOf({ ...rawApp({ release }), metadata: { name: "a".repeat(44) } })).toEqual([]);
    expect(problemsOf({ ...rawApp({ release }), metadata: { name: "a".repeat(45) } })).toEqual([
      "metadata.name: metadata.name must be at most 44 characters with spec.release: its Job <app>-release-<10-character hash> is at most 63",
    ]);
    expect(problemsOf({ ...rawApp(), metadata: { name: "a".repeat(45) } })).toEqual([]);
  });

  test("spec.release: a command is required, the bounds are named", () => {
    expect(problemsOf(rawApp({ release: { command: [] } }))).toEqual([
      expect.stringMatching(/^spec\.release\.command: /),
    ]);
    expect(
      problemsOf(
        rawApp({ release: { command: ["x"], backoffLimit: 11, activeDeadlineSeconds: 0 } }),
      ),
    ).toEqual([
      expect.stringMatching(/^spec\.release\.activeDeadlineSeconds: /),
      expect.stringMatching(/^spec\.release\.backoffLimit: /),
    ]);
  });

  test("every problem at once", () => {
    const input = rawApp({ image: "", processes: [{ name: "web", replicas: -1 }], paused: "yes" });
    expect(problemsOf(input)).toEqual([
      "spec.image: must not be empty",
      "spec.processes[0].replicas: must be ≥ 0",
      "spec.paused: must be a boolean (got string)",
    ]);
  });

  test("a document that is not an object", () => {
    expect(problemsOf("text")).toEqual(["must be an object (got string)"]);
  });
});

/** An app with `spec` merged in and `meta` over its metadata. */
const doc = (spec: Record<string, unknown>, meta: Record<string, unknown> = {}) => {
  const base = rawApp(spec);
  return { ...base, metadata: { ...(base.metadata as object), ...meta } };
};
const web = (fields: Record<string, unknown>) => ({ processes: [{ name: "web", ...fields }] });
const env = (valueFrom: Record<string, unknown>) => ({ env: [{ name: "X", valueFrom }] });

describe("issue 20: the parser agrees with the API server (each test names the side that was wrong)", () => {
  test.each<[string, unknown, string]>([
    ["API was wrong: NBSP in image", rawApp({ image: "shop\u00a0:1" }), "spec.image"],
    ["API was wrong: U+3000 in image", rawApp({ image: "shop:1\u3000" }), "spec.image"],
    [
      "API was wrong: \\v in image (whitespace to JavaScript only)",
      rawApp({ image: "a\vb" }),
      "spec.image",
    ],
    [
      'API was wrong: probe port ""',
      rawApp(web({ livenessProbe: { tcpSocket: { port: "" } } })),
      "spec.processes[0].livenessProbe.tcpSocket.port",
    ],
    [
      "API was wrong: a quantity above 2^53-1",
      rawApp(web({ resources: { requests: { cpu: 2 ** 53 + 2 } } })),
      "spec.processes[0].resources.requests.cpu",
    ],
    [
      "API was wrong: a quantity over 64 characters",
      rawApp(web({ resources: { limits: { memory: `1${"0".repeat(64)}` } } })),
      "spec.processes[0].resources.limits.memory",
    ],
    [
      'API was wrong: a resource name ""',
      rawApp(web({ resources: { limits: { "": 1 } } })),
      "spec.processes[0].resources.limits.",
    ],
    [
      "API was wrong: sizeLimit 1e1.5",
      rawApp({ scratch: [{ name: "t", mountPath: "/tmp", sizeLimit: "1e1.5" }] }),
      "spec.scratch[0].sizeLimit",
    ],
    [
      "render was wrong: two processes named web",
      rawApp({ processes: [{ name: "web" }, { name: "web" }] }),
      "spec.processes[1].name",
    ],
    [
      "render was wrong: two ports named http",
      rawApp(
        web({
          ports: [
            { name: "http", containerPort: 1 },
            { name: "http", containerPort: 2 },
          ],
        }),
      ),
      "spec.processes[0].ports[1].name",
    ],
    [
      "render was wrong: two env vars named A",
      rawApp({ env: [{ name: "A" }, { name: "A" }] }),
      "spec.env[1].name",
    ],
    [
      "render was wrong: two scratch volumes named t",
      rawApp({
        scratch: [
          { name: "t", mountPath: "/a", sizeLimit: "1" },
          { name: "t", mountPath: "/b", sizeLimit: "1" },
        ],
      }),
      "spec.scratch[1].name",
    ],
    [
      "render was wrong: two bindings named c",
      rawApp({
        backingServices: [
          { name: "c", type: "redis", secretRef: { name: "a" } },
          { name: "c", type: "redis", secretRef: { name: "b" } },
        ],
      }),
      "spec.backingServices[1].name",
    ],
    [
      "render was wrong: maxPodLifetime past Go's duration",
      rawApp({ maxPodLifetime: "2562048h" }),
      "spec.maxPodLifetime",
    ],
    [
      "render was wrong: maxPodLifetime above a year",
      rawApp({ maxPodLifetime: "8761h" }),
      "spec.maxPodLifetime",
    ],
    ["render was wrong: an unknown root field", { ...rawApp(), extra: 1 }, "extra"],
    ["render was wrong: an unknown metadata field", doc({}, { nmae: "x" }), "metadata.nmae"],
    [
      "render was wrong: a label key that is no qualified name",
      doc({}, { labels: { "-x": "y" } }),
      "metadata.labels.-x",
    ],
    [
      "render was wrong: a label value that is no label value",
      doc({}, { labels: { x: "a b" } }),
      "metadata.labels.x",
    ],
    [
      "render was wrong: a generateName that is no DNS prefix",
      doc({}, { generateName: "Shop-" }),
      "metadata.generateName",
    ],
    [
      "children were refused: probe port 0",
      rawApp(web({ livenessProbe: { tcpSocket: { port: 0 } } })),
      "spec.processes[0].livenessProbe.tcpSocket.port",
    ],
    [
      "children were refused: probe port a--b",
      rawApp(web({ livenessProbe: { tcpSocket: { port: "a--b" } } })),
      "spec.processes[0].livenessProbe.tcpSocket.port",
    ],
    [
      "children were refused: a port named 80",
      rawApp(web({ ports: [{ name: "80", containerPort: 80 }] })),
      "spec.processes[0].ports[0].name",
    ],
    [
      "children were refused: liveness successThreshold 2",
      rawApp(web({ livenessProbe: { exec: { command: ["x"] }, successThreshold: 2 } })),
      "spec.processes[0].livenessProbe.successThreshold",
    ],
    [
      "children were refused: readiness terminationGracePeriodSeconds",
      rawApp(
        web({ readinessProbe: { exec: { command: ["x"] }, terminationGracePeriodSeconds: 5 } }),
      ),
      "spec.processes[0].readinessProbe.terminationGracePeriodSeconds",
    ],
    [
      "children were refused: a header name with a space",
      rawApp(
        web({
          readinessProbe: { httpGet: { port: 1, httpHeaders: [{ name: "X Y", value: "" }] } },
        }),
      ),
      "spec.processes[0].readinessProbe.httpGet.httpHeaders[0].name",
    ],
    [
      "children were refused: resource pods",
      rawApp(web({ resources: { limits: { pods: 1 } } })),
      "spec.processes[0].resources.limits.pods",
    ],
    [
      "children were refused: a request above its limit",
      rawApp(web({ resources: { requests: { cpu: "2" }, limits: { cpu: "1500m" } } })),
      "spec.processes[0].resources.requests.cpu",
    ],
    [
      "children were refused: a negative request",
      rawApp(web({ resources: { requests: { cpu: "-1" } } })),
      "spec.processes[0].resources.requests.cpu",
    ],
    [
      "children were refused: an extended resource without a limit",
      rawApp(web({ resources: { requests: { "example.com/gpu": 1 } } })),
      "spec.processes[0].resources.limits.example.com/gpu",
    ],
    [
      "children were refused: fieldRef spec.containers",
      rawApp(env({ fieldRef: { fieldPath: "spec.containers" } })),
      "spec.env[0].valueFrom.fieldRef.fieldPath",
    ],
    [
      "children were refused: fieldRef apiVersion v2",
      rawApp(env({ fieldRef: { fieldPath: "metadata.name", apiVersion: "v2" } })),
      "spec.env[0].valueFrom.fieldRef.apiVersion",
    ],
    [
      "children were refused: divisor 2",
      rawApp(env({ resourceFieldRef: { resource: "limits.memory", divisor: "2" } })),
      "spec.env[0].valueFrom.resourceFieldRef.divisor",
    ],
    [
      "children were refused: secretKeyRef name Bad_Name",
      rawApp(env({ secretKeyRef: { name: "Bad_Name", key: "k" } })),
      "spec.env[0].valueFrom.secretKeyRef.name",
    ],
    [
      "children were refused: secretKeyRef key ..",
      rawApp(env({ secretKeyRef: { name: "s", key: ".." } })),
      "spec.env[0].valueFrom.secretKeyRef.key",
    ],
    [
      "API was wrong: mountPath /./bindings",
      rawApp({ scratch: [{ name: "t", mountPath: "/./bindings", sizeLimit: "1" }] }),
      "spec.scratch[0].mountPath",
    ],
    [
      "API was wrong: mountPath /bindings/.",
      rawApp({ scratch: [{ name: "t", mountPath: "/bindings/.", sizeLimit: "1" }] }),
      "spec.scratch[0].mountPath",
    ],
    [
      "API was wrong: /tmp and /./tmp",
      rawApp({
        scratch: [
          { name: "a", mountPath: "/tmp", sizeLimit: "1" },
          { name: "b", mountPath: "/./tmp", sizeLimit: "1" },
        ],
      }),
      "spec.scratch[1].mountPath",
    ],
    [
      "API was wrong: secretRef other-ns/redis",
      rawApp({
        backingServices: [{ name: "c", type: "redis", secretRef: { name: "other-ns/redis" } }],
      }),
      "spec.backingServices[0].secretRef.name",
    ],
    [
      "API was wrong: a bound v1 Secret",
      rawApp({
        backingServices: [
          { name: "c", type: "redis", service: { apiVersion: "v1", kind: "Secret", name: "s" } },
        ],
      }),
      "spec.backingServices[0].service",
    ],
    [
      "API was wrong: a bound apps/v1 kind",
      rawApp({
        backingServices: [
          {
            name: "c",
            type: "redis",
            service: { apiVersion: "apps/v1", kind: "Deployment", name: "s" },
          },
        ],
      }),
      "spec.backingServices[0].service.apiVersion",
    ],
    [
      "API was wrong: a bound kind under k8s.io",
      rawApp({
        backingServices: [
          {
            name: "c",
            type: "redis",
            service: { apiVersion: "x.k8s.io/v1", kind: "X", name: "s" },
          },
        ],
      }),
      "spec.backingServices[0].service.apiVersion",
    ],
    [
      "API was wrong: apiVersion v1?x=",
      rawApp({
        backingServices: [
          { name: "c", type: "redis", service: { apiVersion: "v1?x=", kind: "X", name: "s" } },
        ],
      }),
      "spec.backingServices[0].service.apiVersion",
    ],
    [
      "API was wrong: a ConfigMap kind in any group",
      rawApp({
        backingServices: [
          {
            name: "c",
            type: "redis",
            service: { apiVersion: "x.io/v1", kind: "ConfigMap", name: "s" },
          },
        ],
      }),
      "spec.backingServices[0].service.kind",
    ],
    [
      "API was wrong: a memcached binding named redis beside the only redis binding",
      rawApp({
        backingServices: [
          { name: "redis", type: "memcached", secretRef: { name: "m" } },
          { name: "c", type: "redis", secretRef: { name: "r" } },
        ],
      }),
      "spec.backingServices[0].name",
    ],
    [
      "API was wrong: SERVICE_BINDING_ROOT in env",
      rawApp({ env: [{ name: "SERVICE_BINDING_ROOT", value: "/tmp" }] }),
      "spec.env[0].name",
    ],
    [
      "API was wrong: the binding root over a scratch mount",
      rawApp({
        bindingRoot: "/tmp",
        scratch: [{ name: "c", mountPath: "/tmp/c", sizeLimit: "1" }],
      }),
      "spec.scratch[0].mountPath",
    ],
    [
      "API was wrong: a probe naming no port of the process",
      rawApp(web({ readinessProbe: { httpGet: { port: "http" } } })),
      "spec.processes[0].readinessProbe.httpGet.port",
    ],
    [
      "API was wrong: containerName of another container",
      rawApp(
        web({
          env: [
            {
              name: "X",
              valueFrom: { resourceFieldRef: { resource: "limits.cpu", containerName: "worker" } },
            },
          ],
        }),
      ),
      "spec.processes[0].env[0].valueFrom.resourceFieldRef.containerName",
    ],
  ])("%s", (_, input, path) => {
    const problems = problemsOf(input);
    expect(problems.length, JSON.stringify(problems)).toBeGreaterThan(0);
    expect(
      problems.some((p) => p.startsWith(`${path}:`) || p.startsWith(path)),
      JSON.stringify(problems),
    ).toBe(true);
  });

  test.each<[string, unknown]>([
    [
      "render was wrong: sizeLimit 1e-400 is above zero",
      rawApp({ scratch: [{ name: "t", mountPath: "/tmp", sizeLimit: "1e-400" }] }),
    ],
    ["render was wrong: labels: null is no labels", doc({}, { labels: null })],
    ['render was wrong: namespace "" is the request\'s', doc({}, { namespace: "" })],
    [
      "render was wrong: an invalid status is dropped on create",
      { ...rawApp(), status: { conditions: "x" } },
    ],
    ["render was wrong: null fields are absent", rawApp({ paused: null })],
    [
      "render was wrong: a 64-emoji env value is 64 characters",
      rawApp({ env: [{ name: "A", value: "😀".repeat(32768) }] }),
    ],
    [
      "a request equal to its limit in other units",
      rawApp(web({ resources: { requests: { cpu: "1000m" }, limits: { cpu: 1 } } })),
    ],
    [
      "a redis binding named redis",
      rawApp({ backingServices: [{ name: "redis", type: "redis", secretRef: { name: "r" } }] }),
    ],
    [
      "a fieldRef to a label",
      rawApp(env({ fieldRef: { fieldPath: "metadata.labels['example.com/tier']" } })),
    ],
    [
      "bindings under spec.bindingRoot",
      rawApp({
        bindingRoot: "/platform/bindings",
        scratch: [{ name: "t", mountPath: "/tmp", sizeLimit: "1" }],
      }),
    ],
  ])("accepts: %s", (_, input) => {
    expect(problemsOf(input)).toEqual([]);
  });
});
