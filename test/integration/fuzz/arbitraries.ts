// fast-check generators of StatelessApp manifests for the differential fuzz, one per field.
//
// Every field has `valid` values (what users write) and `edge` values (boundaries, lengths,
// Unicode, syntax the API server and zod might read differently); `mutate` puts wrong types and
// nulls anywhere. A case is clean (valid everywhere), targets one field site (edge values there
// only, so a disagreement cannot hide behind another refusal), or is chaos (edge values
// anywhere). A new field is one line in a `shape`: its name and its `field(valid, edge)`.
import fc from "fast-check";
import { stringify } from "yaml";
import type { FuzzCase } from "./judge.ts";

type Arb<T = unknown> = fc.Arbitrary<T>;

/** Which field sites take edge values: none (CLEAN), one site's id, or any (CHAOS). */
interface Mode {
  readonly target: number;
}
const CLEAN = -1;
const CHAOS = -2;

let sites = 0;
/** A new field site: an id a case may target. */
const site = (): number => sites++;
/** Whether site `id` is edgy in this case. */
const edgy = (mode: Mode, id: number): boolean => mode.target === id || mode.target === CHAOS;

/** A field: valid values, or edge ones where the case targets it (sometimes, in chaos). */
const field = <T>(valid: Arb<T>, edge: Arb<unknown>): Field => {
  const id = site();
  return (mode) =>
    mode.target === id
      ? edge
      : mode.target === CHAOS
        ? fc.oneof({ weight: 24, arbitrary: valid }, { weight: 1, arbitrary: edge })
        : valid;
};

type Field = (mode: Mode) => Arb<unknown>;

/** An object of fields; `required` ones are always there, the others sometimes. */
const shape =
  (fields: Record<string, Field>, required: readonly string[] = []) =>
  (mode: Mode): Arb<Record<string, unknown>> =>
    fc.record(Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f(mode)])), {
      requiredKeys: required as string[],
    }) as Arb<Record<string, unknown>>;

/**
 * A list. Item names come from small pools, so an edgy list repeats names (and other keys);
 * a clean one keeps `unique` keys distinct.
 */
const list = (item: Field, maxLength: number, unique: readonly string[] = ["name"]): Field => {
  const id = site();
  return (mode: Mode): Arb<unknown[]> =>
    !edgy(mode, id) && unique.length > 0
      ? fc.uniqueArray(item(mode), {
          maxLength,
          comparator: (a, b) =>
            unique.some((k) => keyOf(a, k) !== undefined && keyOf(a, k) === keyOf(b, k)),
        })
      : fc.array(item(mode), { maxLength });
};

const keyOf = (item: unknown, key: string): unknown => {
  const v = (item as Record<string, unknown>)[key];
  // servicePort defaults to containerPort: both count as the Service's port.
  if (key === "servicePort") return v ?? (item as Record<string, unknown>).containerPort;
  return v;
};

// ---- strings -------------------------------------------------------------------------------

/** Characters JavaScript and Go, YAML 1.1 and 1.2, or zod and the API server may read differently. */
const SPICE = [
  "\u00a0",
  "\u3000",
  "\ufeff",
  "\v",
  "\t",
  "\n",
  "\r",
  "\u0000",
  "\u007f",
  "\u0085",
  "\u2028",
  "😀",
  "é",
  "e\u0301",
  " ",
  ":",
  "/",
  ".",
  "'",
  '"',
  "\\",
  "#",
  "&",
  "*",
];
const spice = fc.constantFrom(...SPICE);

/** `base` with spice inserted somewhere. */
const spiced = (base: Arb<string>) =>
  fc
    .tuple(base, spice, fc.nat())
    .map(([s, c, at]) => `${s.slice(0, at % (s.length + 1))}${c}${s.slice(at % (s.length + 1))}`);

/** Strings just below, at and above `max` characters, in ASCII or astral code points. */
const around = (max: number, unit: readonly string[] = ["a"]) =>
  fc
    .tuple(fc.constantFrom(max - 1, max, max + 1), fc.constantFrom(...unit, "😀"))
    .map(([n, u]) => u.repeat(Math.max(0, n)));

const dnsLabel = fc.stringMatching(/^[a-z]([a-z0-9-]{0,6}[a-z0-9])?$/);
const dnsLabelEdge = fc.oneof(
  fc.constantFrom("", "A", "a_b", "-a", "a-", "1a", "a.b", "web ", "wéb", "a--b"),
  around(63),
  spiced(dnsLabel),
);
const subdomain = fc
  .array(dnsLabel, { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join("."));
const subdomainEdge = fc.oneof(
  fc.constantFrom("other-ns/redis", "Redis", "a..b", ".a", "a.", "a_b", ""),
  around(253),
  spiced(subdomain),
);
const text = (max: number) =>
  fc.string({ maxLength: 12, unit: "grapheme" }).filter((s) => s.length <= max);
const textEdge = (max: number) =>
  fc.oneof(spiced(fc.string({ maxLength: 6 })), around(max), fc.constantFrom(""));

// ---- numbers, quantities, durations, paths ---------------------------------------------------

const SAFE = Number.MAX_SAFE_INTEGER;
const intEdge = fc.constantFrom(-1, 0, 1, 1.5, -0, SAFE, SAFE + 1, 2 ** 63, 1e21, 65535, 65536);
const int = (min: number, max: number) => fc.integer({ min, max });

const quantityValid = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 1, max: 4096 }),
      fc.constantFrom("", "m", "k", "M", "G", "Ki", "Mi", "Gi", "e3", "E"),
    )
    .map(([n, u]) => `${n}${u}`),
  fc.constantFrom("0.5", "1.5Gi", "100m", "250m", "1", "2"),
  fc.integer({ min: 0, max: 64 }),
);
const quantityEdge = fc.oneof(
  fc.constantFrom(
    "0",
    "0.0",
    "0Mi",
    "-1",
    "+1",
    "+.5",
    ".5",
    "5.",
    "1.G",
    "1e1.5",
    "1e-400",
    "1e400",
    "1e999",
    "1e1000",
    "1E3",
    "1e",
    "1ee",
    "1ki",
    "1KI",
    "8Ei",
    "16Ei",
    "9223372036854775807",
    "1.0000000001",
    "0.0000000001",
    "1k ",
    " 1k",
    "١",
  ),
  around(64, ["9"]),
  spiced(quantityValid.map(String)),
  intEdge,
);

const durationValid = fc.constantFrom("1m", "90s", "1h30m", "24h", "720h", "8760h", "1.5h");
const durationEdge = fc.constantFrom(
  "59s",
  "60s",
  "59.999999999s",
  "59.99999999999999999s",
  "8760h1ns",
  "8761h",
  "2562048h",
  "99999h",
  "100000h",
  "99999h99999h",
  "0.0000001h",
  "1µs",
  "60000000μs",
  "60000000us",
  "1d",
  "1",
  "",
  "-1h",
  "1h ",
  "1H",
  ".5h",
);

const pathValid = fc.constantFrom(
  "/tmp",
  "/var/cache",
  "/.cache",
  "/a..b",
  "/srv/data",
  "/home/app",
);
const pathEdge = fc.oneof(
  fc.constantFrom(
    "/",
    "//tmp",
    "/tmp/",
    "/./tmp",
    "/tmp/.",
    "/tmp/..",
    "/..",
    "/a:b",
    "/bindings",
    "/bindings/x",
    "/./bindings",
    "/bindings/.",
    "/bindingsx",
    "/b",
    "/b/c",
    "tmp",
    "",
    "/t\u0000",
    "/t mp",
    "/tmp/😀",
  ),
  around(1024, ["/a"]),
  spiced(pathValid),
);

// ---- the spec --------------------------------------------------------------------------------

const PROCESS_NAMES = ["web", "worker", "clock", "api"];
const processName = field(fc.constantFrom(...PROCESS_NAMES), dnsLabelEdge);
const PORT_NAMES = ["http", "metrics", "grpc", "h2c"];
const portName = field(
  fc.constantFrom(...PORT_NAMES),
  fc.oneof(fc.constantFrom("80", "a--b", "-a", "HTTP", "", "http-", "1-2"), around(15)),
);
const portNumber = field(fc.constantFrom(80, 443, 8080, 9090, 3000), intEdge);

const port = shape(
  {
    name: portName,
    containerPort: portNumber,
    servicePort: portNumber,
    protocol: field(fc.constantFrom("TCP", "UDP", "SCTP"), fc.constantFrom("tcp", "HTTP", "")),
  },
  ["name", "containerPort"],
);

const probePort = field(
  fc.constantFrom(8080, 80),
  fc.oneof(
    intEdge,
    fc.constantFrom(...PORT_NAMES, "", "80", "a--b", "HTTP", "nosuchport"),
    around(15),
  ),
);
const headerName = field(
  fc.constantFrom("X-Probe", "Accept", "User-Agent"),
  fc.constantFrom("X Probe", "X_Probe", "", "X:Y", "Ä", "x\u00a0y"),
);
const seconds = (min: number, max: number) => field(int(min, max), intEdge);
const probeHandler = field(
  fc.constantFrom("httpGet", "tcpSocket", "exec", "grpc"),
  fc.constantFrom("none", "two"),
);
const httpGet = shape(
  {
    path: field(fc.constantFrom("/", "/healthz"), textEdge(2048)),
    port: probePort,
    scheme: field(fc.constantFrom("HTTP", "HTTPS"), fc.constantFrom("http", "")),
    httpHeaders: list(
      shape({ name: headerName, value: field(text(64), textEdge(4096)) }, ["name", "value"]),
      2,
    ),
  },
  ["port"],
);
const tcpSocket = shape(
  { port: probePort, host: field(fc.constantFrom("localhost"), textEdge(253)) },
  ["port"],
);
const execCommand = field(
  fc.constant(["true"]),
  fc.oneof(fc.constant([]), fc.array(textEdge(4096), { minLength: 1, maxLength: 2 })),
);
const grpc = shape(
  {
    port: field(fc.constant(9090), intEdge),
    service: field(fc.constantFrom("", "grpc.health.v1.Health"), textEdge(253)),
  },
  ["port"],
);
const probe = (kind: "readiness" | "liveness" | "startup"): Field => {
  const timing = shape({
    initialDelaySeconds: seconds(0, 60),
    timeoutSeconds: seconds(1, 10),
    periodSeconds: seconds(1, 30),
    successThreshold: field(kind === "readiness" ? int(1, 3) : fc.constant(1), intEdge),
    failureThreshold: seconds(1, 5),
    terminationGracePeriodSeconds:
      kind === "readiness" ? field(fc.constant(undefined), int(1, 60)) : seconds(1, 60),
  });
  return (mode) =>
    fc
      .tuple(
        probeHandler(mode),
        httpGet(mode),
        tcpSocket(mode),
        timing(mode),
        execCommand(mode),
        grpc(mode),
      )
      .map(([handler, h, t, times, c, g]) => ({
        ...times,
        ...(handler === "httpGet" || handler === "two" ? { httpGet: h } : {}),
        ...(handler === "tcpSocket" || handler === "two" ? { tcpSocket: t } : {}),
        ...(handler === "exec" ? { exec: { command: c } } : {}),
        ...(handler === "grpc" ? { grpc: g } : {}),
      }));
};

const RESOURCE_NAMES = ["cpu", "memory", "ephemeral-storage", "example.com/gpu"];
const resourceName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...RESOURCE_NAMES) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "hugepages-2Mi",
      "kubernetes.io/x",
      "foo.kubernetes.io/bar",
      "requests.example.com/x",
      "example.com/",
      "/x",
      "",
      "pods",
      "cpu ",
      "Example.com/gpu",
      `${"a".repeat(250)}.io/x`,
    ),
  },
);
const RESOURCES = site();
const resourceQuantity = field(quantityValid, quantityEdge);
const resourceList = (mode: Mode) =>
  fc.dictionary(
    edgy(mode, RESOURCES) ? resourceName : fc.constantFrom(...RESOURCE_NAMES.slice(0, 3)),
    resourceQuantity(mode),
    {
      maxKeys: 3,
    },
  );
const resources = (mode: Mode) =>
  !edgy(mode, RESOURCES)
    ? fc
        .tuple(
          fc.dictionary(fc.constantFrom(...RESOURCE_NAMES), fc.integer({ min: 1, max: 8 }), {
            maxKeys: 3,
          }),
          fc.constantFrom("requests", "limits", "both"),
        )
        .map(([amounts, which]) => {
          const requests = Object.fromEntries(
            Object.entries(amounts).map(([k, n]) => [
              k,
              k === "cpu" ? `${n * 100}m` : `${n}${k.includes("/") ? "" : "Gi"}`,
            ]),
          );
          const limits = Object.fromEntries(
            Object.entries(amounts).map(([k, n]) => [
              k,
              k === "cpu" ? `${n}` : `${k.includes("/") ? n : `${n * 2}Gi`}`,
            ]),
          );
          // An extended resource cannot be overcommitted: its limit is always there, equal.
          const extended = Object.fromEntries(
            Object.entries(requests).filter(([k]) => k.includes("/")),
          );
          return which === "requests"
            ? { requests, ...(Object.keys(extended).length > 0 ? { limits: extended } : {}) }
            : which === "limits"
              ? { limits }
              : { requests, limits };
        })
    : fc.record({ requests: resourceList(mode), limits: resourceList(mode) }, { requiredKeys: [] });

const ENV_NAMES = ["PORT", "LOG_LEVEL", "REDIS_URL", "SESSIONS_HOST", "A"];
const envName = field(
  fc.constantFrom(...ENV_NAMES),
  fc.oneof(
    fc.constantFrom("SERVICE_BINDING_ROOT", "1A", "A B", "A=B", "", "Ä", "a.b-c"),
    around(256),
  ),
);
const FIELD_PATHS = ["metadata.name", "metadata.namespace", "status.podIP", "spec.nodeName"];
const fieldPath = field(
  fc.constantFrom(...FIELD_PATHS),
  fc.constantFrom(
    "metadata.labels['app']",
    "metadata.labels['example.com/x']",
    "metadata.labels['-x']",
    "metadata.annotations['a/b/c']",
    "metadata.labels",
    "spec.containers",
    "status.hostIPs",
    "metadata.uid ",
    "",
  ),
);
const divisor = field(
  fc.constantFrom("1", 1),
  fc.constantFrom("1m", "1Mi", "2", "1000m", "0", 0, 2, "1Gi", "1u", "-1", "1e3"),
);
const VALUE_FROM = site();
const keySelector = (what: "secretKeyRef" | "configMapKeyRef") =>
  shape(
    {
      [what]: shape(
        {
          name: field(subdomain, subdomainEdge),
          key: field(
            fc.constantFrom("password", "uri", "tls.crt"),
            fc.constantFrom(".", "..", "..a", "a b", "", "ä"),
          ),
          optional: field(fc.boolean(), fc.constantFrom("yes")),
        },
        ["name", "key"],
      ),
    },
    [what],
  );
const secretKeyRef = keySelector("secretKeyRef");
const configMapKeyRef = keySelector("configMapKeyRef");
const fieldRef = shape(
  {
    fieldRef: shape(
      {
        fieldPath,
        apiVersion: field(fc.constantFrom("v1"), fc.constantFrom("v2", "", "apps/v1")),
      },
      ["fieldPath"],
    ),
  },
  ["fieldRef"],
);
const resourceFieldRef = shape(
  {
    resourceFieldRef: shape(
      {
        resource: field(
          fc.constantFrom("limits.cpu", "requests.memory", "limits.ephemeral-storage"),
          fc.constantFrom("limits.gpu", "cpu", "requests.hugepages-2Mi"),
        ),
        containerName: field(
          fc.constant(undefined),
          fc.oneof(fc.constantFrom(...PROCESS_NAMES), dnsLabelEdge),
        ),
        divisor,
      },
      ["resource"],
    ),
  },
  ["resourceFieldRef"],
);
const valueFrom = (mode: Mode) =>
  fc.oneof(
    secretKeyRef(mode),
    configMapKeyRef(mode),
    fieldRef(mode),
    resourceFieldRef(mode),
    ...(edgy(mode, VALUE_FROM) ? [fc.constant({})] : []),
  );
const envValue = field(text(32), textEdge(32768));
const envVar = (mode: Mode) =>
  fc
    .tuple(envName(mode), fc.oneof(envValue(mode), valueFrom(mode)), fc.boolean())
    .map(([name, v, both]) =>
      typeof v === "string"
        ? { name, value: v }
        : both && edgy(mode, VALUE_FROM)
          ? { name, value: "x", valueFrom: v }
          : { name, valueFrom: v },
    );
const env = list(envVar, 4);

const autoscale = shape(
  {
    minReplicas: field(int(1, 3), intEdge),
    maxReplicas: field(int(3, 6), intEdge),
    targetCPUUtilizationPercentage: field(int(1, 100), intEdge),
  },
  ["maxReplicas"],
);

// ---- pod settings, lifecycle, envFrom, config ----------------------------------------------------

const referenceName = field(subdomain, subdomainEdge);

const podLabelKey = field(
  fc.constantFrom("team", "example.com/tier", "cost-center"),
  fc.constantFrom(
    "app.kubernetes.io/component",
    "app.kubernetes.io/managed-by",
    "twelvefactor.dev/bindings-hash",
    "twelvefactor.dev/x",
    "-x",
    "a/b/c",
  ),
);
const podLabelValue = field(fc.constantFrom("a", "front", ""), fc.constantFrom("-x", "a b", null));
const podMetadata = (mode: Mode) =>
  fc.record(
    {
      labels: fc.dictionary(podLabelKey(mode) as Arb<string>, podLabelValue(mode), { maxKeys: 2 }),
      annotations: fc.dictionary(podLabelKey(mode) as Arb<string>, text(16), { maxKeys: 2 }),
    },
    { requiredKeys: [] },
  );
const userId = field(fc.constantFrom(1000, 65532), fc.constantFrom(0, -1, 2 ** 31, 1.5));
const podSecurityContext = shape({
  runAsUser: userId,
  runAsGroup: field(fc.constantFrom(0, 1000), fc.constantFrom(-1, 2 ** 31)),
  fsGroup: field(fc.constantFrom(2000), fc.constantFrom(-1)),
  supplementalGroups: list(field(fc.constantFrom(3000, 3001), intEdge), 2, []),
  runAsNonRoot: field(fc.constant(true), fc.constantFrom(false, "true")),
});
const toleration = field(
  fc.constantFrom(
    { key: "dedicated", operator: "Equal", value: "shop", effect: "NoSchedule" },
    { key: "example.com/gpu", operator: "Exists" },
    { operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 },
  ),
  fc.constantFrom(
    { key: "k", operator: "Exists", value: "v" },
    { operator: "Equal", value: "v" },
    { key: "k", tolerationSeconds: 5, effect: "NoSchedule" },
    { key: "k", operator: "In" },
    { key: "-x" },
  ),
);
const spread = field(
  fc.constantFrom(
    { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway" },
    {
      maxSkew: 2,
      topologyKey: "topology.kubernetes.io/zone",
      whenUnsatisfiable: "DoNotSchedule",
      minDomains: 2,
    },
  ),
  fc.constantFrom(
    { maxSkew: 0, topologyKey: "k", whenUnsatisfiable: "ScheduleAnyway" },
    { maxSkew: 1, topologyKey: "k", whenUnsatisfiable: "ScheduleAnyway", minDomains: 2 },
    { maxSkew: 1, topologyKey: "", whenUnsatisfiable: "DoNotSchedule" },
    { maxSkew: 1, topologyKey: "k", whenUnsatisfiable: "schedule" },
  ),
);
const pod = shape({
  metadata: podMetadata,
  imagePullSecrets: list(shape({ name: referenceName }, ["name"]), 2),
  serviceAccountName: referenceName,
  automountServiceAccountToken: field(fc.boolean(), fc.constantFrom("yes")),
  nodeSelector: field(
    fc.dictionary(fc.constantFrom("kubernetes.io/os", "disk"), fc.constantFrom("linux", "ssd"), {
      maxKeys: 2,
    }),
    fc.constantFrom({ "a b": "x" }, { disk: "a b" }),
  ),
  tolerations: list(toleration, 2, ["key"]),
  topologySpreadConstraints: list(spread, 2, ["topologyKey"]),
  priorityClassName: field(
    fc.constantFrom("high", "low"),
    fc.constantFrom("system-node-critical", "High"),
  ),
  terminationGracePeriodSeconds: field(int(10, 60), intEdge),
  securityContext: podSecurityContext,
});

const PRESTOP = site();
const lifecycle = (mode: Mode) =>
  fc
    .tuple(
      fc.constantFrom("sleep", "exec", "httpGet"),
      fc.integer({ min: 1, max: 10 }),
      httpGet(mode),
    )
    .map(([handler, secondsToSleep, get]) => ({
      preStop:
        handler === "sleep"
          ? { sleep: { seconds: secondsToSleep } }
          : handler === "exec"
            ? { exec: { command: ["/app/drain"] } }
            : { httpGet: get },
      ...(edgy(mode, PRESTOP) ? { postStart: { sleep: { seconds: 1 } } } : {}),
    }));

const configSource = field(
  fc.constantFrom("configMapRef", "secretRef"),
  fc.constantFrom("both", "none"),
);
const envFromSource = (mode: Mode) =>
  fc
    .tuple(configSource(mode), referenceName(mode), envName(mode), fc.boolean())
    .map(([source, name, prefix, withPrefix]) => ({
      ...(source === "configMapRef" || source === "both" ? { configMapRef: { name } } : {}),
      ...(source === "secretRef" || source === "both" ? { secretRef: { name } } : {}),
      ...(withPrefix ? { prefix } : {}),
    }));
const envFrom = (mode: Mode) => fc.array(envFromSource(mode), { maxLength: 2 });

const itemPath = field(
  fc.constantFrom("app.yaml", "certs/tls.crt"),
  fc.constantFrom("/etc/passwd", "../x", "a//b", "", "a/", "."),
);
const configName = field(fc.constantFrom("app", "tls"), dnsLabelEdge);
const configPath = field(fc.constantFrom("/etc/app", "/etc/tls", "/config"), pathEdge);
const configVolume = (mode: Mode) =>
  fc
    .tuple(
      configName(mode),
      configPath(mode),
      configSource(mode),
      referenceName(mode),
      fc.array(fc.tuple(fc.constantFrom("a", "tls.crt"), itemPath(mode)), { maxLength: 2 }),
    )
    .map(([name, mountPath, source, ref, items]) => {
      const files = {
        name: ref,
        ...(items.length === 0 ? {} : { items: items.map(([key, path]) => ({ key, path })) }),
      };
      return {
        name,
        mountPath,
        ...(source === "configMapRef" || source === "both" ? { configMap: files } : {}),
        ...(source === "secretRef" || source === "both" ? { secret: files } : {}),
      };
    });
const config = list(configVolume, 2, ["name", "mountPath"]);

const PROCESS = site();
const processShape = shape(
  {
    name: processName,
    command: list(field(text(16), textEdge(4096)), 3),
    args: list(field(text(16), textEdge(4096)), 3),
    replicas: field(int(0, 3), intEdge),
    autoscale,
    ports: list(port, 3, ["name", "containerPort", "servicePort"]),
    env,
    readinessProbe: probe("readiness"),
    livenessProbe: probe("liveness"),
    startupProbe: probe("startup"),
    resources,
    lifecycle,
    envFrom,
    pod,
  },
  ["name"],
);
const process = (mode: Mode) =>
  processShape(mode).map((p) =>
    // replicas and autoscale together are an edge case, not the rule.
    !edgy(mode, PROCESS) && p.autoscale !== undefined ? { ...p, replicas: undefined } : p,
  );

const scratch = shape(
  {
    name: field(fc.constantFrom("tmp", "cache", "uploads"), dnsLabelEdge),
    mountPath: field(pathValid, pathEdge),
    sizeLimit: field(
      quantityValid.filter((q): q is string => typeof q === "string"),
      quantityEdge,
    ),
    medium: field(fc.constantFrom("", "Memory"), fc.constantFrom("HugePages", "memory")),
  },
  ["name", "mountPath", "sizeLimit"],
);

const BINDING_NAMES = ["sessions", "cache", "store", "a-b"];
const apiVersion = field(
  fc.constantFrom("redis.example.com/v1", "cache.example.org/v1beta1"),
  fc.constantFrom(
    "v1",
    "apps/v1",
    "policy/v1",
    "x.k8s.io/v1",
    "gateway.networking.k8s.io/v1",
    "x.kubernetes.io/v1",
    "v1?x=",
    "example.com/v1/x",
    "Example.com/v1",
    "example.com/",
    "example/v1",
  ),
);
const kind = field(
  fc.constantFrom("Redis", "RedisInstance", "Memcached"),
  fc.constantFrom("Secret", "ConfigMap", "redis", "Re dis", "", "R_1", "Binding"),
);
const bindingName = field(
  fc.constantFrom(...BINDING_NAMES),
  fc.oneof(fc.constantFrom("redis", "memcached"), dnsLabelEdge),
);
const bindingType = field(fc.constantFrom("redis", "memcached"), fc.constantFrom("mysql", "Redis"));
const bindingSource = field(
  fc.constantFrom("secretRef", "service"),
  fc.constantFrom("both", "none"),
);
const backingService = (mode: Mode) =>
  fc
    .tuple(
      bindingName(mode),
      bindingType(mode),
      bindingSource(mode),
      referenceName(mode),
      apiVersion(mode),
      kind(mode),
    )
    .map(([name, type, source, ref, av, k]) => ({
      name,
      type,
      ...(source === "secretRef" || source === "both" ? { secretRef: { name: ref } } : {}),
      ...(source === "service" || source === "both"
        ? { service: { apiVersion: av, kind: k, name: ref } }
        : {}),
    }));

const image = field(
  fc.constantFrom(
    "registry.example.com/shop:1.4.2",
    "shop:1",
    "ghcr.io/a/b@sha256:0123",
    "[::1]:5000/x",
  ),
  fc.oneof(spiced(fc.constantFrom("shop:1")), fc.constantFrom("", "a b", "shop:1,"), around(1024)),
);

const releaseArg = field(text(16), textEdge(4096));
/** spec.release: the release Job the children dry-run holds, through the admission policies too. */
const release = shape(
  {
    command: (mode) =>
      fc.array(releaseArg(mode), {
        minLength: edgy(mode, RELEASE) ? 0 : 1,
        maxLength: 2,
      }),
    args: list(releaseArg, 2, []),
    env,
    activeDeadlineSeconds: field(
      fc.integer({ min: 1, max: 86400 }),
      fc.constantFrom(0, -1, 86401, "60"),
    ),
    backoffLimit: field(fc.integer({ min: 0, max: 10 }), fc.constantFrom(-1, 11, 1.5)),
  },
  ["command"],
);
const RELEASE = site();

const spec = shape(
  {
    image,
    env,
    processes: (mode) =>
      !edgy(mode, PROCESS)
        ? fc.uniqueArray(process(mode), { minLength: 1, maxLength: 3, selector: (p) => p.name })
        : fc.array(process(mode), { maxLength: 3 }),
    scratch: list(scratch, 3, ["name", "mountPath"]),
    envFrom,
    config,
    pod,
    release,
    backingServices: list(backingService, 3),
    bindingRoot: field(fc.constantFrom("/bindings", "/platform/bindings", "/srv/b"), pathEdge),
    maxPodLifetime: field(durationValid, durationEdge),
    paused: field(fc.boolean(), fc.constantFrom("yes", 1)),
  },
  ["image", "processes"],
);

// ---- metadata and the object ---------------------------------------------------------------

const labelKey = field(
  fc.constantFrom("app", "team", "example.com/tier"),
  fc.constantFrom("-x", "a/b/c", "A_B", "", "Example.com/x", `${"a".repeat(64)}`),
);
const labelValue = field(
  fc.constantFrom("web", "a.b_c-1", ""),
  fc.oneof(fc.constantFrom("-x", "a b", "ä"), around(63), fc.constant(null)),
);
const LABELS = site();
const labels = (mode: Mode) =>
  fc.dictionary(labelKey(mode) as Arb<string>, labelValue(mode), { maxKeys: 2 });

/** Stands for the namespace the case is sent to: the generators are built before it exists. */
const NAMESPACE = "@namespace@";

const metadata = shape(
  {
    name: field(
      fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/),
      fc.oneof(dnsLabelEdge, fc.constantFrom("9shop", "shop.x"), around(63)),
    ),
    namespace: field(fc.constantFrom(NAMESPACE, ""), fc.constantFrom("Bad_NS", null)),
    labels: (mode) =>
      edgy(mode, LABELS) ? fc.oneof(labels(mode), fc.constant(null)) : labels(mode),
    annotations: field(
      fc.dictionary(fc.constantFrom("note", "example.com/owner"), text(16), { maxKeys: 2 }),
      fc.constantFrom({ "a b": "x" }, { "Example.com/x": "y" }, null),
    ),
    uid: field(fc.uuid(), fc.constantFrom("garbage", "")),
    generateName: field(fc.constantFrom("shop-"), fc.constantFrom("Shop-")),
  },
  ["name"],
);

/** Wrong types and nulls put anywhere: a value is replaced or removed, or an unknown field added. */
const wrong = fc.constantFrom(null, 0, -1, "", "x", true, [], {}, [null], { x: 1 }, 1.5);
interface Mutation {
  readonly at: number;
  readonly op: "replace" | "delete" | "unknown-field";
  readonly value: unknown;
}
const mutation: Arb<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom("replace", "replace", "delete", "delete", "unknown-field"),
  value: wrong,
});

type Path = (string | number)[];
type Tree = Record<string | number, unknown>;

/** Every path in a JSON tree, depth first; with `leaves`, only those to scalars. */
function pathsOf(node: unknown, leaves = false, at: Path = []): Path[] {
  const children: [string | number, unknown][] = Array.isArray(node)
    ? node.map((v, i) => [i, v])
    : typeof node === "object" && node !== null
      ? Object.entries(node)
      : [];
  const own = leaves && (children.length > 0 || at.length === 0) ? [] : [at];
  return [...own, ...children.flatMap(([k, v]) => pathsOf(v, leaves, [...at, k]))];
}

/** The container of `path` and the key in it. */
function slot(tree: unknown, path: Path): [Tree, string | number] | undefined {
  if (path.length === 0) return undefined;
  const parent = path.slice(0, -1).reduce<unknown>((n, k) => (n as Tree)[k], tree);
  return [parent as Tree, path[path.length - 1] as string | number];
}

function mutate(object: unknown, m: Mutation): unknown {
  const copy = structuredClone(object);
  const paths = pathsOf(copy);
  const at = slot(copy, paths[m.at % paths.length] ?? []);
  if (at === undefined) return copy;
  const [parent, key] = at;
  const value = parent[key];
  if (m.op === "replace") parent[key] = m.value;
  else if (m.op === "delete") {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else if (typeof value === "object" && value !== null && !Array.isArray(value))
    (value as Tree).unknownField = m.value;
  return copy;
}

const ROOT_EDGES = [
  "no-kind",
  "no-apiVersion",
  "other-version",
  "bad-status",
  "unknown-root",
  "status-ok",
] as const;

/** The number of field sites once every generator is built: none is made while generating. */
let frozenSites = 0;

const ROOT = site();
const MUTATION = site();
const app = (namespace: string) => (mode: Mode) =>
  fc
    .tuple(
      metadata(mode),
      spec(mode),
      edgy(mode, ROOT) ? fc.constantFrom(...ROOT_EDGES) : fc.constant(undefined),
      edgy(mode, MUTATION) ? fc.array(mutation, { minLength: 1, maxLength: 1 }) : fc.constant([]),
    )
    .map(([meta, s, edge, mutations]) => {
      if (sites !== frozenSites) throw new Error("a field site was made while generating a case");
      const object: Record<string, unknown> = {
        apiVersion: edge === "other-version" ? "twelvefactor.dev/v1" : "twelvefactor.dev/v1alpha1",
        kind: "StatelessApp",
        metadata: meta.namespace === NAMESPACE ? { ...meta, namespace } : meta,
        spec: s,
      };
      if (edge === "no-kind") delete object.kind;
      if (edge === "no-apiVersion") delete object.apiVersion;
      if (edge === "bad-status") object.status = { conditions: "x", observedGeneration: -1 };
      if (edge === "status-ok") object.status = { observedGeneration: 1 };
      if (edge === "unknown-root") object.extra = 1;
      return mutations.reduce<unknown>((o, m) => mutate(o, m), object);
    });

// ---- serialisation: JSON, or YAML in a dialect ---------------------------------------------

/** Plain YAML scalars that YAML 1.1 (kubectl) and YAML 1.2 read differently, and some they read alike. */
const YAML_TOKENS = [
  "yes",
  "no",
  "on",
  "off",
  "y",
  "n",
  "Yes",
  "0b101",
  "0o17",
  "012",
  "0x1F",
  "0X1F",
  "1_000",
  "1_0",
  "+0x1F",
  "~",
  "null",
  "true",
  "1e3",
  ".inf",
  "1:30",
  "2001-12-14",
  "08",
];

interface Dialect {
  /** Where (a path index) a plain token replaces a value, and which token. */
  readonly token?: { readonly at: number; readonly value: string };
  /** A line break YAML 1.1 knows and YAML 1.2 does not, inside a string. */
  readonly breakChar?: { readonly at: number; readonly char: string };
  /** A repeated top-level key. */
  readonly duplicate?: string;
}
const dialect: Arb<Dialect> = fc.record(
  {
    token: fc.record({ at: fc.nat(), value: fc.constantFrom(...YAML_TOKENS) }),
    breakChar: fc.record({ at: fc.nat(), char: fc.constantFrom("\u0085", "\u2028", "\u2029") }),
    duplicate: fc.constantFrom("kind: StatelessApp", "apiVersion: twelvefactor.dev/v1"),
  },
  { requiredKeys: [] },
);

const MARK = "@@TOKEN@@";

function toYaml(object: unknown, d: Dialect): string {
  const value = structuredClone(object) ?? {};
  const leaves = pathsOf(value, true);
  const setLeaf = (n: number, f: (v: unknown) => unknown) => {
    const at = slot(value, leaves[n % Math.max(1, leaves.length)] ?? []);
    if (at !== undefined) at[0][at[1]] = f(at[0][at[1]]);
  };
  if (d.token !== undefined) setLeaf(d.token.at, () => MARK);
  if (d.breakChar !== undefined) {
    const { char } = d.breakChar;
    setLeaf(d.breakChar.at, (v) => (typeof v === "string" ? `${v}${char}x` : v));
  }
  let text = stringify(value, { lineWidth: 0 });
  if (d.token !== undefined) text = text.replace(/(["']?)@@TOKEN@@\1/, d.token.value);
  if (d.duplicate !== undefined) text = `${text}${d.duplicate}\n`;
  return text;
}

/** JSON as kubectl users write it; with `ascii`, every non-ASCII character escaped. */
function toJson(object: unknown, ascii: boolean): string {
  const text = JSON.stringify(object, null, 1);
  return ascii
    ? text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
    : text;
}

/**
 * Fuzz cases sent to `namespace`: clean ones, ones with edge values at a single field site, and
 * chaos; as JSON or as YAML in some dialect.
 */
export function fuzzCases(namespace: string): Arb<FuzzCase> {
  frozenSites = sites;
  const object = fc.oneof(
    { weight: 2, arbitrary: app(namespace)({ target: CLEAN }) },
    {
      weight: 6,
      arbitrary: fc
        .integer({ min: 0, max: sites - 1 })
        .chain((target) => app(namespace)({ target })),
    },
    { weight: 1, arbitrary: app(namespace)({ target: CHAOS }) },
  );
  return fc.oneof(
    fc
      .tuple(object, fc.boolean())
      .map(([o, ascii]): FuzzCase => ({ format: "json", text: toJson(o, ascii) })),
    fc
      .tuple(object, fc.option(dialect, { freq: 3 }))
      .map(([o, d]): FuzzCase => ({ format: "yaml", text: toYaml(o, d ?? {}) })),
  );
}
