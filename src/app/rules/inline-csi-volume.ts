// TF-PROC-015: an inline CSI volume from a driver that is not known to only deliver secrets.
import { celStrings } from "./cel.ts";
import { objectAt, stringAt } from "./json.ts";
import { celVolumesWhere, podVolumes } from "./pod-volumes.ts";
import { POD_TEMPLATES, type Rule } from "./rule.ts";

/**
 * CSI drivers whose inline volumes hold only credentials or certificates the driver writes for
 * this one pod. Others mount what the driver makes of its attributes: csi-driver-nfs, Azure
 * Files, EFS and SMB all mount a shared network share inline.
 */
export const secretCsiDrivers = [
  "secrets-store.csi.k8s.io", // Secrets Store CSI Driver (Vault, AWS, Azure, GCP providers)
  "csi.cert-manager.io", // cert-manager csi-driver
  "spiffe.csi.cert-manager.io", // cert-manager csi-driver-spiffe
  "csi.spiffe.io", // SPIFFE CSI driver (SPIRE)
  "workloadcertificates.security.cloud.google.com", // GKE workload certificates (Istio on GKE)
] as const;

export const inlineCsiVolume: Rule = {
  id: "TF-PROC-015",
  title: "inline CSI volume",
  severity: "error",
  why:
    "An inline CSI volume is whatever its driver makes of its attributes: NFS, SMB, Azure " +
    "Files and EFS drivers mount a shared network filesystem inline, which is state the " +
    "processes share behind each other's backs, without a PersistentVolumeClaim to show it.",
  fix:
    "Reach shared data through a backing service with an API; keep inline CSI volumes for " +
    "drivers that deliver secrets or certificates (the list in docs/enforcement.md), or ask an " +
    "admin to exempt TF-PROC-015 for the driver you trust.",
  targets: POD_TEMPLATES,
  check: ({ template }) =>
    podVolumes(template).flatMap((v) => {
      const csi = objectAt(v.volume, "csi");
      if (csi === undefined) return [];
      const driver = stringAt(csi, "driver") ?? "";
      if ((secretCsiDrivers as readonly string[]).includes(driver)) return [];
      return [
        {
          path: [...v.path, "csi", "driver"],
          message: `volume "${v.name}" mounts what CSI driver ${driver || "(none)"} provides`,
        },
      ];
    }),
  cel: [
    {
      targets: POD_TEMPLATES,
      paths: celVolumesWhere(
        `has(v.csi) && !(v.csi.?driver.orValue('') in ${celStrings(secretCsiDrivers)})`,
        ".csi.driver",
      ),
    },
  ],
};
