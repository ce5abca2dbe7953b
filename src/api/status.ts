// The StatelessApp status: kstatus-style conditions, per-process counts, bindings and a summary.
import { z } from "zod";

export const condition = z
  .object({
    type: z
      .string()
      .min(1)
      .max(316)
      .describe("Type of the condition: Ready, Reconciling, Stalled, BindingsReady, Paused."),
    status: z.enum(["True", "False", "Unknown"]).describe("Status of the condition."),
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe("The metadata.generation the condition was set for."),
    lastTransitionTime: z
      .string()
      .meta({ format: "date-time" })
      .describe("When the status last changed."),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
      .describe("A CamelCase machine-readable reason."),
    message: z.string().max(32768).describe("A human-readable explanation."),
  })
  .describe("A metav1.Condition.");

export const processStatus = z
  .object({
    name: z.string().describe("Process type."),
    deployment: z.string().describe("Name of its Deployment."),
    service: z.string().optional().describe("Name of its Service, when it has ports."),
    replicas: z.int().min(0).describe("Processes that exist."),
    readyReplicas: z.int().min(0).describe("Processes that are ready."),
    updatedReplicas: z.int().min(0).describe("Processes running the current spec."),
  })
  .describe("Observed state of one process type.");

export const bindingStatus = z
  .object({
    name: z.string().describe("Binding name."),
    type: z.string().describe("Kind of backing service."),
    secretName: z
      .string()
      .optional()
      .describe("The normalized binding Secret the processes mount."),
    ready: z.boolean().describe("Whether the binding resolved to a usable connection."),
  })
  .describe("Observed state of one backing-service binding.");

/** The longest status.release.lastLogLine (and log line of the ReleaseFailed message), "…" included. */
export const RELEASE_LOG_LINE_MAX = 200;

export const releaseStatus = z
  .object({
    image: z.string().describe("The image the release ran with."),
    job: z.string().describe("Name of its Job."),
    state: z
      .enum(["Running", "Succeeded", "Failed"])
      .describe(
        "Running until the Job succeeds or fails; the Deployments roll only once it succeeded.",
      ),
    lastLogLine: z
      .string()
      .max(RELEASE_LOG_LINE_MAX)
      .optional()
      .describe(
        `A failed release: the last non-empty line of its newest pod's log, as the operator read it once through the API (control characters and terminal escapes removed, at most ${RELEASE_LOG_LINE_MAX} characters). Absent when the log could not be read; the Stalled message then says why.`,
      ),
  })
  .describe("The release phase of the current image and spec.release.");

export const statelessAppStatus = z
  .object({
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe("The metadata.generation this status reflects."),
    conditions: z
      .array(condition)
      .max(16)
      .optional()
      .meta({
        description: "Ready is always present; Reconciling and Stalled only while True.",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
      }),
    processes: z
      .array(processStatus)
      .max(16)
      .optional()
      .meta({
        description: "Per process type.",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
      }),
    bindings: z
      .array(bindingStatus)
      .max(16)
      .optional()
      .meta({
        description: "Per backing service.",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
      }),
    release: releaseStatus.optional(),
    summary: z
      .string()
      .max(1024)
      .optional()
      .describe('Ready processes per type, e.g. "web 2/2, worker 1/1".'),
  })
  .describe("Observed state of a StatelessApp.");

export type Condition = z.output<typeof condition>;
export type ProcessStatus = z.output<typeof processStatus>;
export type ReleaseStatus = z.output<typeof releaseStatus>;
export type BindingStatus = z.output<typeof bindingStatus>;
export type StatelessAppStatus = z.output<typeof statelessAppStatus>;
