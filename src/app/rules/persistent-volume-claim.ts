// TF-PROC-007: a persistent volume claim, durable disk attached to a process.
import { celIndexed } from "./cel.ts";
import { objectAt, stringAt, valueAt } from "./json.ts";
import { celVolumesWhere, volumesWith } from "./pod-volumes.ts";
import { POD_TEMPLATES, type Rule, type RuleInput, type Violation } from "./rule.ts";

/** The claim templates of a kind that has them (StatefulSet, CloneSet). */
function claimTemplates({ object, template }: RuleInput): Violation[] {
  const path = template?.kind.volumeClaimTemplates;
  if (path === undefined) return [];
  const list = valueAt(object, path);
  if (!Array.isArray(list)) return [];
  return list.map((claim, i) => ({
    path: [...path, i],
    message: `volume claim template "${stringAt(objectAt(claim, "metadata"), "name") ?? i}" gives each pod its own durable disk`,
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
  targets: POD_TEMPLATES,
  check: (input) => [
    ...volumesWith(input, "persistentVolumeClaim", (v) => {
      const claim = stringAt(objectAt(v.volume, "persistentVolumeClaim"), "claimName");
      return `volume "${v.name}" mounts the persistent volume claim ${claim ?? ""}`.trimEnd();
    }),
    ...claimTemplates(input),
  ],
  cel: [
    {
      targets: POD_TEMPLATES,
      paths: `${pvcPaths} + variables.claimTemplates.transformList(i, t, ${celIndexed("variables.claimTemplatesPath", "i")})`,
    },
  ],
};
