// TF-PROC-007: a persistent volume claim, durable disk attached to a process.
import { celIndexed } from "./cel.ts";
import { listAt, objectAt, stringAt } from "./json.ts";
import { podTemplateTargets } from "./pod-spec.ts";
import { celVolumesWhere, volumesWith } from "./pod-volumes.ts";
import type { Rule, Violation } from "./rule.ts";
import { statefulSet, targetOf } from "./targets.ts";

const withoutStatefulSet = podTemplateTargets.filter((t) => t !== statefulSet);

function claimTemplates(object: Parameters<Rule["check"]>[0]): Violation[] {
  if (targetOf(object, [statefulSet]) === undefined) return [];
  return listAt(objectAt(object, "spec"), "volumeClaimTemplates").map((template, i) => ({
    path: ["spec", "volumeClaimTemplates", i],
    message: `volume claim template "${stringAt(objectAt(template, "metadata"), "name") ?? i}" gives each pod its own durable disk`,
  }));
}

const pvcPaths = celVolumesWhere("has(v.persistentVolumeClaim)", ".persistentVolumeClaim");

export const persistentVolumeClaim: Rule = {
  id: "TF-PROC-007",
  title: "persistent volume claim",
  severity: "error",
  why:
    "A persistent volume makes a process remember things across restarts, and pins it to a " +
    "disk (often to one zone); the process is then a database in disguise, not a disposable " +
    "process any of whose siblings could take its place.",
  fix:
    "Keep durable data in a backing service (a managed database, object storage) attached " +
    "by URL and credentials, not mounted as a disk.",
  targets: podTemplateTargets,
  check: (object) => [
    ...volumesWith(object, "persistentVolumeClaim", (v) => {
      const claim = stringAt(objectAt(v.volume, "persistentVolumeClaim"), "claimName");
      return `volume "${v.name}" mounts the persistent volume claim ${claim ?? ""}`.trimEnd();
    }),
    ...claimTemplates(object),
  ],
  cel: [
    { targets: withoutStatefulSet, paths: pvcPaths },
    {
      targets: [statefulSet],
      paths: `${pvcPaths} + object.spec.?volumeClaimTemplates.orValue([]).transformList(i, t, ${celIndexed("'spec.volumeClaimTemplates'", "i")})`,
    },
  ],
};
