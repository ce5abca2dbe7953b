// Config files: ConfigMaps and Secrets mounted read-only, and envFrom sources.
import type { V1EnvFromSource, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { ConfigVolume, Process, StatelessApp } from "../../api/index.ts";

export const configVolumeName = (config: ConfigVolume): string => `config-${config.name}`;

export function configVolumes(app: StatelessApp): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const config = app.spec.config ?? [];
  return {
    volumes: config.map((c) => {
      const items = (c.configMap ?? c.secret)?.items?.map((i) => ({ key: i.key, path: i.path }));
      const files = items === undefined ? {} : { items };
      return c.configMap !== undefined
        ? { name: configVolumeName(c), configMap: { name: c.configMap.name, ...files } }
        : { name: configVolumeName(c), secret: { secretName: c.secret?.name ?? "", ...files } };
    }),
    // Config, not state: the process reads it and never writes.
    mounts: config.map((c) => ({
      name: configVolumeName(c),
      mountPath: c.mountPath,
      readOnly: true,
    })),
  };
}

/** The app's envFrom sources, then the process's: a later source wins a duplicate key. */
export function envFromFor(app: StatelessApp, proc: Process): V1EnvFromSource[] {
  return [...(app.spec.envFrom ?? []), ...(proc.envFrom ?? [])].map((s) => ({
    ...(s.prefix === undefined ? {} : { prefix: s.prefix }),
    ...(s.configMapRef === undefined ? {} : { configMapRef: { ...s.configMapRef } }),
    ...(s.secretRef === undefined ? {} : { secretRef: { ...s.secretRef } }),
  }));
}
