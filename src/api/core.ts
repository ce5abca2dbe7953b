// The core/v1 shapes a StatelessApp embeds: EnvVar, Probe, ResourceRequirements, as strict as core/v1 validates them.
import { z } from "zod";
import { compareQuantities } from "../lib/quantity.ts";
import {
  CONFIG_KEY,
  celString,
  DNS_LABEL,
  ENV_VAR_NAME,
  format,
  HTTP_HEADER_NAME,
  intOrString,
  objectName,
  PORT_NAME,
  QUALIFIED_NAME_SOURCE,
  quantity,
  text,
} from "./formats.ts";
import { SERVICE_BINDING_ROOT_ENV } from "./group.ts";
import { withRules, withUniqueKey } from "./rules.ts";

/** A list of named items: a list map keyed by `name` in the API server, unique names in zod. */
export const namedList = <T extends z.ZodType<{ name: string }>>(
  item: T,
  max: number,
  description: string,
) =>
  withUniqueKey(z.array(item).max(max), "name").meta({
    description,
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["name"],
  });

const keySelector = (what: string) =>
  z.strictObject({
    name: objectName(`Name of the ${what} in the app's namespace.`),
    key: text(`The key of the ${what} to select.`, { min: 1, max: 253, format: CONFIG_KEY }),
    optional: z.boolean().optional().describe(`Whether the ${what} or its key may be missing.`),
  });

/** The pod fields core/v1 lets an environment variable select. */
const FIELD_PATH = format(
  `^(metadata[.](name|namespace|uid)|spec[.](nodeName|serviceAccountName)|status[.](hostIP|hostIPs|podIP|podIPs)|metadata[.](labels|annotations)\\['${QUALIFIED_NAME_SOURCE}'\\])$`,
  "must be metadata.name, metadata.namespace, metadata.uid, spec.nodeName, spec.serviceAccountName, status.hostIP, status.hostIPs, status.podIP, status.podIPs, metadata.labels['<key>'] or metadata.annotations['<key>']",
);

const RESOURCE_FIELDS = [
  "limits.cpu",
  "limits.memory",
  "limits.ephemeral-storage",
  "requests.cpu",
  "requests.memory",
  "requests.ephemeral-storage",
] as const;
const CPU_DIVISORS = ["1m", "1"];
const BYTE_DIVISORS = [
  "1",
  "1k",
  "1M",
  "1G",
  "1T",
  "1P",
  "1E",
  "1Ki",
  "1Mi",
  "1Gi",
  "1Ti",
  "1Pi",
  "1Ei",
];

const celList = (items: readonly string[]) => `[${items.map((i) => `'${i}'`).join(", ")}]`;

const resourceFieldRef = withRules(
  z.strictObject({
    resource: z.enum(RESOURCE_FIELDS).describe("Resource to select, e.g. limits.cpu."),
    containerName: text(
      "Container name: the process's own (each process runs one container, named after it). @default this process's container",
      { min: 1, max: 63, format: DNS_LABEL },
    ).optional(),
    divisor: quantity(
      "Unit of the exposed value: 1m or 1 for cpu; 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi or 1Ei for memory and ephemeral-storage. @default 1",
    ).optional(),
  }),
  [
    {
      cel: `!has(self.divisor) || (type(self.divisor) == int ? self.divisor == 1 : self.divisor in (self.resource.endsWith('.cpu') ? ${celList(CPU_DIVISORS)} : ${celList(BYTE_DIVISORS)}))`,
      message:
        "divisor must be 1m or 1 for cpu, and 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi or 1Ei for memory and ephemeral-storage",
      fieldPath: ".divisor",
      find: (v) =>
        v.divisor === undefined ||
        (typeof v.divisor === "number"
          ? v.divisor === 1
          : (v.resource.endsWith(".cpu") ? CPU_DIVISORS : BYTE_DIVISORS).includes(v.divisor))
          ? undefined
          : ["divisor"],
    },
  ],
).describe("Selects a resource of the container.");

const envVarSource = withRules(
  z
    .strictObject({
      secretKeyRef: keySelector("Secret").optional().describe("Selects a key of a Secret."),
      configMapKeyRef: keySelector("ConfigMap")
        .optional()
        .describe("Selects a key of a ConfigMap."),
      fieldRef: z
        .strictObject({
          fieldPath: text("Path of the field to select, e.g. metadata.name.", {
            min: 1,
            max: 256,
            format: FIELD_PATH,
          }),
          apiVersion: z
            .literal("v1")
            .optional()
            .describe("Version of the schema fieldPath is written in: v1. @default v1"),
        })
        .optional()
        .describe("Selects a field of the pod."),
      resourceFieldRef: resourceFieldRef.optional(),
    })
    .describe("Source for the variable's value."),
  [
    {
      cel: "[has(self.secretKeyRef), has(self.configMapKeyRef), has(self.fieldRef), has(self.resourceFieldRef)].filter(x, x).size() == 1",
      message:
        "exactly one of secretKeyRef, configMapKeyRef, fieldRef or resourceFieldRef must be set",
      find: (v) =>
        [v.secretKeyRef, v.configMapKeyRef, v.fieldRef, v.resourceFieldRef].filter(
          (x) => x !== undefined,
        ).length === 1
          ? undefined
          : [],
    },
  ],
);

export const envVar = withRules(
  z.strictObject({
    name: text("Name of the environment variable.", { min: 1, max: 256, format: ENV_VAR_NAME }),
    value: text("A literal value. Never put a secret here: use valueFrom.secretKeyRef.", {
      max: 32768,
    }).optional(),
    valueFrom: envVarSource.optional(),
  }),
  [
    {
      cel: "!(has(self.value) && has(self.valueFrom))",
      message: "value and valueFrom are mutually exclusive",
      find: (v) => (v.value !== undefined && v.valueFrom !== undefined ? ["valueFrom"] : undefined),
    },
    {
      cel: `self.name != '${SERVICE_BINDING_ROOT_ENV}'`,
      message: `${SERVICE_BINDING_ROOT_ENV} is set by the operator: set spec.bindingRoot to mount the bindings elsewhere`,
      fieldPath: ".name",
      find: (v) => (v.name === SERVICE_BINDING_ROOT_ENV ? ["name"] : undefined),
    },
  ],
).describe("An environment variable (core/v1 EnvVar).");

/** @param max the most variables: the API server's CEL budget is shared by every item of every list. */
export const envList = (description: string, max: number) => namedList(envVar, max, description);

const probePort = (description: string) =>
  intOrString(description, {
    min: 1,
    max: 65535,
    maxLength: 15,
    format: PORT_NAME,
    message: `must be a port number (1–65535) or a port name: ${PORT_NAME.message}`,
  });

export type ProbeKind = "readiness" | "liveness" | "startup";

/**
 * A core/v1 Probe. Liveness and startup probes must have successThreshold 1; only they may set
 * terminationGracePeriodSeconds.
 */
export function probe(kind: ProbeKind) {
  const successThreshold =
    kind === "readiness"
      ? z
          .int()
          .min(1)
          .max(100)
          .optional()
          .describe("Consecutive successes to be healthy again. @default 1")
      : z
          .int()
          .min(1)
          .max(1)
          .optional()
          .describe(
            `Consecutive successes to be healthy again: always 1 for a ${kind} probe. @default 1`,
          );
  const schema = z.strictObject({
    exec: z
      .strictObject({
        command: z
          .array(text("An argument.", { max: 4096 }))
          .min(1)
          .max(64)
          .describe("Command run in the container; exit 0 is healthy."),
      })
      .optional()
      .describe("Runs a command in the container."),
    httpGet: z
      .strictObject({
        path: text("Path to request. @default /", { max: 2048 }).optional(),
        port: probePort("Port number or name on the container."),
        host: text("Host to connect to. @default the pod IP", { max: 253 }).optional(),
        scheme: z.enum(["HTTP", "HTTPS"]).optional().describe("Scheme to use. @default HTTP"),
        httpHeaders: z
          .array(
            z.strictObject({
              name: text("Header name.", { min: 1, max: 256, format: HTTP_HEADER_NAME }),
              value: text("Header value.", { max: 4096 }),
            }),
          )
          .max(16)
          .optional()
          .describe("Headers to send."),
      })
      .optional()
      .describe("Sends an HTTP GET; 2xx and 3xx are healthy."),
    tcpSocket: z
      .strictObject({
        port: probePort("Port number or name on the container."),
        host: text("Host to connect to. @default the pod IP", { max: 253 }).optional(),
      })
      .optional()
      .describe("Opens a TCP connection."),
    grpc: z
      .strictObject({
        port: z.int().min(1).max(65535).describe("Port of the gRPC health service."),
        service: text("Service name sent in the health check request.", { max: 253 }).optional(),
      })
      .optional()
      .describe("Calls the gRPC health checking protocol."),
    initialDelaySeconds: z
      .int()
      .min(0)
      .max(3600)
      .optional()
      .describe("Seconds after start before the first probe. @default 0"),
    timeoutSeconds: z
      .int()
      .min(1)
      .max(3600)
      .optional()
      .describe("Seconds before a probe times out. @default 1"),
    periodSeconds: z
      .int()
      .min(1)
      .max(3600)
      .optional()
      .describe("Seconds between probes. @default 10"),
    successThreshold,
    failureThreshold: z
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe("Consecutive failures to be unhealthy. @default 3"),
    terminationGracePeriodSeconds: z
      .int()
      .min(1)
      .max(86400)
      .optional()
      .describe(
        "Grace period when a liveness or startup probe fails; not allowed on a readiness probe.",
      ),
  });
  return withRules(schema, [
    {
      cel: "[has(self.exec), has(self.httpGet), has(self.tcpSocket), has(self.grpc)].filter(x, x).size() == 1",
      message: "exactly one of exec, httpGet, tcpSocket or grpc must be set",
      find: (v) =>
        [v.exec, v.httpGet, v.tcpSocket, v.grpc].filter((x) => x !== undefined).length === 1
          ? undefined
          : [],
    },
    ...(kind === "readiness"
      ? [
          {
            cel: "!has(self.terminationGracePeriodSeconds)",
            message: "terminationGracePeriodSeconds must not be set on a readiness probe",
            fieldPath: ".terminationGracePeriodSeconds",
            find: (v: z.output<typeof schema>) =>
              v.terminationGracePeriodSeconds === undefined
                ? undefined
                : ["terminationGracePeriodSeconds"],
          },
        ]
      : []),
  ]).describe(`When a process ${PROBE_PURPOSE[kind]} (core/v1 Probe).`);
}

const PROBE_PURPOSE: Record<ProbeKind, string> = {
  readiness: "may receive traffic",
  liveness: "must be restarted",
  startup: "has started",
};

/** The only resources a container may name without a domain. */
export const STANDARD_RESOURCES = ["cpu", "memory", "ephemeral-storage"] as const;

const EXTENDED_RESOURCE_SOURCE = `^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`;
const EXTENDED_RESOURCE = new RegExp(EXTENDED_RESOURCE_SOURCE);
const isExtended = (name: string) => name.includes("/");

/** Kubernetes' rules for a container resource name, as zod and as CEL over `k`. */
const resourceName = {
  test: (k: string) =>
    (STANDARD_RESOURCES as readonly string[]).includes(k) ||
    (EXTENDED_RESOURCE.test(k) &&
      !k.includes("kubernetes.io/") &&
      !k.startsWith("requests.") &&
      k.indexOf("/") <= 244),
  cel: (k: string) =>
    `(${k} in ${celList(STANDARD_RESOURCES)} || ${k}.matches(${celString(EXTENDED_RESOURCE_SOURCE)}) && !${k}.contains('kubernetes.io/') && !${k}.startsWith('requests.') && ${k}.indexOf('/') <= 244)`,
};

const WHOLE = /^[+]?[0-9]{1,15}$/;

const resourceList = (description: string) =>
  withRules(
    // A null value is pruned by the API server: absent, here too.
    z.record(z.string(), quantity("A quantity of the resource.").optional()).meta({
      description,
      maxProperties: 16,
    }),
    [
      {
        cel: `self.all(k, ${resourceName.cel("k")})`,
        message:
          "resource names must be cpu, memory, ephemeral-storage or an extended resource <domain>/<name> outside kubernetes.io",
        find: (v) => {
          const bad = Object.keys(v).find((k) => !resourceName.test(k));
          return bad === undefined ? undefined : [bad];
        },
      },
      {
        cel: `self.all(k, !k.contains('/') || type(self[k]) == int || self[k].matches(${celString(WHOLE.source)}))`,
        message: "an extended resource must be a whole number of at most 15 digits",
        find: (v) => {
          const bad = Object.entries(v).find(
            ([k, q]) => isExtended(k) && typeof q === "string" && !WHOLE.test(q),
          );
          return bad === undefined ? undefined : [bad[0]];
        },
      },
    ],
  );

const celQuantity = (e: string) => `quantity(string(${e}))`;
const celIsQuantity = (e: string) => `isQuantity(string(${e}))`;

export const resourceRequirements = withRules(
  z.strictObject({
    requests: resourceList(
      "Resources the scheduler reserves, e.g. {cpu: 100m, memory: 128Mi}.",
    ).optional(),
    limits: resourceList("The most the container may use, e.g. {memory: 256Mi}.").optional(),
  }),
  [
    {
      cel: `!has(self.requests) || !has(self.limits) || self.requests.all(k, !(k in self.limits) || !${celIsQuantity("self.requests[k]")} || !${celIsQuantity("self.limits[k]")} || ${celQuantity("self.requests[k]")}.compareTo(${celQuantity("self.limits[k]")}) <= 0)`,
      message: "a request must not be above the limit of the same resource",
      fieldPath: ".requests",
      find: (v) => {
        const over = Object.entries(v.requests ?? {}).find(([k, q]) => {
          const limit = v.limits?.[k];
          return q !== undefined && limit !== undefined && (compareQuantities(q, limit) ?? 0) > 0;
        });
        return over === undefined ? undefined : ["requests", over[0]];
      },
    },
    {
      cel: `!has(self.requests) || self.requests.all(k, !k.contains('/') || has(self.limits) && k in self.limits && (!${celIsQuantity("self.requests[k]")} || !${celIsQuantity("self.limits[k]")} || ${celQuantity("self.requests[k]")}.compareTo(${celQuantity("self.limits[k]")}) == 0))`,
      message: "an extended resource cannot be overcommitted: its request needs an equal limit",
      fieldPath: ".limits",
      find: (v) => {
        const bad = Object.entries(v.requests ?? {}).find(([k, q]) => {
          if (!isExtended(k) || q === undefined) return false;
          const limit = v.limits?.[k];
          return limit === undefined || (compareQuantities(q, limit) ?? 0) !== 0;
        });
        return bad === undefined ? undefined : ["limits", bad[0]];
      },
    },
  ],
).describe("Compute resources of each process (core/v1 ResourceRequirements).");

export type EnvVar = z.output<typeof envVar>;
export type Probe = z.output<ReturnType<typeof probe>>;
export type ResourceRequirements = z.output<typeof resourceRequirements>;
