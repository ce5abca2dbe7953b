// Projects backing-service bindings into a pod template: a read-only Secret volume and env by secretKeyRef.
import type { V1EnvVar, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import { type BackingService, SERVICE_BINDING_ROOT, type StatelessApp } from "../../api/index.ts";
import { normalizedSecretName } from "../bindings/index.ts";

export const SERVICE_BINDING_ROOT_ENV = "SERVICE_BINDING_ROOT";

/** A note for the app's Events: the render made a choice the user should know about. */
export interface RenderWarning {
  readonly reason: string;
  readonly message: string;
}

export interface BindingProjection {
  readonly volumes: V1Volume[];
  readonly mounts: V1VolumeMount[];
  /** Env entries the operator adds; user env with the same name wins. */
  readonly env: V1EnvVar[];
}

export const bindingVolumeName = (binding: BackingService): string => `binding-${binding.name}`;

/** `sessions-cache` → `SESSIONS_CACHE`: the prefix of a binding's env variables. */
export const envPrefix = (bindingName: string): string =>
  bindingName.toUpperCase().replaceAll("-", "_");

/** Per binding: the env name suffix and the normalized Secret key it reads. */
const ENTRY_ENV: Record<BackingService["type"], readonly (readonly [string, string, boolean])[]> = {
  redis: [
    ["HOST", "host", false],
    ["PORT", "port", false],
    ["URL", "uri", false],
    ["USERNAME", "username", true],
    ["PASSWORD", "password", true],
  ],
  memcached: [
    ["HOST", "host", false],
    ["PORT", "port", false],
    ["URL", "uri", false],
    ["SERVERS", "servers", false],
    ["USERNAME", "username", true],
    ["PASSWORD", "password", true],
  ],
};

/** The alias an app with exactly one binding of a type also gets. */
const TYPE_ALIAS: Record<BackingService["type"], readonly [string, string]> = {
  redis: ["REDIS_URL", "uri"],
  memcached: ["MEMCACHED_SERVERS", "servers"],
};

const secretEnv = (name: string, secretName: string, key: string, optional: boolean): V1EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: secretName, key, ...(optional ? { optional: true } : {}) } },
});

/** The binding root the processes see: the user's literal SERVICE_BINDING_ROOT, else /bindings. */
export function bindingRoot(userEnv: readonly V1EnvVar[]): string {
  const set = userEnv.find((e) => e.name === SERVICE_BINDING_ROOT_ENV);
  const value = set?.value;
  return value?.startsWith("/") ? value.replace(/\/+$/, "") : SERVICE_BINDING_ROOT;
}

export function projectBindings(
  app: StatelessApp,
  userEnv: readonly V1EnvVar[],
): BindingProjection {
  const bindings = app.spec.backingServices ?? [];
  const root = bindingRoot(userEnv);
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  const env: V1EnvVar[] = [];
  if (!userEnv.some((e) => e.name === SERVICE_BINDING_ROOT_ENV))
    env.push({ name: SERVICE_BINDING_ROOT_ENV, value: root });
  for (const binding of bindings) {
    const secretName = normalizedSecretName(app.metadata.name, binding.name);
    volumes.push({ name: bindingVolumeName(binding), secret: { secretName } });
    mounts.push({
      name: bindingVolumeName(binding),
      mountPath: `${root}/${binding.name}`,
      readOnly: true,
    });
    const prefix = envPrefix(binding.name);
    for (const [suffix, key, optional] of ENTRY_ENV[binding.type]) {
      env.push(secretEnv(`${prefix}_${suffix}`, secretName, key, optional));
    }
  }
  for (const type of ["redis", "memcached"] as const) {
    const ofType = bindings.filter((b) => b.type === type);
    const [only] = ofType;
    if (ofType.length !== 1 || only === undefined) continue;
    const [alias, key] = TYPE_ALIAS[type];
    env.push(secretEnv(alias, normalizedSecretName(app.metadata.name, only.name), key, false));
  }
  return { volumes, mounts, env: env.filter((e) => !userEnv.some((u) => u.name === e.name)) };
}

/** Warnings for operator-provided env names the user's env shadows. */
export function shadowedBindingEnv(
  app: StatelessApp,
  userEnv: readonly V1EnvVar[],
): RenderWarning[] {
  const all = projectBindings(app, []).env.map((e) => e.name);
  return all
    .filter((name) => name !== SERVICE_BINDING_ROOT_ENV && userEnv.some((u) => u.name === name))
    .map((name) => ({
      reason: "BindingEnvShadowed",
      message: `env ${name} is set in the spec, so the binding's value for it is not injected`,
    }));
}
