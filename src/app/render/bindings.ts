// Projects backing-service bindings into a pod template: a read-only Secret volume and env by secretKeyRef.
import type { V1EnvVar, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import {
  type BackingService,
  bindingEnv,
  SERVICE_BINDING_ROOT,
  SERVICE_BINDING_ROOT_ENV,
  type StatelessApp,
} from "../../api/index.ts";
import { normalizedSecretName } from "../bindings/index.ts";

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

const secretEnv = (name: string, secretName: string, key: string, optional: boolean): V1EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: secretName, key, ...(optional ? { optional: true } : {}) } },
});

/** Where the bindings are mounted: spec.bindingRoot, else /bindings. */
export const bindingRoot = (app: StatelessApp): string =>
  app.spec.bindingRoot ?? SERVICE_BINDING_ROOT;

export function projectBindings(
  app: StatelessApp,
  userEnv: readonly V1EnvVar[],
): BindingProjection {
  const bindings = app.spec.backingServices ?? [];
  const root = bindingRoot(app);
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  const env: V1EnvVar[] = [{ name: SERVICE_BINDING_ROOT_ENV, value: root }];
  for (const binding of bindings) {
    const secretName = normalizedSecretName(app.metadata.name, binding.name);
    volumes.push({ name: bindingVolumeName(binding), secret: { secretName } });
    mounts.push({
      name: bindingVolumeName(binding),
      mountPath: `${root}/${binding.name}`,
      readOnly: true,
    });
  }
  for (const e of bindingEnv(bindings))
    env.push(
      secretEnv(e.name, normalizedSecretName(app.metadata.name, e.binding), e.key, e.optional),
    );
  return { volumes, mounts, env: env.filter((e) => !userEnv.some((u) => u.name === e.name)) };
}
/** Warnings for operator-provided env names the user's env shadows. */
export function shadowedBindingEnv(
  app: StatelessApp,
  userEnv: readonly V1EnvVar[],
): RenderWarning[] {
  const all = projectBindings(app, []).env.map((e) => e.name);
  return all
    .filter((name) => userEnv.some((u) => u.name === name))
    .map((name) => ({
      reason: "BindingEnvShadowed",
      message: `env ${name} is set in the spec, so the binding's value for it is not injected`,
    }));
}
