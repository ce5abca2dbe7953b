// TF-PROC-011: a container whose root filesystem is writable.
import { celIndexed } from "./cel.ts";
import { listAt, objectAt, stringAt } from "./json.ts";
import { locatePodSpec, podTemplateTargets } from "./pod-spec.ts";
import type { Rule, Violation } from "./rule.ts";

/**
 * The container lists a process runs in. Ephemeral containers are left out on purpose: they
 * are a person's `kubectl debug` session, not a process of the app; they cannot be set when
 * a pod is created, and checking them would make every later update of a debugged pod fail.
 */
const containerLists = ["containers", "initContainers"] as const;

function isReadOnly(container: unknown): boolean {
  return objectAt(container, "securityContext")?.readOnlyRootFilesystem === true;
}

export const writableRootFilesystem: Rule = {
  id: "TF-PROC-011",
  title: "writable root filesystem",
  severity: "error",
  why:
    "A writable root filesystem lets a process write files anywhere (uploads, caches, " +
    "compiled assets, session files) that vanish on restart and differ between replicas. " +
    "Assets belong in the image at build time; scratch space belongs in a bounded emptyDir.",
  fix:
    "Set securityContext.readOnlyRootFilesystem: true on every container (the pod-level " +
    "securityContext has no such field) and mount a bounded emptyDir where the process " +
    "needs scratch space.",
  targets: podTemplateTargets,
  check: (object) => {
    const located = locatePodSpec(object);
    // Windows pods may not set readOnlyRootFilesystem at all; the API server rejects it.
    if (located === undefined || stringAt(objectAt(located.spec, "os"), "name") === "windows")
      return [];
    const violations: Violation[] = [];
    for (const list of containerLists) {
      for (const [i, container] of listAt(located.spec, list).entries()) {
        if (isReadOnly(container)) continue;
        const name = stringAt(container, "name") ?? `#${i}`;
        violations.push({
          path: [...located.path, list, i, "securityContext", "readOnlyRootFilesystem"],
          message: `${list === "initContainers" ? "init container" : "container"} "${name}" can write to its root filesystem`,
        });
      }
    }
    return violations;
  },
  cel: [
    {
      targets: podTemplateTargets,
      paths: [
        "variables.podSpec.?os.?name.orValue('') == 'windows' ? [] :",
        containerLists
          .map(
            (list) =>
              `variables.podSpec.?${list}.orValue([]).transformList(i, c, c.?securityContext.?readOnlyRootFilesystem.orValue(false) != true, ${celIndexed(`variables.podSpecPath + '.${list}'`, "i", ".securityContext.readOnlyRootFilesystem")})`,
          )
          .join(" +\n"),
      ].join("\n"),
    },
  ],
};
