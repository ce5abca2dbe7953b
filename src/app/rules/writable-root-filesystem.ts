// TF-PROC-011: a container whose root filesystem is writable, or a Windows pod, which cannot have one.
import { celIndexed, celString } from "./cel.ts";
import { isPlatformOwned } from "./injectors.ts";
import { listAt, objectAt, stringAt } from "./json.ts";
import { POD_TEMPLATES, type Rule, type Violation } from "./rule.ts";

/**
 * The container lists of a pod. Ephemeral containers are checked too: the API server only
 * takes them through the `pods/ephemeralcontainers` subresource, which the policies match, and
 * a container added there can run anything (an injector never adds one, so none is exempt).
 */
const containerLists = ["containers", "initContainers", "ephemeralContainers"] as const;
type ContainerList = (typeof containerLists)[number];

const what: Record<ContainerList, string> = {
  containers: "container",
  initContainers: "init container",
  ephemeralContainers: "ephemeral container",
};

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
    "Assets belong in the image at build time; scratch space belongs in a bounded emptyDir. " +
    "Windows containers cannot mount their root filesystem read-only at all.",
  fix:
    "Set securityContext.readOnlyRootFilesystem: true on every container (the pod-level " +
    "securityContext has no such field) and mount a bounded emptyDir where the process " +
    "needs scratch space. For a Windows pod, an admin's exemption of TF-PROC-011 is the way.",
  targets: POD_TEMPLATES,
  check: ({ template }) => {
    if (template === undefined) return [];
    // The API server refuses readOnlyRootFilesystem on Windows pods: nothing can be verified.
    if (stringAt(objectAt(template.spec, "os"), "name") === "windows")
      return [
        {
          path: [...template.specPath, "os", "name"],
          message: "a Windows pod's containers cannot have a read-only root filesystem",
        },
      ];
    const violations: Violation[] = [];
    for (const list of containerLists) {
      for (const [i, container] of listAt(template.spec, list).entries()) {
        if (isReadOnly(container)) continue;
        const name = stringAt(container, "name") ?? `#${i}`;
        if (
          list !== "ephemeralContainers" &&
          isPlatformOwned("containers", name, template.metadata)
        )
          continue;
        violations.push({
          path: [...template.specPath, list, i, "securityContext", "readOnlyRootFilesystem"],
          message: `${what[list]} "${name}" can write to its root filesystem`,
        });
      }
    }
    return violations;
  },
  cel: [
    {
      targets: POD_TEMPLATES,
      paths: [
        `variables.podSpec.?os.?name.orValue('') == 'windows' ? [variables.podSpecPath + ${celString(".os.name")}] :`,
        containerLists
          .map((list) => {
            const platform =
              list === "ephemeralContainers"
                ? ""
                : " && !variables.platformContainers.exists(p, c.?name.orValue('').matches(p))";
            return `variables.podSpec.?${list}.orValue([]).transformList(i, c, c.?securityContext.?readOnlyRootFilesystem.orValue(false) != true${platform}, ${celIndexed(`variables.podSpecPath + '.${list}'`, "i", ".securityContext.readOnlyRootFilesystem")})`;
          })
          .join(" +\n"),
      ].join("\n"),
    },
  ],
};
