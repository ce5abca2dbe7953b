// TF-PROC-010: an emptyDir without a sizeLimit, scratch space that can grow into a store.
import { isPlatformOwned } from "./injectors.ts";
import { hasField, objectAt, stringAt } from "./json.ts";
import { celVolumesWhere, podVolumes } from "./pod-volumes.ts";
import { POD_TEMPLATES, type Rule } from "./rule.ts";

export const unboundedEmptyDir: Rule = {
  id: "TF-PROC-010",
  title: "emptyDir without sizeLimit",
  severity: "error",
  why:
    "Local disk is a single-transaction scratch cache. Without a sizeLimit an emptyDir grows " +
    "without bound, which is how a cache quietly becomes a store the process depends on (and " +
    "how one pod fills a node's disk, or its memory with medium: Memory).",
  fix:
    "Set emptyDir.sizeLimit to what one transaction needs (for medium: Memory it also counts " +
    "against the container's memory limit).",
  targets: POD_TEMPLATES,
  check: ({ template }) =>
    podVolumes(template).flatMap((v) => {
      const emptyDir = objectAt(v.volume, "emptyDir");
      if (emptyDir === undefined || hasField(emptyDir, "sizeLimit")) return [];
      // A mesh or secret injector's own scratch volume (see injectors.ts).
      if (isPlatformOwned("emptyDirs", v.name, template?.metadata)) return [];
      const medium = stringAt(emptyDir, "medium") === "Memory" ? "in-memory " : "";
      return [
        {
          path: [...v.path, "emptyDir", "sizeLimit"],
          message: `${medium}emptyDir "${v.name}" has no sizeLimit`,
        },
      ];
    }),
  cel: [
    {
      targets: POD_TEMPLATES,
      paths: celVolumesWhere(
        "has(v.emptyDir) && !has(v.emptyDir.sizeLimit) && !variables.platformVolumes.exists(p, v.?name.orValue('').matches(p))",
        ".emptyDir.sizeLimit",
      ),
    },
  ],
};
