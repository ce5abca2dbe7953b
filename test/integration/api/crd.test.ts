// The generated CRD on a real kube-apiserver: accepted, every sample applies, malformed apps are rejected by field.
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { parseAllDocuments } from "yaml";
import { type KubeObject, requestJson } from "../../../src/runtime/index.ts";
import { createTestNamespace, printClusterLogsOnFailure } from "../../support/cluster.ts";
import { adminTransport, installCrd, objectPath } from "../../support/operator.ts";

printClusterLogsOnFailure();

const samples = resolve(import.meta.dirname, "../../../manifests/samples");
let ns: string;

beforeAll(async () => {
  await installCrd();
  ns = await createTestNamespace("crd");
});

/** Server-side applies `object` with dry-run and strict field validation; the API server's error message, or undefined. */
async function dryRun(object: KubeObject): Promise<string | undefined> {
  try {
    await requestJson(adminTransport(), {
      method: "PATCH",
      path: objectPath({
        kind: object.kind,
        metadata: { namespace: ns, name: object.metadata?.name },
      }),
      query: { fieldManager: "test", dryRun: "All", fieldValidation: "Strict", force: true },
      contentType: "application/apply-patch+yaml",
      body: JSON.stringify({ ...object, metadata: { ...object.metadata, namespace: ns } }),
    });
    return undefined;
  } catch (error) {
    return JSON.parse((error as { body: string }).body).message as string;
  }
}

const app = (spec: Record<string, unknown>, name = "shop"): KubeObject =>
  ({
    apiVersion: "twelvefactor.dev/v1alpha1",
    kind: "StatelessApp",
    metadata: { name },
    spec: { image: "registry.example.com/shop:1", processes: [{ name: "web" }], ...spec },
  }) as KubeObject;

describe("the StatelessApp CRD on a real API server", () => {
  test("every sample applies with server-side dry-run", async () => {
    const files = (await readdir(samples)).filter(
      (f) => f.endsWith(".yaml") && f !== "kustomization.yaml",
    );
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const file of files) {
      const docs = parseAllDocuments(await readFile(join(samples, file), "utf8"));
      if (!Array.isArray(docs)) throw new Error(`${file}: not a document stream`);
      for (const doc of docs) {
        const object = doc.toJS() as KubeObject;
        expect(
          await dryRun(object),
          `${file}: ${object.kind} ${object.metadata?.name}`,
        ).toBeUndefined();
      }
    }
  });

  test.each<[string, KubeObject, RegExp]>([
    [
      "a port above 65535",
      app({ processes: [{ name: "web", ports: [{ name: "http", containerPort: 70000 }] }] }),
      /spec\.processes\[0\]\.ports\[0\]\.containerPort/,
    ],
    [
      "replicas with autoscale",
      app({ processes: [{ name: "web", replicas: 2, autoscale: { maxReplicas: 3 } }] }),
      /replicas and autoscale are mutually exclusive/,
    ],
    [
      "minReplicas above maxReplicas",
      app({ processes: [{ name: "web", autoscale: { minReplicas: 5, maxReplicas: 3 } }] }),
      /minReplicas must be ≤ maxReplicas/,
    ],
    [
      "scratch without sizeLimit",
      app({ scratch: [{ name: "tmp", mountPath: "/tmp" }] }),
      /spec\.scratch\[0\]\.sizeLimit: Required value/,
    ],
    [
      "a zero sizeLimit",
      app({ scratch: [{ name: "tmp", mountPath: "/tmp", sizeLimit: "0" }] }),
      /sizeLimit must be greater than zero/,
    ],
    [
      "two scratch volumes on one path",
      app({
        scratch: [
          { name: "a", mountPath: "/tmp", sizeLimit: "1Mi" },
          { name: "b", mountPath: "/tmp", sizeLimit: "1Mi" },
        ],
      }),
      /mountPath must be unique/,
    ],
    [
      "a mountPath under /bindings",
      app({ scratch: [{ name: "a", mountPath: "/bindings/x", sizeLimit: "1Mi" }] }),
      /spec\.scratch: Invalid value: a scratch mountPath must not be the binding root/,
    ],
    [
      "both secretRef and service",
      app({
        backingServices: [
          {
            name: "s",
            type: "redis",
            secretRef: { name: "a" },
            service: { apiVersion: "x.example.com/v1", kind: "K", name: "n" },
          },
        ],
      }),
      /exactly one of secretRef or service/,
    ],
    [
      "a duplicate process name",
      app({ processes: [{ name: "web" }, { name: "web" }] }),
      /\.spec\.processes: duplicate entries for key \[name="web"\]/,
    ],
    [
      "a too short maxPodLifetime",
      app({ maxPodLifetime: "30s" }),
      /spec\.maxPodLifetime: Invalid value.*must be at least 1m/,
    ],
    [
      'a maxPodLifetime past Go\'s durations, with a message that helps (API was wrong: "type conversion error")',
      app({ maxPodLifetime: "2562048h" }),
      /spec\.maxPodLifetime: Invalid value.*must be a duration such as 24h, 90m or 1h30m \(each number at most 5 digits\)/,
    ],
    [
      'a probe port "" (API was wrong)',
      app({ processes: [{ name: "web", livenessProbe: { tcpSocket: { port: "" } } }] }),
      /spec\.processes\[0\]\.livenessProbe\.tcpSocket\.port: Invalid value: "": must be a port number/,
    ],
    [
      "a non-ASCII space in image (API was wrong)",
      app({ image: "shop\u00a0:1" }),
      /spec\.image: Invalid value: .*must be an image reference/,
    ],
    [
      "a quantity above 2^53-1 (API was wrong)",
      app({ processes: [{ name: "web", resources: { requests: { cpu: 2 ** 53 + 2 } } }] }),
      /spec\.processes\[0\]\.resources\.requests\.cpu: Invalid value: 9007199254740994: .*less than or equal to 9007199254740991/,
    ],
    [
      "a secretRef naming another namespace (API was wrong)",
      app({
        backingServices: [{ name: "c", type: "redis", secretRef: { name: "other-ns/redis" } }],
      }),
      /spec\.backingServices\[0\]\.secretRef\.name: Invalid value: "other-ns\/redis": must be a DNS subdomain/,
    ],
    [
      "a bound core Secret (API was wrong)",
      app({
        backingServices: [
          { name: "c", type: "redis", service: { apiVersion: "v1", kind: "Secret", name: "s" } },
        ],
      }),
      /service\.kind: Invalid value: service\.kind must not be Secret or ConfigMap.*service\.apiVersion: Invalid value: "v1": must be <group>\/<version>/,
    ],
    [
      "a memcached binding named redis beside the only redis binding (API was wrong)",
      app({
        backingServices: [
          { name: "redis", type: "memcached", secretRef: { name: "m" } },
          { name: "c", type: "redis", secretRef: { name: "r" } },
        ],
      }),
      /spec\.backingServices: Invalid value: a memcached binding named redis sets REDIS_URL/,
    ],
    [
      "SERVICE_BINDING_ROOT in env (API was wrong)",
      app({ env: [{ name: "SERVICE_BINDING_ROOT", value: "/tmp" }] }),
      /spec\.env\[0\]\.name: Invalid value: SERVICE_BINDING_ROOT is set by the operator/,
    ],
    ["an unknown field", app({ replica: 2 }), /\.spec\.replica: field not declared in schema/],
    [
      "an app name that cannot name a Service",
      app({}, "9shop"),
      /metadata\.name must be a DNS-1035 label/,
    ],
  ])("rejects %s, naming the field", async (_, object, message) => {
    expect(await dryRun(object)).toMatch(message);
  });
});
