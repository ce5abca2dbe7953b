// The StatelessApp spec: the single source of truth for validation, types and the CRD schema.
import { z } from "zod";
import { aliasConflicts, BINDING_TYPES, TYPE_ALIAS } from "./binding-env.ts";
import {
  DEFAULT_PRESTOP_SLEEP_SECONDS,
  envList,
  lifecycle,
  namedList,
  probe,
  resourceRequirements,
} from "./core.ts";
import {
  CLEAN_PATH,
  CONFIG_KEY,
  celMatches,
  codePoints,
  DURATION,
  dnsLabel,
  durationNanos,
  ENV_VAR_NAME,
  GROUP_VERSION,
  IMAGE,
  KIND_NAME,
  objectName,
  PORT_NAME,
  POSITIVE_QUANTITY,
  QUANTITY,
  RELATIVE_PATH,
  text,
} from "./formats.ts";
import { FORBIDDEN_BOUND_KINDS, SERVICE_BINDING_ROOT, SERVICE_BINDING_ROOT_ENV } from "./group.ts";
import { podSettings } from "./pod.ts";
import { type CrossFieldRule, uniqueRule, withRules } from "./rules.ts";

/** Pod volume names are `scratch-<name>` / `binding-<name>`, and must stay DNS labels (≤ 63). */
export const MAX_VOLUME_SUFFIX_LENGTH = 50;

/** Per-process env on top of the 256 of spec.env: with 16 processes, the most the CEL budget affords. */
export const MAX_PROCESS_ENV = 64;

/** Durations shorter than this would recycle pods faster than most apps start. */
export const MIN_POD_LIFETIME = "1m";
/** A year: longer is no recycling at all. */
export const MAX_POD_LIFETIME = "8760h";

const port = z
  .strictObject({
    name: text(
      "Name of the port (an IANA service name, at most 15 characters), e.g. http. Probes may name it.",
      { min: 1, max: 15, format: PORT_NAME },
    ),
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

type Port = z.output<typeof port>;

const ports = withRules(
  namedList(
    port,
    16,
    "Ports the process listens on. A process with ports gets a ClusterIP Service.",
  ),
  [
    uniqueRule<Port>(
      "containerPort",
      "containerPort must be unique within a process",
      (p) => p.containerPort,
    ),
    uniqueRule<Port>(
      "servicePort",
      "servicePort must be unique within a process",
      (p) => p.servicePort ?? p.containerPort,
      (x) => `(has(${x}.servicePort) ? ${x}.servicePort : ${x}.containerPort)`,
    ),
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

const objectRef = (what: string) =>
  z
    .strictObject({
      name: objectName(`Name of the ${what} in the app's namespace.`),
      optional: z
        .boolean()
        .optional()
        .describe(`Start without the ${what} when it does not exist. @default false`),
    })
    .describe(`A ${what} in the app's namespace.`);

const envFromSource = withRules(
  z.strictObject({
    configMapRef: objectRef("ConfigMap").optional(),
    secretRef: objectRef("Secret").optional(),
    prefix: text("Put before every key's name, e.g. SHOP_.", {
      min: 1,
      max: 64,
      format: ENV_VAR_NAME,
    }).optional(),
  }),
  [
    {
      cel: "has(self.configMapRef) != has(self.secretRef)",
      message: "exactly one of configMapRef or secretRef must be set",
      find: (v) =>
        (v.configMapRef === undefined) !== (v.secretRef === undefined) ? undefined : [],
    },
  ],
).describe("Every key of a ConfigMap or Secret as environment variables (core/v1 EnvFromSource).");

/** @param where whose env the sources come before */
const envFrom = (where: string) =>
  z
    .array(envFromSource)
    .max(8)
    .describe(
      `ConfigMaps and Secrets whose keys become environment variables, ${where}; a later source wins, env wins over all.`,
    );

const configFiles = (what: string) =>
  z
    .strictObject({
      name: objectName(`Name of the ${what} in the app's namespace.`),
      items: z
        .array(
          z.strictObject({
            key: text(`Key of the ${what}.`, { min: 1, max: 253, format: CONFIG_KEY }),
            path: text("File it becomes, relative to mountPath, e.g. app.yaml.", {
              min: 1,
              max: 1024,
              format: RELATIVE_PATH,
            }),
          }),
        )
        .max(32)
        .optional()
        .describe(
          "Only these keys, as these files. @default every key, each a file named after it",
        ),
    })
    .describe(`A ${what} whose keys are files.`);

const configVolume = withRules(
  z.strictObject({
    name: dnsLabel("Volume name (the pod volume is config-<name>).", MAX_VOLUME_SUFFIX_LENGTH),
    mountPath: text(
      "Where the files are, read-only: a clean absolute path, not /, overlapping no other config, scratch or the binding root.",
      { min: 1, max: 1024, format: CLEAN_PATH },
    ),
    configMap: configFiles("ConfigMap").optional(),
    secret: configFiles("Secret").optional(),
  }),
  [
    {
      cel: "has(self.configMap) != has(self.secret)",
      message: "exactly one of configMap or secret must be set",
      find: (v) => ((v.configMap === undefined) !== (v.secret === undefined) ? undefined : []),
    },
  ],
).describe("Config files from a ConfigMap or Secret, mounted read-only: config, not state.");

type ConfigFields = z.output<typeof configVolume>;

const PROBES = ["readinessProbe", "livenessProbe", "startupProbe"] as const;
const PORT_HANDLERS = ["httpGet", "tcpSocket"] as const;

const processFields = z.strictObject({
  name: dnsLabel(
    "Process type, e.g. web or worker: names the Deployment <app>-<name> and the container.",
  ),
  command: z
    .array(text("An argument.", { max: 4096 }))
    .max(64)
    .optional()
    .describe("Entrypoint. @default the image's ENTRYPOINT"),
  args: z
    .array(text("An argument.", { max: 4096 }))
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
  env: envList(
    "Environment of this process type, after (and overriding) spec.env.",
    MAX_PROCESS_ENV,
  ).optional(),
  envFrom: envFrom("after spec.envFrom").optional(),
  readinessProbe: probe("readiness").optional(),
  livenessProbe: probe("liveness").optional(),
  startupProbe: probe("startup").optional(),
  resources: resourceRequirements.optional(),
  lifecycle: lifecycle.optional(),
  pod: podSettings
    .optional()
    .describe(
      "Pod settings of this process type, over spec.pod: each field replaces it (in maps, each key).",
    ),
});
type ProcessFields = z.output<typeof processFields>;

/** A probe that names a port must name one of the process's ports (core/v1 does not check it). */
const namedProbePorts: CrossFieldRule<ProcessFields>[] = PROBES.map((probeName) => ({
  cel: PORT_HANDLERS.map(
    (h) =>
      `(!has(self.${probeName}) || !has(self.${probeName}.${h}) || type(self.${probeName}.${h}.port) == int || has(self.ports) && self.ports.exists(p, p.name == self.${probeName}.${h}.port))`,
  ).join(" && "),
  message: `${probeName} names a port the process does not have: a port name must be one of ports[].name`,
  fieldPath: `.${probeName}`,
  find: (v) => {
    const p = v[probeName];
    for (const h of PORT_HANDLERS) {
      const target = p?.[h]?.port;
      if (typeof target === "string" && !(v.ports ?? []).some((x) => x.name === target))
        return [probeName, h, "port"];
    }
    return undefined;
  },
}));

/** An env var's resourceFieldRef.containerName, when set. */
const containerNameOf = (e: { valueFrom?: { resourceFieldRef?: { containerName?: string } } }) =>
  e.valueFrom?.resourceFieldRef?.containerName;
const CEL_CONTAINER_NAME_UNSET =
  "!has(e.valueFrom) || !has(e.valueFrom.resourceFieldRef) || !has(e.valueFrom.resourceFieldRef.containerName)";

/** A preStop httpGet that names a port must name one of the process's ports. */
const namedPreStopPort: CrossFieldRule<ProcessFields> = {
  cel: "!has(self.lifecycle) || !has(self.lifecycle.preStop) || !has(self.lifecycle.preStop.httpGet) || type(self.lifecycle.preStop.httpGet.port) == int || has(self.ports) && self.ports.exists(p, p.name == self.lifecycle.preStop.httpGet.port)",
  message:
    "lifecycle.preStop.httpGet names a port the process does not have: a port name must be one of ports[].name",
  fieldPath: ".lifecycle.preStop.httpGet.port",
  find: (v) => {
    const target = v.lifecycle?.preStop?.httpGet?.port;
    return typeof target === "string" && !(v.ports ?? []).some((x) => x.name === target)
      ? ["lifecycle", "preStop", "httpGet", "port"]
      : undefined;
  },
};

const process = withRules(processFields, [
  namedPreStopPort,
  {
    cel: "!(has(self.replicas) && has(self.autoscale))",
    message: "replicas and autoscale are mutually exclusive: the autoscaler owns the replica count",
    fieldPath: ".replicas",
    find: (v) => (v.replicas !== undefined && v.autoscale !== undefined ? ["replicas"] : undefined),
  },
  ...namedProbePorts,
  {
    cel: `!has(self.env) || self.env.all(e, ${CEL_CONTAINER_NAME_UNSET} || e.valueFrom.resourceFieldRef.containerName == self.name)`,
    message:
      "resourceFieldRef.containerName must be the process's name: each process runs one container, named after it",
    fieldPath: ".env",
    find: (v) => {
      const i = (v.env ?? []).findIndex((e) => ![undefined, v.name].includes(containerNameOf(e)));
      return i < 0 ? undefined : ["env", i, "valueFrom", "resourceFieldRef", "containerName"];
    },
  },
]).describe(
  "A process type (one Procfile line): one Deployment of identical, disposable processes.",
);

const scratchVolume = withRules(
  z.strictObject({
    name: dnsLabel("Volume name (the pod volume is scratch-<name>).", MAX_VOLUME_SUFFIX_LENGTH),
    mountPath: text(
      "Where the scratch space is mounted, e.g. /tmp: a clean absolute path, not /, not overlapping spec.bindingRoot.",
      { min: 1, max: 1024, format: CLEAN_PATH },
    ),
    sizeLimit: text(
      "Upper bound of the scratch space, e.g. 128Mi: the cache is bounded by design. A quantity greater than zero.",
      { min: 1, max: 64, format: QUANTITY },
    ),
    medium: z
      .enum(["", "Memory"])
      .optional()
      .describe(
        'Memory for a tmpfs (counts against the memory limit); "" for node disk. @default ""',
      ),
  }),
  [
    {
      cel: `!${celMatches("self.sizeLimit", QUANTITY)} || ${celMatches("self.sizeLimit", POSITIVE_QUANTITY)}`,
      message: "sizeLimit must be greater than zero",
      fieldPath: ".sizeLimit",
      find: (v) =>
        !QUANTITY.test(v.sizeLimit) || POSITIVE_QUANTITY.test(v.sizeLimit)
          ? undefined
          : ["sizeLimit"],
    },
  ],
).describe("A bounded emptyDir: the only writable place a process has, wiped when the pod goes.");

type ScratchFields = z.output<typeof scratchVolume>;

/** Groups of the built-in API: k8s.io and kubernetes.io and everything under them (the dot-less ones fail GROUP_VERSION). */
const BUILTIN_GROUP_VERSION = "^([^/]*[.])?(k8s|kubernetes)[.]io/";
const builtinGroup = new RegExp(BUILTIN_GROUP_VERSION);

const backingService = withRules(
  z.strictObject({
    name: dnsLabel(
      "Binding name: files under $SERVICE_BINDING_ROOT/<name>/, env <NAME>_HOST, <NAME>_PORT, <NAME>_URL…",
      MAX_VOLUME_SUFFIX_LENGTH,
    ),
    type: z.enum(BINDING_TYPES as ["redis", "memcached"]).describe("Kind of backing service."),
    secretRef: z
      .strictObject({ name: objectName("Name of the Secret (a DNS subdomain, no namespace).") })
      .optional()
      .describe("A Secret in the app's namespace holding the connection entries."),
    service: z
      .strictObject({
        apiVersion: text(
          "API version of the Provisioned Service, e.g. redis.example.com/v1: an extension API group (with a dot, outside k8s.io and kubernetes.io) and a version.",
          { min: 1, max: 253, format: GROUP_VERSION },
        ),
        kind: text(
          "Kind of the Provisioned Service, e.g. RedisInstance; not Secret or ConfigMap.",
          {
            min: 1,
            max: 63,
            format: KIND_NAME,
          },
        ),
        name: objectName("Name of the Provisioned Service in the app's namespace."),
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
    {
      cel: `!has(self.service) || !self.service.apiVersion.matches(${`r'${BUILTIN_GROUP_VERSION}'`})`,
      message:
        "service.apiVersion must be of an extension API, not a built-in group (core, apps, batch, policy, autoscaling, anything under k8s.io or kubernetes.io)",
      fieldPath: ".service.apiVersion",
      find: (v) =>
        v.service !== undefined && builtinGroup.test(v.service.apiVersion)
          ? ["service", "apiVersion"]
          : undefined,
    },
    {
      cel: `!has(self.service) || !(self.service.kind in [${FORBIDDEN_BOUND_KINDS.map((k) => `'${k}'`).join(", ")}])`,
      message: `service.kind must not be ${FORBIDDEN_BOUND_KINDS.join(" or ")}: bind a Secret with secretRef`,
      fieldPath: ".service.kind",
      find: (v) =>
        v.service !== undefined &&
        (FORBIDDEN_BOUND_KINDS as readonly string[]).includes(v.service.kind)
          ? ["service", "kind"]
          : undefined,
    },
  ],
).describe("A stateful backing service the processes reach over the network.");

type BackingServiceFields = z.output<typeof backingService>;

/** A binding of another type named after a type's alias would set the alias's variable twice. */
const aliasRules: CrossFieldRule<BackingServiceFields[]>[] = BINDING_TYPES.flatMap((type) => {
  const conflicts = aliasConflicts(type);
  if (conflicts.length === 0) return [];
  const [alias] = TYPE_ALIAS[type];
  return [
    {
      cel: `!(self.filter(b, b.type == '${type}').size() == 1 && self.exists(b, ${conflicts.map((c) => `b.type == '${c.type}' && b.name == '${c.name}'`).join(" || ")}))`,
      message: `${conflicts.map((c) => `a ${c.type} binding named ${c.name}`).join(" or ")} sets ${alias}, which the app's only ${type} binding also sets: rename it`,
      find: (v) => {
        if (v.filter((b) => b.type === type).length !== 1) return undefined;
        const i = v.findIndex((b) => conflicts.some((c) => c.type === b.type && c.name === b.name));
        return i < 0 ? undefined : [i, "name"];
      },
    },
  ];
});

/** Attempts a release Job makes before it counts as failed, when backoffLimit is not set. */
export const DEFAULT_RELEASE_BACKOFF_LIMIT = 0;

const release = z
  .strictObject({
    command: z
      .array(text("An argument.", { max: 4096 }))
      .min(1)
      .max(64)
      .describe("The release command, e.g. [bin/migrate]: run once per release, before it serves."),
    args: z
      .array(text("An argument.", { max: 4096 }))
      .max(256)
      .optional()
      .describe("Arguments. @default the image's CMD"),
    env: envList(
      "Environment of the release command, after (and overriding) spec.env.",
      MAX_PROCESS_ENV,
    ).optional(),
    activeDeadlineSeconds: z
      .int()
      .min(1)
      .max(86400)
      .optional()
      .describe("The release fails when it runs longer than this. @default no deadline"),
    backoffLimit: z
      .int()
      .min(0)
      .max(10)
      .optional()
      .describe(
        `Retries of a failed release pod before the release fails. @default ${DEFAULT_RELEASE_BACKOFF_LIMIT}`,
      ),
  })
  .describe(
    "The release phase (an admin process, Twelve-Factor XII): a Job <app>-release-<hash of image and release> runs this with the app's image, env, bindings and config; the Deployments roll onto a new image only once it succeeded.",
  );

const overlaps = (a: string, b: string) =>
  a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
const CEL_ROOT = `(has(self.bindingRoot) ? self.bindingRoot : '${SERVICE_BINDING_ROOT}')`;

const specFields = z.strictObject({
  image: text(
    "Container image every process type runs, built with its assets, e.g. registry.example.com/shop:1.4.2.",
    { min: 1, max: 1024, format: IMAGE },
  ),
  env: envList("Environment shared by every process type (core/v1 EnvVar).", 256).optional(),
  processes: namedList(process, 16, "Process types, Procfile style: at least one.").min(1),
  envFrom: envFrom("before each process's").optional(),
  config: withRules(
    namedList(configVolume, 8, "Config files: ConfigMaps and Secrets mounted read-only."),
    [
      {
        cel: "self.all(c, self.all(d, c.name == d.name || c.mountPath != d.mountPath && !c.mountPath.startsWith(d.mountPath + '/')))",
        message: "config mountPaths must not overlap: none may be another's or lie under it",
        find: (v) => {
          const i = v.findIndex((c, j) =>
            v.slice(0, j).some((d) => overlaps(c.mountPath, d.mountPath)),
          );
          return i < 0 ? undefined : [i, "mountPath"];
        },
      },
    ],
  ).optional(),
  scratch: withRules(
    namedList(
      scratchVolume,
      8,
      "Scratch space: the only writable paths (the root filesystem is read-only).",
    ),
    [
      uniqueRule<ScratchFields>(
        "mountPath",
        "mountPath must be unique: two scratch volumes cannot share a path",
        (s) => s.mountPath,
      ),
    ],
  ).optional(),
  backingServices: withRules(
    namedList(backingService, 16, "Backing services bound into every process."),
    aliasRules,
  ).optional(),
  bindingRoot: text(
    `Where the bindings are mounted (<bindingRoot>/<name>/), and what ${SERVICE_BINDING_ROOT_ENV} tells the processes: a clean absolute path. @default ${SERVICE_BINDING_ROOT}`,
    { min: 1, max: 512, format: CLEAN_PATH },
  ).optional(),
  maxPodLifetime: withRules(
    text(
      `Recycle pods older than this (${MIN_POD_LIFETIME} to ${MAX_POD_LIFETIME}), one at a time, to prove disposability.`,
      { min: 1, max: 64, format: DURATION },
    ),
    [
      {
        cel: `!${celMatches("self", DURATION)} || duration(self) >= duration('${MIN_POD_LIFETIME}') && duration(self) <= duration('${MAX_POD_LIFETIME}')`,
        message: `must be at least ${MIN_POD_LIFETIME} and at most ${MAX_POD_LIFETIME}`,
        find: (v) => {
          if (codePoints(v) > 64 || !DURATION.test(v)) return undefined;
          const ns = durationNanos(v);
          return ns >= durationNanos(MIN_POD_LIFETIME) && ns <= durationNanos(MAX_POD_LIFETIME)
            ? undefined
            : [];
        },
      },
    ],
  ).optional(),
  pod: podSettings.optional(),
  release: release.optional(),
  paused: z
    .boolean()
    .optional()
    .describe("Stop reconciling the children; status says so. @default false"),
});
type SpecFields = z.output<typeof specFields>;

/** Kubernetes' own default grace period, when neither the process nor the app sets one. */
export const DEFAULT_TERMINATION_GRACE_SECONDS = 30;

/** The grace period of a process type: its pod's, else the app's, else Kubernetes' default. */
export const terminationGraceOf = (spec: SpecFields, proc: ProcessFields): number =>
  proc.pod?.terminationGracePeriodSeconds ??
  spec.pod?.terminationGracePeriodSeconds ??
  DEFAULT_TERMINATION_GRACE_SECONDS;
const CEL_GRACE = `(has(p.pod) && has(p.pod.terminationGracePeriodSeconds) ? p.pod.terminationGracePeriodSeconds : has(self.pod) && has(self.pod.terminationGracePeriodSeconds) ? self.pod.terminationGracePeriodSeconds : ${DEFAULT_TERMINATION_GRACE_SECONDS})`;

export const statelessAppSpec = withRules(specFields, [
  {
    cel: `!has(self.config) || self.config.all(c, c.mountPath != ${CEL_ROOT} && !c.mountPath.startsWith(${CEL_ROOT} + '/') && !${CEL_ROOT}.startsWith(c.mountPath + '/'))`,
    message: `a config mountPath must not be the binding root (spec.bindingRoot, ${SERVICE_BINDING_ROOT} by default), nor lie under it or contain it`,
    fieldPath: ".config",
    find: (v) => {
      const root = v.bindingRoot ?? SERVICE_BINDING_ROOT;
      const i = (v.config ?? []).findIndex((c) => overlaps(c.mountPath, root));
      return i < 0 ? undefined : ["config", i, "mountPath"];
    },
  },
  {
    cel: "!has(self.config) || !has(self.scratch) || self.config.all(c, self.scratch.all(s, c.mountPath != s.mountPath && !c.mountPath.startsWith(s.mountPath + '/') && !s.mountPath.startsWith(c.mountPath + '/')))",
    message: "a config mountPath must not be a scratch mountPath, nor lie under one or contain one",
    fieldPath: ".config",
    find: (v) => {
      const scratch = v.scratch ?? [];
      const i = (v.config ?? []).findIndex((c) =>
        scratch.some((x) => overlaps(c.mountPath, x.mountPath)),
      );
      return i < 0 ? undefined : ["config", i, "mountPath"];
    },
  },
  {
    cel: `self.processes.all(p, !has(p.lifecycle) || !has(p.lifecycle.preStop) || !has(p.lifecycle.preStop.sleep) || p.lifecycle.preStop.sleep.seconds <= ${CEL_GRACE})`,
    message: `a preStop sleep must not be longer than the process's terminationGracePeriodSeconds (its pod's, else spec.pod's, else ${DEFAULT_TERMINATION_GRACE_SECONDS})`,
    fieldPath: ".processes",
    find: (v) => {
      const i = v.processes.findIndex(
        (p) => (p.lifecycle?.preStop?.sleep?.seconds ?? 0) > terminationGraceOf(v, p),
      );
      return i < 0 ? undefined : ["processes", i, "lifecycle", "preStop", "sleep", "seconds"];
    },
  },
  {
    cel: `!has(self.scratch) || self.scratch.all(s, s.mountPath != ${CEL_ROOT} && !s.mountPath.startsWith(${CEL_ROOT} + '/') && !${CEL_ROOT}.startsWith(s.mountPath + '/'))`,
    message: `a scratch mountPath must not be the binding root (spec.bindingRoot, ${SERVICE_BINDING_ROOT} by default), nor lie under it or contain it: the bindings are mounted there`,
    fieldPath: ".scratch",
    find: (v) => {
      const root = v.bindingRoot ?? SERVICE_BINDING_ROOT;
      const i = (v.scratch ?? []).findIndex((s) => overlaps(s.mountPath, root));
      return i < 0 ? undefined : ["scratch", i, "mountPath"];
    },
  },
  {
    cel: `!has(self.env) || self.env.all(e, ${CEL_CONTAINER_NAME_UNSET} || self.processes.all(p, p.name == e.valueFrom.resourceFieldRef.containerName))`,
    message:
      "resourceFieldRef.containerName in spec.env must be the name of every process: each process runs one container, named after it",
    fieldPath: ".env",
    find: (v: SpecFields) => {
      const i = (v.env ?? []).findIndex((e) => {
        const name = containerNameOf(e);
        return name !== undefined && v.processes.some((p) => p.name !== name);
      });
      return i < 0 ? undefined : ["env", i, "valueFrom", "resourceFieldRef", "containerName"];
    },
  },
]).describe("Desired state of a StatelessApp.");

export type StatelessAppSpec = z.output<typeof statelessAppSpec>;
export type Process = StatelessAppSpec["processes"][number];
export type ScratchVolume = NonNullable<StatelessAppSpec["scratch"]>[number];
export { DEFAULT_PRESTOP_SLEEP_SECONDS };
export type ConfigVolume = ConfigFields;
export type Release = NonNullable<StatelessAppSpec["release"]>;
export type BackingService = NonNullable<StatelessAppSpec["backingServices"]>[number];
