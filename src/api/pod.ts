// Pod settings a StatelessApp may carry (core/v1 field names): scheduling, identity, users, labels; nothing that breaks the processes rule.
import { z } from "zod";
import { celList, namedList } from "./core.ts";
import { celMatches, LABEL_VALUE, objectName, QUALIFIED_NAME, text } from "./formats.ts";
import { GROUP } from "./group.ts";
import { type CrossFieldRule, withRules } from "./rules.ts";

/** The labels the operator sets on every pod and selects them by: never the user's. */
export const OPERATOR_LABELS = [
  "app.kubernetes.io/name",
  "app.kubernetes.io/instance",
  "app.kubernetes.io/component",
  "app.kubernetes.io/managed-by",
] as const;

/** Keys in the operator's own domain (the bindings hash, exemptions): never the user's. */
const OPERATOR_PREFIX = `${GROUP}/`;

/** The longest label key: a 253-character DNS-subdomain prefix, '/', a 63-character name. */
const MAX_KEY_LENGTH = 317;
const isKey = (k: string) => QUALIFIED_NAME.test(k) && (!k.includes("/") || k.indexOf("/") <= 253);
const CEL_IS_KEY = `${celMatches("k", QUALIFIED_NAME)} && (!k.contains('/') || k.indexOf('/') <= 253)`;

const qualifiedName = (description: string) =>
  text(description, { min: 1, max: MAX_KEY_LENGTH, format: QUALIFIED_NAME });
const labelValue = (description: string) => text(description, { max: 63, format: LABEL_VALUE });

/** A map whose keys are label keys (the CRD cannot bound a key: CEL checks it). */
function keyedMap<V extends z.ZodType>(
  value: V,
  description: string,
  maxProperties: number,
  extra: readonly CrossFieldRule<Record<string, z.output<V> | undefined>>[] = [],
) {
  return withRules(
    // A null value is pruned by the API server: absent, here too.
    z.record(z.string(), value.optional()).meta({ description, maxProperties }),
    [
      {
        cel: `self.all(k, ${CEL_IS_KEY})`,
        message: `keys ${QUALIFIED_NAME.message}`,
        find: (v) => {
          const bad = Object.keys(v).find((k) => !isKey(k));
          return bad === undefined ? undefined : [bad];
        },
      },
      ...extra,
    ],
  );
}

const notOperatorKey = (
  what: string,
  reserved: readonly string[],
): CrossFieldRule<Record<string, unknown>> => ({
  cel: `self.all(k, !(k in ${celList(reserved)}) && !k.startsWith('${OPERATOR_PREFIX}'))`,
  message: `${what} must not set the operator's own keys (${[...reserved, `${OPERATOR_PREFIX}*`].join(", ")})`,
  find: (v) => {
    const bad = Object.keys(v).find((k) => reserved.includes(k) || k.startsWith(OPERATOR_PREFIX));
    return bad === undefined ? undefined : [bad];
  },
});

const labelSelectorOperators = ["In", "NotIn", "Exists", "DoesNotExist"] as const;
const nodeSelectorOperators = [...labelSelectorOperators, "Gt", "Lt"] as const;

/** A requirement's values as its operator needs them: some for In/NotIn, none for Exists/DoesNotExist, one integer for Gt/Lt. */
const valuesRule: CrossFieldRule<{ operator: string; values?: readonly string[] | undefined }> = {
  cel: "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : self.operator in ['Exists', 'DoesNotExist'] ? !has(self.values) || size(self.values) == 0 : has(self.values) && size(self.values) == 1 && self.values[0].matches(r'^[-+]?[0-9]{1,18}$')",
  message:
    "values must be non-empty for In and NotIn, empty for Exists and DoesNotExist, and one integer for Gt and Lt",
  fieldPath: ".values",
  find: (v) => {
    const n = v.values?.length ?? 0;
    const ok = ["In", "NotIn"].includes(v.operator)
      ? n > 0
      : ["Exists", "DoesNotExist"].includes(v.operator)
        ? n === 0
        : n === 1 && /^[-+]?[0-9]{1,18}$/.test(v.values?.[0] ?? "");
    return ok ? undefined : ["values"];
  },
};

const requirement = <O extends readonly [string, ...string[]]>(operators: O, what: string) =>
  withRules(
    z.strictObject({
      key: qualifiedName(`The ${what} label key.`),
      operator: z
        .enum(operators)
        .describe(`How the key relates to values: ${operators.join(", ")}.`),
      values: z
        .array(labelValue("A label value."))
        .max(8)
        .optional()
        .describe("Values; see operator."),
    }),
    [valuesRule],
  ).describe(`A requirement on a ${what}'s labels.`);

const labelSelector = z
  .strictObject({
    matchLabels: keyedMap(labelValue("A label value."), "Labels the pods must have.", 8),
    matchExpressions: z
      .array(requirement(labelSelectorOperators, "pod"))
      .max(8)
      .optional()
      .describe("Requirements the pods' labels must meet."),
  })
  .partial()
  .describe("Selects pods of the app's namespace by label (core/v1 LabelSelector).");

const nodeSelectorTerm = z
  .strictObject({
    matchExpressions: z
      .array(requirement(nodeSelectorOperators, "node"))
      .max(8)
      .optional()
      .describe("Requirements on the node's labels."),
    matchFields: z
      .array(
        z.strictObject({
          key: z.enum(["metadata.name"]).describe("The node field: metadata.name."),
          operator: z.enum(["In", "NotIn"]).describe("In or NotIn."),
          values: z.array(objectName("A node name.")).min(1).max(1).describe("One node name."),
        }),
      )
      .max(1)
      .optional()
      .describe("Requirements on the node's fields."),
  })
  .describe("Nodes that meet every requirement (core/v1 NodeSelectorTerm).");

const weight = z.int().min(1).max(100).describe("Weight of the preference, 1–100.");

const podAffinityTerm = z
  .strictObject({
    labelSelector: labelSelector.optional(),
    topologyKey: qualifiedName(
      "Node label whose value is the domain, e.g. kubernetes.io/hostname or topology.kubernetes.io/zone.",
    ),
  })
  .describe(
    "Pods of the app's namespace (never another's: a tenant cannot place itself by others' pods) in one topology domain.",
  );

const podAffinity = (what: string) =>
  z
    .strictObject({
      requiredDuringSchedulingIgnoredDuringExecution: z
        .array(podAffinityTerm)
        .max(4)
        .optional()
        .describe(`Terms every pod must meet: ${what}.`),
      preferredDuringSchedulingIgnoredDuringExecution: z
        .array(z.strictObject({ weight, podAffinityTerm }))
        .max(4)
        .optional()
        .describe(`Terms the scheduler prefers: ${what}.`),
    })
    .describe(
      `Place the pods ${what} (core/v1 ${what === "near" ? "PodAffinity" : "PodAntiAffinity"}).`,
    );

const affinity = z
  .strictObject({
    nodeAffinity: z
      .strictObject({
        requiredDuringSchedulingIgnoredDuringExecution: z
          .strictObject({
            nodeSelectorTerms: z
              .array(nodeSelectorTerm)
              .min(1)
              .max(4)
              .describe("Terms, any of which a node must meet."),
          })
          .optional()
          .describe("Nodes the pods must run on."),
        preferredDuringSchedulingIgnoredDuringExecution: z
          .array(z.strictObject({ weight, preference: nodeSelectorTerm }))
          .max(4)
          .optional()
          .describe("Nodes the scheduler prefers."),
      })
      .optional()
      .describe("Which nodes the pods run on (core/v1 NodeAffinity)."),
    podAffinity: podAffinity("near").optional(),
    podAntiAffinity: podAffinity("apart from").optional(),
  })
  .describe("Scheduling constraints (core/v1 Affinity); each kind replaces the shared one.");

const toleration = withRules(
  z.strictObject({
    key: qualifiedName("Taint key; empty with operator Exists tolerates every taint.").optional(),
    operator: z
      .enum(["Exists", "Equal"])
      .optional()
      .describe("Exists (any value) or Equal. @default Equal"),
    value: labelValue("Taint value; empty with operator Exists.").optional(),
    effect: z
      .enum(["NoSchedule", "PreferNoSchedule", "NoExecute"])
      .optional()
      .describe("Taint effect to tolerate. @default every effect"),
    tolerationSeconds: z
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .optional()
      .describe("How long a NoExecute taint is tolerated. @default forever"),
  }),
  [
    {
      cel: "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''",
      message: "value must be empty when operator is Exists",
      fieldPath: ".value",
      find: (v) => (v.operator === "Exists" && (v.value ?? "") !== "" ? ["value"] : undefined),
    },
    {
      cel: "has(self.key) || has(self.operator) && self.operator == 'Exists'",
      message: "operator must be Exists when key is empty",
      fieldPath: ".operator",
      find: (v) => (v.key !== undefined || v.operator === "Exists" ? undefined : ["operator"]),
    },
    {
      cel: "!has(self.tolerationSeconds) || has(self.effect) && self.effect == 'NoExecute'",
      message: "tolerationSeconds needs effect NoExecute",
      fieldPath: ".tolerationSeconds",
      find: (v) =>
        v.tolerationSeconds === undefined || v.effect === "NoExecute"
          ? undefined
          : ["tolerationSeconds"],
    },
  ],
).describe("A taint the pods tolerate (core/v1 Toleration).");

const spreadConstraint = withRules(
  z.strictObject({
    maxSkew: z.int().min(1).max(1000).describe("Most pods one domain may have over another."),
    topologyKey: qualifiedName(
      "Node label whose value is the domain, e.g. kubernetes.io/hostname.",
    ),
    whenUnsatisfiable: z
      .enum(["DoNotSchedule", "ScheduleAnyway"])
      .describe("DoNotSchedule (a hard rule) or ScheduleAnyway (a preference)."),
    labelSelector: labelSelector
      .optional()
      .describe("Pods counted. @default this process type's pods"),
    minDomains: z
      .int()
      .min(1)
      .max(1000)
      .optional()
      .describe("Fewest eligible domains; only with DoNotSchedule."),
    nodeAffinityPolicy: z
      .enum(["Honor", "Ignore"])
      .optional()
      .describe("Whether nodeAffinity and nodeSelector limit the domains. @default Honor"),
    nodeTaintsPolicy: z
      .enum(["Honor", "Ignore"])
      .optional()
      .describe("Whether taints limit the domains. @default Ignore"),
  }),
  [
    {
      cel: "!has(self.minDomains) || self.whenUnsatisfiable == 'DoNotSchedule'",
      message: "minDomains needs whenUnsatisfiable DoNotSchedule",
      fieldPath: ".minDomains",
      find: (v) =>
        v.minDomains === undefined || v.whenUnsatisfiable === "DoNotSchedule"
          ? undefined
          : ["minDomains"],
    },
  ],
).describe("How the pods spread over a topology (core/v1 TopologySpreadConstraint).");

type SpreadConstraint = z.output<typeof spreadConstraint>;

const securityContext = withRules(
  z.strictObject({
    runAsUser: z
      .int()
      .min(0)
      .max(2147483647)
      .optional()
      .describe(
        "User the processes run as, for an image whose USER is a name (node, nobody): not 0. @default the image's USER (numeric, not root)",
      ),
    runAsGroup: z
      .int()
      .min(0)
      .max(2147483647)
      .optional()
      .describe("Primary group of the processes. @default the image's"),
    fsGroup: z
      .int()
      .min(0)
      .max(2147483647)
      .optional()
      .describe("Group that owns the mounted volumes (scratch, bindings, config)."),
    supplementalGroups: z
      .array(z.int().min(0).max(2147483647))
      .max(32)
      .optional()
      .describe("More groups of the processes."),
    runAsNonRoot: z
      .boolean()
      .optional()
      .describe("Always true: the operator sets it; false is refused. @default true"),
  }),
  [
    {
      cel: "!has(self.runAsUser) || self.runAsUser != 0",
      message: "runAsUser must not be 0: processes never run as root",
      fieldPath: ".runAsUser",
      find: (v) => (v.runAsUser === 0 ? ["runAsUser"] : undefined),
    },
    {
      cel: "!has(self.runAsNonRoot) || self.runAsNonRoot",
      message: "runAsNonRoot must not be false: processes never run as root",
      fieldPath: ".runAsNonRoot",
      find: (v) => (v.runAsNonRoot === false ? ["runAsNonRoot"] : undefined),
    },
  ],
).describe("Users and groups of the processes (core/v1 PodSecurityContext, in part).");

const podMetadata = z
  .strictObject({
    labels: keyedMap(
      labelValue("A label value."),
      "Labels of the pods, e.g. for cost reports.",
      32,
      [notOperatorKey("labels", OPERATOR_LABELS)],
    ),
    annotations: keyedMap(
      text("An annotation value.", { max: 4096 }),
      "Annotations of the pods, e.g. prometheus.io/scrape.",
      32,
      [notOperatorKey("annotations", [])],
    ),
  })
  .partial()
  .describe("Labels and annotations of the pods (the pod template's, not the Deployment's).");

/** The pod settings; in spec.processes[].pod each field replaces (maps: each key replaces) spec.pod's. */
export const podSettings = withRules(
  z
    .strictObject({
      metadata: podMetadata,
      imagePullSecrets: namedList(
        z.strictObject({
          name: objectName("Name of a docker-registry Secret in the app's namespace."),
        }),
        16,
        "Secrets to pull the image with, from a private registry.",
      ),
      serviceAccountName: objectName(
        "Service account of the pods, in the app's namespace (workload identity, RBAC). @default default",
      ),
      automountServiceAccountToken: z
        .boolean()
        .describe("Mount the service account's token: only when set true. @default false"),
      nodeSelector: keyedMap(labelValue("A label value."), "Node labels the pods require.", 16),
      tolerations: z.array(toleration).max(8).describe("Taints the pods tolerate."),
      affinity,
      topologySpreadConstraints: z
        .array(spreadConstraint)
        .max(4)
        .describe(
          "How the pods spread; [] for none. @default across kubernetes.io/hostname (ScheduleAnyway) when a process type may have more than one pod",
        ),
      priorityClassName: withRules(
        objectName(
          "PriorityClass of the pods; not a system- class. @default the cluster's default",
        ),
        [
          {
            cel: "!self.startsWith('system-')",
            message:
              "priorityClassName must not be a system- class: those are for the cluster's own components",
            find: (v) => (v.startsWith("system-") ? [] : undefined),
          },
        ],
      ),
      terminationGracePeriodSeconds: z
        .int()
        .min(1)
        .max(86400)
        .describe("Seconds from SIGTERM to SIGKILL (the preStop hook counts). @default 30"),
      securityContext,
    })
    .partial(),
  [
    {
      cel: "!has(self.topologySpreadConstraints) || self.topologySpreadConstraints.all(p, self.topologySpreadConstraints.filter(q, q.topologyKey == p.topologyKey && q.whenUnsatisfiable == p.whenUnsatisfiable).size() == 1)",
      message:
        "topologySpreadConstraints must not repeat a topologyKey with the same whenUnsatisfiable",
      fieldPath: ".topologySpreadConstraints",
      find: (v) => {
        const seen = new Set<string>();
        for (const [i, c] of (v.topologySpreadConstraints ?? []).entries()) {
          const k = `${c.topologyKey}\n${c.whenUnsatisfiable}`;
          if (seen.has(k)) return ["topologySpreadConstraints", i];
          seen.add(k);
        }
        return undefined;
      },
    },
  ],
).describe(
  "Pod settings (core/v1 names): scheduling, identity, users, labels. Nothing here can break the processes rule: no volumes, host namespaces or privilege.",
);

export type PodSettings = z.output<typeof podSettings>;
export type { SpreadConstraint };
