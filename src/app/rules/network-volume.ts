// TF-PROC-009: a network or cloud disk mounted directly into the pod.

import { celVolumesWhere, podVolumes } from "./pod-volumes.ts";
import { POD_TEMPLATES, type Rule } from "./rule.ts";

/**
 * Volume sources that mount shared or durable storage: network filesystems shared by every
 * process that mounts them, and cloud disks that outlive the pod.
 */
export const networkVolumeSources = [
  "nfs",
  "iscsi",
  "cephfs",
  "rbd",
  "glusterfs",
  "fc",
  "flexVolume",
  "awsElasticBlockStore",
  "gcePersistentDisk",
  "azureDisk",
  "azureFile",
  "cinder",
  "vsphereVolume",
  "portworxVolume",
] as const;

export const networkVolume: Rule = {
  id: "TF-PROC-009",
  title: "network or cloud disk volume",
  severity: "error",
  why:
    "A network filesystem shared by several pods is state the processes share behind each " +
    "other's backs, and a cloud disk is state that outlives the process; either way the " +
    "processes are no longer share-nothing.",
  fix:
    "Reach shared data through a backing service with an API (a database, object storage) " +
    "instead of a mounted filesystem.",
  targets: POD_TEMPLATES,
  check: (input) =>
    podVolumes(input.template).flatMap((v) =>
      networkVolumeSources
        .filter((source) => v.volume[source] !== undefined && v.volume[source] !== null)
        .map((source) => ({
          path: [...v.path, source],
          message: `volume "${v.name}" mounts ${source} storage`,
        })),
    ),
  cel: [
    {
      targets: POD_TEMPLATES,
      paths: networkVolumeSources
        .map((source) => celVolumesWhere(`has(v.${source})`, `.${source}`))
        .join(" +\n"),
    },
  ],
};
