// The malformed StatelessApps of scenario 7, generated: each with the field its rejection must name.

type Spec = Record<string, unknown>;
type Process = Record<string, unknown>;

/** One malformed app: `spec` replaces the whole spec (undefined: no spec at all). */
export interface BadInput {
  /** Also the app's name: a DNS label. */
  readonly name: string;
  /** What is wrong, in words. */
  readonly why: string;
  readonly spec: Spec | undefined;
  /**
   * The field path the API server's message must name, with list items by index
   * (`spec.processes[0].name`); see `fieldForms` for the other spelling it uses.
   */
  readonly field: string;
}

/**
 * The spellings of a field path in API server messages: schema validation indexes list items
 * (`spec.processes[0]`), server-side apply's typed patch names them by key
 * (`.spec.processes[name="web"]`). The corpus's list items are named web, http, tmp and cache.
 */
export function fieldForms(field: string): string[] {
  const keyed = field
    .replace("processes[0]", 'processes[name="web"]')
    .replace("ports[0]", 'ports[name="http"]')
    .replace("scratch[0]", 'scratch[name="tmp"]')
    .replace("backingServices[0]", 'backingServices[name="cache"]');
  return keyed === field ? [field] : [field, keyed];
}

const web = (extra: Process = {}): Process => ({ name: "web", replicas: 1, ...extra });
const spec = (extra: Spec = {}, processes: unknown = [web()]): Spec => ({
  image: "registry.example.com/bad:1.0.0",
  processes,
  ...extra,
});
const port = (extra: Record<string, unknown> = {}) => ({
  name: "http",
  containerPort: 8080,
  ...extra,
});
const scratch = (extra: Record<string, unknown> = {}) => ({
  name: "tmp",
  mountPath: "/tmp",
  sizeLimit: "64Mi",
  ...extra,
});
const binding = (extra: Record<string, unknown> = {}) => ({
  name: "cache",
  type: "redis",
  secretRef: { name: "redis" },
  ...extra,
});
const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const without = (o: Record<string, unknown>, key: string) => {
  const { [key]: _, ...rest } = o;
  return rest;
};

const P = "spec.processes[0]";

const cases: Omit<BadInput, "name">[] = [
  // Wrong types.
  { why: "image is a number", spec: spec({ image: 42 }), field: "spec.image" },
  { why: "processes is a string", spec: spec({}, "web"), field: "spec.processes" },
  {
    why: "replicas is a string",
    spec: spec({}, [web({ replicas: "two" })]),
    field: `${P}.replicas`,
  },
  {
    why: "replicas is a fraction",
    spec: spec({}, [web({ replicas: 1.5 })]),
    field: `${P}.replicas`,
  },
  {
    why: "command is a string",
    spec: spec({}, [web({ command: "node server.js" })]),
    field: `${P}.command`,
  },
  {
    why: "containerPort is a string",
    spec: spec({}, [web({ ports: [port({ containerPort: "8080" })] })]),
    field: `${P}.ports[0].containerPort`,
  },
  { why: "paused is a string", spec: spec({ paused: "yes" }), field: "spec.paused" },
  { why: "env is an object", spec: spec({ env: { FOO: "bar" } }), field: "spec.env" },
  {
    why: "sizeLimit is a number",
    spec: spec({ scratch: [scratch({ sizeLimit: 64 })] }),
    field: "spec.scratch[0].sizeLimit",
  },
  {
    why: "secretRef is a string",
    spec: spec({ backingServices: [binding({ secretRef: "redis" })] }),
    field: "spec.backingServices[0].secretRef",
  },
  {
    why: "maxPodLifetime is a number",
    spec: spec({ maxPodLifetime: 3600 }),
    field: "spec.maxPodLifetime",
  },
  {
    why: "autoscale is a boolean",
    spec: spec({}, [without(web({ autoscale: true }), "replicas")]),
    field: `${P}.autoscale`,
  },
  { why: "spec is a list", spec: [] as unknown as Spec, field: "spec" },
  // Missing required fields.
  { why: "no image", spec: without(spec(), "image"), field: "spec.image" },
  { why: "no processes", spec: without(spec(), "processes"), field: "spec.processes" },
  { why: "no process at all", spec: spec({}, []), field: "spec.processes" },
  {
    why: "a process without a name",
    spec: spec({}, [{ replicas: 1 }]),
    field: "spec.processes: element 0",
  },
  {
    why: "a port without containerPort",
    spec: spec({}, [web({ ports: [{ name: "http" }] })]),
    field: `${P}.ports[0].containerPort`,
  },
  {
    why: "a port without a name",
    spec: spec({}, [web({ ports: [{ containerPort: 8080 }] })]),
    field: `${P}.ports: element 0`,
  },
  {
    why: "scratch without sizeLimit",
    spec: spec({ scratch: [without(scratch(), "sizeLimit")] }),
    field: "spec.scratch[0].sizeLimit",
  },
  {
    why: "scratch without mountPath",
    spec: spec({ scratch: [without(scratch(), "mountPath")] }),
    field: "spec.scratch[0].mountPath",
  },
  {
    why: "a binding without type",
    spec: spec({ backingServices: [without(binding(), "type")] }),
    field: "spec.backingServices[0].type",
  },
  {
    why: "a binding without a source",
    spec: spec({ backingServices: [without(binding(), "secretRef")] }),
    field: "spec.backingServices[0]",
  },
  {
    why: "a binding with two sources",
    spec: spec({
      backingServices: [
        binding({ service: { apiVersion: "redis.example.com/v1", kind: "Redis", name: "r" } }),
      ],
    }),
    field: "spec.backingServices[0]",
  },
  {
    why: "autoscale without maxReplicas",
    spec: spec({}, [{ name: "web", autoscale: { minReplicas: 2 } }]),
    field: `${P}.autoscale.maxReplicas`,
  },
  {
    why: "a Provisioned Service without kind",
    spec: spec({
      backingServices: [
        {
          name: "cache",
          type: "redis",
          service: { apiVersion: "redis.example.com/v1", name: "r" },
        },
      ],
    }),
    field: "spec.backingServices[0].service.kind",
  },
  { why: "no spec", spec: undefined, field: "spec" },
  // Out-of-range numbers.
  { why: "negative replicas", spec: spec({}, [web({ replicas: -1 })]), field: `${P}.replicas` },
  { why: "too many replicas", spec: spec({}, [web({ replicas: 1001 })]), field: `${P}.replicas` },
  {
    why: "containerPort 0",
    spec: spec({}, [web({ ports: [port({ containerPort: 0 })] })]),
    field: `${P}.ports[0].containerPort`,
  },
  {
    why: "containerPort 70000",
    spec: spec({}, [web({ ports: [port({ containerPort: 70000 })] })]),
    field: `${P}.ports[0].containerPort`,
  },
  {
    why: "servicePort 65536",
    spec: spec({}, [web({ ports: [port({ servicePort: 65536 })] })]),
    field: `${P}.ports[0].servicePort`,
  },
  {
    why: "minReplicas above maxReplicas",
    spec: spec({}, [{ name: "web", autoscale: { minReplicas: 5, maxReplicas: 2 } }]),
    field: `${P}.autoscale.minReplicas`,
  },
  {
    why: "CPU target above 100 %",
    spec: spec({}, [
      { name: "web", autoscale: { maxReplicas: 2, targetCPUUtilizationPercentage: 150 } },
    ]),
    field: `${P}.autoscale.targetCPUUtilizationPercentage`,
  },
  {
    why: "replicas and autoscale together",
    spec: spec({}, [web({ autoscale: { maxReplicas: 3 } })]),
    field: `${P}.replicas`,
  },
  {
    why: "maxPodLifetime under a minute",
    spec: spec({ maxPodLifetime: "30s" }),
    field: "spec.maxPodLifetime",
  },
  {
    why: "a zero sizeLimit",
    spec: spec({ scratch: [scratch({ sizeLimit: "0" })] }),
    field: "spec.scratch[0].sizeLimit",
  },
  {
    why: "a negative sizeLimit",
    spec: spec({ scratch: [scratch({ sizeLimit: "-1Gi" })] }),
    field: "spec.scratch[0].sizeLimit",
  },
  // Duplicate names and values.
  {
    why: "two processes named web",
    spec: spec({}, [web(), web({ replicas: 2 })]),
    field: "spec.processes",
  },
  {
    why: "two ports on one containerPort",
    spec: spec({}, [web({ ports: [port(), port({ name: "admin" })] })]),
    field: `${P}.ports`,
  },
  {
    why: "two ports named http",
    spec: spec({}, [web({ ports: [port(), port({ containerPort: 9090 })] })]),
    field: `${P}.ports`,
  },
  {
    why: "two scratch volumes on one path",
    spec: spec({ scratch: [scratch(), scratch({ name: "tmp2" })] }),
    field: "spec.scratch",
  },
  {
    why: "two bindings named cache",
    spec: spec({ backingServices: [binding(), binding({ type: "memcached" })] }),
    field: "spec.backingServices",
  },
  {
    why: "two env vars named FOO",
    spec: spec({
      env: [
        { name: "FOO", value: "1" },
        { name: "FOO", value: "2" },
      ],
    }),
    field: "spec.env",
  },
  // Oversized strings.
  {
    why: "a 1025-character image",
    spec: spec({ image: `registry.example.com/${"a".repeat(1004)}` }),
    field: "spec.image",
  },
  {
    why: "a 64-character process name",
    spec: spec({}, [web({ name: "w".repeat(64) })]),
    field: `${P}.name`,
  },
  {
    why: "a 16-character port name",
    spec: spec({}, [web({ ports: [port({ name: "p".repeat(16) })] })]),
    field: `${P}.ports[0].name`,
  },
  {
    why: "a 4097-character argument",
    spec: spec({}, [web({ args: ["x".repeat(4097)] })]),
    field: `${P}.args[0]`,
  },
  {
    why: "a 254-character Secret name",
    spec: spec({ backingServices: [binding({ secretRef: { name: "s".repeat(254) } })] }),
    field: "spec.backingServices[0].secretRef.name",
  },
  {
    why: "a 51-character scratch name",
    spec: spec({ scratch: [scratch({ name: "s".repeat(51) })] }),
    field: "spec.scratch[0].name",
  },
  // Invalid formats, quantities and durations.
  {
    why: "a process name that is no DNS label",
    spec: spec({}, [web({ name: "Web_1" })]),
    field: `${P}.name`,
  },
  { why: "an image with a space", spec: spec({ image: "shop 1.0" }), field: "spec.image" },
  {
    why: "sizeLimit 'lots'",
    spec: spec({ scratch: [scratch({ sizeLimit: "lots" })] }),
    field: "spec.scratch[0].sizeLimit",
  },
  {
    why: "sizeLimit 64MB",
    spec: spec({ scratch: [scratch({ sizeLimit: "64MB" })] }),
    field: "spec.scratch[0].sizeLimit",
  },
  {
    why: "a CPU limit that is no quantity",
    spec: spec({}, [web({ resources: { limits: { cpu: "lots" } } })]),
    field: `${P}.resources.limits`,
  },
  {
    why: "maxPodLifetime 'forever'",
    spec: spec({ maxPodLifetime: "forever" }),
    field: "spec.maxPodLifetime",
  },
  {
    why: "maxPodLifetime in days",
    spec: spec({ maxPodLifetime: "1d" }),
    field: "spec.maxPodLifetime",
  },
  {
    why: "a relative mountPath",
    spec: spec({ scratch: [scratch({ mountPath: "tmp" })] }),
    field: "spec.scratch[0].mountPath",
  },
  {
    why: "a mountPath under /bindings",
    spec: spec({ scratch: [scratch({ mountPath: "/bindings/x" })] }),
    // The binding root is spec.bindingRoot: the rule is the spec's, and names the list.
    field: "spec.scratch",
  },
  {
    why: "a request above its limit (the API server used to admit it, then refuse the Deployment)",
    spec: spec({}, [web({ resources: { requests: { cpu: "2" }, limits: { cpu: "1" } } })]),
    field: `${P}.resources.requests`,
  },
  {
    why: "a mountPath with '..'",
    spec: spec({ scratch: [scratch({ mountPath: "/tmp/../etc" })] }),
    field: "spec.scratch[0].mountPath",
  },
  {
    why: "scratch medium Disk",
    spec: spec({ scratch: [scratch({ medium: "Disk" })] }),
    field: "spec.scratch[0].medium",
  },
  {
    why: "a postgres binding",
    spec: spec({ backingServices: [binding({ type: "postgres" })] }),
    field: "spec.backingServices[0].type",
  },
  {
    why: "protocol HTTP",
    spec: spec({}, [web({ ports: [port({ protocol: "HTTP" })] })]),
    field: `${P}.ports[0].protocol`,
  },
  // Unknown fields (strict field validation).
  { why: "replicas at the spec level", spec: spec({ replicas: 3 }), field: "spec.replicas" },
  { why: "an image per process", spec: spec({}, [web({ image: "other:1" })]), field: `${P}.image` },
  { why: "Image with a capital I", spec: spec({ Image: "x:1" }), field: "spec.Image" },
  {
    why: "scratch size instead of sizeLimit",
    spec: spec({ scratch: [scratch({ size: "1Gi" })] }),
    field: "spec.scratch[0].size",
  },
  // Huge lists.
  {
    why: "17 process types",
    spec: spec(
      {},
      times(17, (i) => web({ name: `p${i}` })),
    ),
    field: "spec.processes",
  },
  {
    why: "257 arguments",
    spec: spec({}, [web({ args: times(257, (i) => `a${i}`) })]),
    field: `${P}.args`,
  },
  {
    why: "65 command words",
    spec: spec({}, [web({ command: times(65, (i) => `c${i}`) })]),
    field: `${P}.command`,
  },
  {
    why: "17 ports",
    spec: spec({}, [
      web({ ports: times(17, (i) => port({ name: `p${i}`, containerPort: 8000 + i })) }),
    ]),
    field: `${P}.ports`,
  },
  {
    why: "9 scratch volumes",
    spec: spec({ scratch: times(9, (i) => scratch({ name: `s${i}`, mountPath: `/s${i}` })) }),
    field: "spec.scratch",
  },
  {
    why: "17 bindings",
    spec: spec({ backingServices: times(17, (i) => binding({ name: `b${i}` })) }),
    field: "spec.backingServices",
  },
  {
    why: "257 env vars",
    spec: spec({ env: times(257, (i) => ({ name: `V${i}`, value: "x" })) }),
    field: "spec.env",
  },
];

/** The corpus, each case named `bad-NN`, and one whose name is the problem. */
export const badInputs: readonly BadInput[] = [
  ...cases.map((c, i) => ({ ...c, name: `bad-${String(i).padStart(2, "0")}` })),
  {
    // 253 characters may name a custom object, but the children `<app>-<process>` are Services
    // and label values: at most 63.
    name: `bad-long-${"n".repeat(60)}`,
    why: "an app name too long for its children's names",
    spec: spec(),
    field: "metadata.name",
  },
];
