// Scratch space: bounded emptyDir volumes, the only writable paths a process has.
import type { V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { ScratchVolume, StatelessApp } from "../../api/index.ts";
import { sumQuantities } from "./quantity.ts";

export const scratchVolumeName = (scratch: ScratchVolume): string => `scratch-${scratch.name}`;

export function scratchVolumes(app: StatelessApp): {
  volumes: V1Volume[];
  mounts: V1VolumeMount[];
} {
  const scratch = app.spec.scratch ?? [];
  return {
    volumes: scratch.map((s) => ({
      name: scratchVolumeName(s),
      emptyDir: { ...(s.medium ? { medium: s.medium } : {}), sizeLimit: s.sizeLimit },
    })),
    mounts: scratch.map((s) => ({ name: scratchVolumeName(s), mountPath: s.mountPath })),
  };
}

/**
 * The ephemeral-storage a process may use on node disk, in nano-units: the sum of its disk-backed
 * scratch (memory-backed scratch counts against the memory limit instead). Undefined without disk
 * scratch.
 */
export function diskScratch(app: StatelessApp): bigint | undefined {
  const disk = (app.spec.scratch ?? []).filter((s) => !s.medium);
  return disk.length === 0 ? undefined : sumQuantities(disk.map((s) => s.sizeLimit));
}
