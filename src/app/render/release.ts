// The release Job: the app's admin process (Twelve-Factor XII), run once per image and spec.release before the Deployments roll.
import { createHash } from "node:crypto";
import type { V1Container, V1Job } from "@kubernetes/client-node";
import {
  DEFAULT_RELEASE_BACKOFF_LIMIT,
  type Process,
  RELEASE_HASH_LENGTH,
  RELEASE_JOB_INFIX,
  type Release,
  type StatelessApp,
} from "../../api/index.ts";
import { projectBindings } from "./bindings.ts";
import { configVolumes, envFromFor } from "./config.ts";
import { containerSecurityContext, resourcesFor, userEnv } from "./deployment.ts";
import { labelsFor, metadataFor } from "./metadata.ts";
import { defined, podSettingsFor, podSpecFields } from "./pod.ts";
import { scratchVolumes } from "./scratch.ts";

/** The container of a release Job; the Job's pods carry no process type (no Service or PDB selects them). */
export const RELEASE_CONTAINER = "release";

/**
 * The release an image and spec.release make: RELEASE_HASH_LENGTH hex characters of sha256 over both, so a new
 * image or a changed release command is a new release (a new Job), and the same pair is the same one.
 */
export function releaseHash(image: string, release: Release): string {
  return createHash("sha256")
    .update(JSON.stringify([image, canonical(release)]))
    .digest("hex")
    .slice(0, RELEASE_HASH_LENGTH);
}

/** `<app>-release-<hash>`: the name of the Job of the app's current release. */
export const releaseJobName = (app: StatelessApp, release: Release): string =>
  `${app.metadata.name}${RELEASE_JOB_INFIX}${releaseHash(app.spec.image, release)}`;

/** The release command as a process type of its own: the app's env, envFrom and pod settings apply. */
const releaseProcess = (release: Release): Process => ({
  name: RELEASE_CONTAINER,
  command: release.command,
  ...(release.args === undefined ? {} : { args: release.args }),
  ...(release.env === undefined ? {} : { env: release.env }),
});

/**
 * The Job of the app's current release, or undefined when it has none. Its pods are the
 * Deployments' pods in all that the processes rule asks (the same security context, read-only
 * root, the scratch, bindings and config mounts) and run to completion once (`restartPolicy:
 * Never`); the Job is never changed after it is created, so the bindings and config hashes are not on it.
 */
export function renderReleaseJob(app: StatelessApp): V1Job | undefined {
  const release = app.spec.release;
  if (release === undefined) return undefined;
  const proc = releaseProcess(release);
  const env = userEnv(app, proc);
  const bindings = projectBindings(app, env);
  const scratch = scratchVolumes(app);
  const config = configVolumes(app);
  const settings = podSettingsFor(app, proc);
  const mounts = [...scratch.mounts, ...config.mounts, ...bindings.mounts];
  const volumes = [...scratch.volumes, ...config.volumes, ...bindings.volumes];
  const envFrom = envFromFor(app, proc);
  const allEnv = [...env, ...bindings.env];
  const resources = resourcesFor(app, proc);
  const container: V1Container = {
    name: RELEASE_CONTAINER,
    image: app.spec.image,
    command: [...release.command],
    ...(release.args === undefined ? {} : { args: [...release.args] }),
    ...(envFrom.length === 0 ? {} : { envFrom }),
    ...(allEnv.length === 0 ? {} : { env: allEnv }),
    ...(resources === undefined ? {} : { resources }),
    ...(mounts.length === 0 ? {} : { volumeMounts: mounts }),
    securityContext: containerSecurityContext(),
  };
  const annotations = defined(settings.metadata?.annotations);
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: metadataFor(app, releaseJobName(app, release)),
    spec: {
      backoffLimit: release.backoffLimit ?? DEFAULT_RELEASE_BACKOFF_LIMIT,
      ...(release.activeDeadlineSeconds === undefined
        ? {}
        : { activeDeadlineSeconds: release.activeDeadlineSeconds }),
      template: {
        metadata: {
          labels: { ...defined(settings.metadata?.labels), ...labelsFor(app) },
          ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
        },
        spec: {
          ...podSpecFields(app, proc, settings),
          restartPolicy: "Never",
          enableServiceLinks: false,
          containers: [container],
          ...(volumes.length === 0 ? {} : { volumes }),
        },
      },
    },
  };
}

/** JSON with object keys sorted, so the hash does not depend on the order the spec was written in. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
  );
}
