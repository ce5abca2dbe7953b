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
      { processes: [{ name: "web", readinessProbe: { httpGet: { path: "/", port: "http" } } }] },
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
      ["spec.image: must be an image reference without whitespace"],
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
      ["spec.scratch[0].mountPath: must be an absolute path without ':'"],
    ],
    [
      "mountPath /",
      { scratch: [{ name: "tmp", mountPath: "/", sizeLimit: "1Mi" }] },
      ["spec.scratch[0].mountPath: must be at least 2 characters"],
    ],
    [
      "a mountPath under the binding root",
      { scratch: [{ name: "tmp", mountPath: "/bindings/x", sizeLimit: "1Mi" }] },
      [
        "spec.scratch[0].mountPath: mountPath must not be /bindings or under it: bindings are mounted there",
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
      ["spec.scratch[0].sizeLimit: must be a Kubernetes quantity such as 128Mi or 1Gi"],
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
            service: { apiVersion: "v1", kind: "K", name: "n" },
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
      ["spec.maxPodLifetime: must be a duration such as 24h, 90m or 1h30m"],
    ],
    [
      "too short a pod lifetime",
      { maxPodLifetime: "30s" },
      ["spec.maxPodLifetime: must be at least 1m"],
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
