// The StatelessApp spec: the single source of truth for validation, types and the CRD schema.
import { z } from "zod";
import { parseQuantity } from "../lib/quantity.ts";
import { envList, probe, resourceRequirements } from "./core.ts";
import { DURATION, dnsLabel, parseDuration, QUANTITY } from "./formats.ts";
import { SERVICE_BINDING_ROOT } from "./group.ts";
import { firstDuplicate, withRules } from "./rules.ts";

const namedList = <T extends z.ZodType>(item: T, max: number, description: string) =>
  z
    .array(item)
    .max(max)
    .meta({ description, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] });

/** Pod volume names are `scratch-<name>` / `binding-<name>`, and must stay DNS labels (≤ 63). */
export const MAX_VOLUME_SUFFIX_LENGTH = 50;

/** Durations shorter than this would recycle pods faster than most apps start. */
export const MIN_POD_LIFETIME = "1m";

const port = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(15)
      .regex(
        /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
        "must be an IANA service name: lowercase letters, digits and '-'",
      )
      .describe("Name of the port (an IANA service name, at most 15 characters), e.g. http."),
    containerPort: z.int().min(1).max(65535).describe("Port the process listens on."),
    servicePort: z
      .int()
      .min(1)
      .max(65535)
      .optional()
      .describe("Port the Service exposes. @default containerPort"),
    protocol: z.enum(["TCP", "UDP", "SCTP"]).optional().describe("Protocol. @default TCP"),
  })
  .describe("A port the process listens on; any port gives the process a Service.");

const ports = withRules(
  namedList(
    port,
    16,
    "Ports the process listens on. A process with ports gets a ClusterIP Service.",
  ),
  [
    {
      cel: "self.all(p, self.filter(q, q.containerPort == p.containerPort).size() == 1)",
      message: "containerPort must be unique within a process",
      find: (v) => {
        const i = firstDuplicate(v, (p) => p.containerPort);
        return i === undefined ? undefined : [i, "containerPort"];
      },
    },
    {
      cel: "self.all(p, self.filter(q, (has(q.servicePort) ? q.servicePort : q.containerPort) == (has(p.servicePort) ? p.servicePort : p.containerPort)).size() == 1)",
      message: "servicePort must be unique within a process",
      find: (v) => {
        const i = firstDuplicate(v, (p) => p.servicePort ?? p.containerPort);
        return i === undefined ? undefined : [i, "servicePort"];
      },
    },
  ],
);

const autoscale = withRules(
  z.strictObject({
    minReplicas: z.int().min(1).max(1000).optional().describe("Fewest processes. @default 1"),
    maxReplicas: z.int().min(1).max(1000).describe("Most processes."),
    targetCPUUtilizationPercentage: z
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe(
        "Average CPU use, as a percentage of the CPU request, the autoscaler aims for. @default 80",
      ),
  }),
  [
    {
      cel: "!has(self.minReplicas) || self.minReplicas <= self.maxReplicas",
      message: "minReplicas must be ≤ maxReplicas",
      fieldPath: ".minReplicas",
      find: (v) => ((v.minReplicas ?? 1) <= v.maxReplicas ? undefined : ["minReplicas"]),
    },
  ],
).describe("A HorizontalPodAutoscaler owns the process count between minReplicas and maxReplicas.");

const process = withRules(
  z.strictObject({
    name: dnsLabel(
      "Process type, e.g. web or worker: names the Deployment <app>-<name> and the container.",
    ),
    command: z
      .array(z.string().max(4096))
      .max(64)
      .optional()
      .describe("Entrypoint. @default the image's ENTRYPOINT"),
    args: z
      .array(z.string().max(4096))
      .max(256)
      .optional()
      .describe("Arguments. @default the image's CMD"),
    replicas: z
      .int()
      .min(0)
      .max(1000)
      .optional()
      .describe("Number of processes. Leave out when autoscale is set. @default 1"),
    autoscale: autoscale.optional(),
    ports: ports.optional(),
    env: envList("Environment of this process type, after (and overriding) spec.env.").optional(),
    readinessProbe: probe
      .optional()
      .describe("When a process may receive traffic (core/v1 Probe)."),
    livenessProbe: probe.optional().describe("When a process must be restarted (core/v1 Probe)."),
    startupProbe: probe.optional().describe("When a process has started (core/v1 Probe)."),
    resources: resourceRequirements.optional(),
  }),
  [
    {
      cel: "!(has(self.replicas) && has(self.autoscale))",
      message:
        "replicas and autoscale are mutually exclusive: the autoscaler owns the replica count",
      fieldPath: ".replicas",
      find: (v) =>
        v.replicas !== undefined && v.autoscale !== undefined ? ["replicas"] : undefined,
    },
  ],
).describe(
  "A process type (one Procfile line): one Deployment of identical, disposable processes.",
);

const scratchVolume = withRules(
  z.strictObject({
    name: dnsLabel("Volume name (the pod volume is scratch-<name>).", MAX_VOLUME_SUFFIX_LENGTH),
    mountPath: z
      .string()
      .min(2)
      .max(1024)
      .regex(/^\/[^:]*$/, "must be an absolute path without ':'")
      .describe(
        "Where the scratch space is mounted, e.g. /tmp. Not /, not under the binding root.",
      ),
    sizeLimit: z
      .string()
      .max(64)
      .regex(QUANTITY, "must be a Kubernetes quantity such as 128Mi or 1Gi")
      .describe("Upper bound of the scratch space, e.g. 128Mi: the cache is bounded by design."),
    medium: z
      .enum(["", "Memory"])
      .optional()
      .describe(
        'Memory for a tmpfs (counts against the memory limit); "" for node disk. @default ""',
      ),
  }),
  [
    {
      cel: "size(self.mountPath) < 2 || !self.mountPath.endsWith('/') && !self.mountPath.contains('//') && !self.mountPath.contains('/../') && !self.mountPath.endsWith('/..')",
      message: "mountPath must be a clean path: no trailing '/', '//' or '..'",
      fieldPath: ".mountPath",
      find: (v) =>
        v.mountPath.length > 1 && /\/$|\/\/|\/\.\.(\/|$)/.test(v.mountPath)
          ? ["mountPath"]
          : undefined,
    },
    {
      cel: `self.mountPath != '${SERVICE_BINDING_ROOT}' && !self.mountPath.startsWith('${SERVICE_BINDING_ROOT}/')`,
      message: `mountPath must not be ${SERVICE_BINDING_ROOT} or under it: bindings are mounted there`,
      fieldPath: ".mountPath",
      find: (v) =>
        v.mountPath === SERVICE_BINDING_ROOT || v.mountPath.startsWith(`${SERVICE_BINDING_ROOT}/`)
          ? ["mountPath"]
          : undefined,
    },
    {
      cel: "!self.sizeLimit.matches('^[+]?[0.]*([eE].*|[numkMGTPE]i?)?$')",
      message: "sizeLimit must be greater than zero",
      fieldPath: ".sizeLimit",
      find: (v) =>
        !QUANTITY.test(v.sizeLimit) || (parseQuantity(v.sizeLimit) ?? 0) > 0
          ? undefined
          : ["sizeLimit"],
    },
    {
      cel: "!self.sizeLimit.startsWith('-')",
      message: "sizeLimit must not be negative",
      fieldPath: ".sizeLimit",
      find: (v) => (v.sizeLimit.startsWith("-") ? ["sizeLimit"] : undefined),
    },
  ],
).describe("A bounded emptyDir: the only writable place a process has, wiped when the pod goes.");

const backingService = withRules(
  z.strictObject({
    name: dnsLabel(
      "Binding name: files under $SERVICE_BINDING_ROOT/<name>/, env <NAME>_HOST, <NAME>_PORT, <NAME>_URL…",
      MAX_VOLUME_SUFFIX_LENGTH,
    ),
    type: z.enum(["redis", "memcached"]).describe("Kind of backing service."),
    secretRef: z
      .strictObject({ name: z.string().min(1).max(253).describe("Name of the Secret.") })
      .optional()
      .describe("A Secret in the app's namespace holding the connection entries."),
    service: z
      .strictObject({
        apiVersion: z
          .string()
          .min(1)
          .max(253)
          .describe("API version of the Provisioned Service, e.g. redis.example.com/v1."),
        kind: z.string().min(1).max(63).describe("Kind of the Provisioned Service."),
        name: z
          .string()
          .min(1)
          .max(253)
          .describe("Name of the Provisioned Service in the app's namespace."),
      })
      .optional()
      .describe(
        "A Provisioned Service (servicebinding.io): its status.binding.name names the Secret.",
      ),
  }),
  [
    {
      cel: "has(self.secretRef) != has(self.service)",
      message: "exactly one of secretRef or service must be set",
      find: (v) => ((v.secretRef === undefined) !== (v.service === undefined) ? undefined : []),
    },
  ],
).describe("A stateful backing service the processes reach over the network.");

export const statelessAppSpec = z
  .strictObject({
    image: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^\S*$/, "must be an image reference without whitespace")
      .describe(
        "Container image every process type runs, built with its assets, e.g. registry.example.com/shop:1.4.2.",
      ),
    env: envList("Environment shared by every process type (core/v1 EnvVar).").optional(),
    processes: namedList(process, 16, "Process types, Procfile style: at least one.").min(1),
    scratch: withRules(
      namedList(
        scratchVolume,
        8,
        "Scratch space: the only writable paths (the root filesystem is read-only).",
      ),
      [
        {
          cel: "self.all(s, self.filter(t, t.mountPath == s.mountPath).size() == 1)",
          message: "mountPath must be unique: two scratch volumes cannot share a path",
          find: (v) => {
            const i = firstDuplicate(v, (s) => s.mountPath);
            return i === undefined ? undefined : [i, "mountPath"];
          },
        },
      ],
    ).optional(),
    backingServices: namedList(
      backingService,
      16,
      "Backing services bound into every process.",
    ).optional(),
    maxPodLifetime: withRules(
      z
        .string()
        .max(64)
        .regex(DURATION, "must be a duration such as 24h, 90m or 1h30m")
        .describe(
          `Recycle pods older than this (at least ${MIN_POD_LIFETIME}), one at a time, to prove disposability.`,
        ),
      [
        {
          cel: `duration(self) >= duration('${MIN_POD_LIFETIME}')`,
          message: `must be at least ${MIN_POD_LIFETIME}`,
          find: (v) =>
            !DURATION.test(v) || parseDuration(v) >= parseDuration(MIN_POD_LIFETIME)
              ? undefined
              : [],
        },
      ],
    ).optional(),
    paused: z
      .boolean()
      .optional()
      .describe("Stop reconciling the children; status says so. @default false"),
  })
  .describe("Desired state of a StatelessApp.");

export type StatelessAppSpec = z.output<typeof statelessAppSpec>;
export type Process = StatelessAppSpec["processes"][number];
export type ProcessPort = NonNullable<Process["ports"]>[number];
export type Autoscale = NonNullable<Process["autoscale"]>;
export type ScratchVolume = NonNullable<StatelessAppSpec["scratch"]>[number];
export type BackingService = NonNullable<StatelessAppSpec["backingServices"]>[number];
