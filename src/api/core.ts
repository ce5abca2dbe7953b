// The core/v1 shapes a StatelessApp embeds: EnvVar, Probe, ResourceRequirements (the fields it supports).
import { z } from "zod";
import { ENV_VAR_NAME, intOrString, quantity } from "./formats.ts";
import { withRules } from "./rules.ts";

const keySelector = (what: string) =>
  z.strictObject({
    name: z.string().min(1).max(253).describe(`Name of the ${what} in the app's namespace.`),
    key: z.string().min(1).max(253).describe(`The key of the ${what} to select.`),
    optional: z.boolean().optional().describe(`Whether the ${what} or its key may be missing.`),
  });

const envVarSource = withRules(
  z
    .strictObject({
      secretKeyRef: keySelector("Secret").optional().describe("Selects a key of a Secret."),
      configMapKeyRef: keySelector("ConfigMap")
        .optional()
        .describe("Selects a key of a ConfigMap."),
      fieldRef: z
        .strictObject({
          fieldPath: z
            .string()
            .min(1)
            .max(256)
            .describe("Path of the field to select, e.g. metadata.name."),
          apiVersion: z
            .string()
            .max(64)
            .optional()
            .describe("Version of the schema fieldPath is written in. @default v1"),
        })
        .optional()
        .describe("Selects a field of the pod."),
      resourceFieldRef: z
        .strictObject({
          resource: z.string().min(1).max(64).describe("Resource to select, e.g. limits.cpu."),
          containerName: z
            .string()
            .max(63)
            .optional()
            .describe("Container name; this process's container by default."),
          divisor: quantity("Output format of the exposed resources. @default 1").optional(),
        })
        .optional()
        .describe("Selects a resource of the container."),
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
    name: z
      .string()
      .min(1)
      .max(256)
      .regex(
        ENV_VAR_NAME,
        "must be a valid environment variable name: letters, digits, '_', '-' or '.', not starting with a digit",
      )
      .describe("Name of the environment variable."),
    value: z
      .string()
      .max(32768)
      .optional()
      .describe("A literal value. Never put a secret here: use valueFrom.secretKeyRef."),
    valueFrom: envVarSource.optional(),
  }),
  [
    {
      cel: "!(has(self.value) && has(self.valueFrom))",
      message: "value and valueFrom are mutually exclusive",
      find: (v) => (v.value !== undefined && v.valueFrom !== undefined ? ["valueFrom"] : undefined),
    },
  ],
).describe("An environment variable (core/v1 EnvVar).");

export const envList = (description: string) =>
  z
    .array(envVar)
    .max(256)
    .meta({
      description,
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["name"],
    });

const port = intOrString("Port number or name on the container.");

export const probe = withRules(
  z.strictObject({
    exec: z
      .strictObject({
        command: z
          .array(z.string().max(4096))
          .min(1)
          .max(64)
          .describe("Command run in the container; exit 0 is healthy."),
      })
      .optional()
      .describe("Runs a command in the container."),
    httpGet: z
      .strictObject({
        path: z.string().max(2048).optional().describe("Path to request. @default /"),
        port,
        host: z.string().max(253).optional().describe("Host to connect to. @default the pod IP"),
        scheme: z.enum(["HTTP", "HTTPS"]).optional().describe("Scheme to use. @default HTTP"),
        httpHeaders: z
          .array(
            z.strictObject({
              name: z.string().min(1).max(256).describe("Header name."),
              value: z.string().max(4096).describe("Header value."),
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
        port,
        host: z.string().max(253).optional().describe("Host to connect to. @default the pod IP"),
      })
      .optional()
      .describe("Opens a TCP connection."),
    grpc: z
      .strictObject({
        port: z.int().min(1).max(65535).describe("Port of the gRPC health service."),
        service: z
          .string()
          .max(253)
          .optional()
          .describe("Service name sent in the health check request."),
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
    successThreshold: z
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe("Consecutive successes to be healthy again. @default 1"),
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
      .describe("Grace period when a liveness or startup probe fails."),
  }),
  [
    {
      cel: "[has(self.exec), has(self.httpGet), has(self.tcpSocket), has(self.grpc)].filter(x, x).size() == 1",
      message: "exactly one of exec, httpGet, tcpSocket or grpc must be set",
      find: (v) =>
        [v.exec, v.httpGet, v.tcpSocket, v.grpc].filter((x) => x !== undefined).length === 1
          ? undefined
          : [],
    },
  ],
);

export const resourceRequirements = z
  .strictObject({
    requests: z
      .record(z.string().min(1).max(253), quantity("A quantity of the resource."))
      .optional()
      .describe("Resources the scheduler reserves, e.g. {cpu: 100m, memory: 128Mi}."),
    limits: z
      .record(z.string().min(1).max(253), quantity("A quantity of the resource."))
      .optional()
      .describe("The most the container may use, e.g. {memory: 256Mi}."),
  })
  .describe("Compute resources of each process (core/v1 ResourceRequirements).");

export type EnvVar = z.output<typeof envVar>;
export type Probe = z.output<typeof probe>;
export type ResourceRequirements = z.output<typeof resourceRequirements>;
