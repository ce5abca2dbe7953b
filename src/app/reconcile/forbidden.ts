// Finds what other field managers added to an owned object that breaks the processes rule. Pure.

/** One RFC 6902 operation; `test` guards make a concurrent change fail the patch instead of hitting the wrong item. */
export type JsonPatchOp =
  | { readonly op: "test"; readonly path: string; readonly value: unknown }
  | { readonly op: "remove"; readonly path: string }
  | { readonly op: "replace"; readonly path: string; readonly value: unknown };

export interface ForbiddenFix {
  /** Human-readable: what was removed and why, for the Warning Event. */
  readonly findings: string[];
  readonly patch: JsonPatchOp[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
const names = (v: unknown): Set<unknown> => new Set(list(v).map((i) => i.name));

/** Why a pod volume keeps state (or escapes the scratch bound); undefined when it is fine. */
function statefulVolume(volume: Obj): string | undefined {
  if (volume.hostPath !== undefined)
    return "a hostPath volume shares the node's disk between processes";
  if (volume.persistentVolumeClaim !== undefined)
    return "a persistentVolumeClaim volume keeps state across restarts";
  if (volume.ephemeral !== undefined)
    return "an ephemeral volume claim is a disk outside the scratch bound";
  if (isObj(volume.emptyDir) && volume.emptyDir.sizeLimit === undefined)
    return "an emptyDir without sizeLimit is unbounded";
  return undefined;
}

const CONTAINER_LISTS = ["containers", "initContainers"] as const;

function podTemplateFixes(desiredPod: Obj, livePod: Obj, base: string, fix: ForbiddenFix): void {
  for (const field of ["hostNetwork", "hostPID", "hostIPC"]) {
    if (livePod[field] === true) {
      fix.findings.push(`${base}.${field} was true: host namespaces share state with the node`);
      fix.patch.push({ op: "remove", path: `${base}/${field}` });
    }
  }
  const removedVolumes = new Set<string>();
  const ours = names(desiredPod.volumes);
  for (const volume of list(livePod.volumes)) {
    const why = statefulVolume(volume);
    if (ours.has(volume.name) || why === undefined) continue;
    removedVolumes.add(String(volume.name));
    fix.findings.push(`volume ${JSON.stringify(volume.name)}: ${why}`);
  }
  // Containers first (their mounts name the volumes), each list from its last index so indices hold.
  for (const listName of CONTAINER_LISTS) {
    const oursContainers = names(desiredPod[listName]);
    const containers = list(livePod[listName]);
    for (let i = containers.length - 1; i >= 0; i--) {
      const c = containers[i] ?? {};
      const path = `${base}/${listName}/${i}`;
      const ro = isObj(c.securityContext) && c.securityContext.readOnlyRootFilesystem === true;
      if (!oursContainers.has(c.name) && !ro) {
        fix.findings.push(`${listName} ${JSON.stringify(c.name)}: its root filesystem is writable`);
        fix.patch.push({ op: "test", path: `${path}/name`, value: c.name }, { op: "remove", path });
        continue;
      }
      const mounts = list(c.volumeMounts);
      for (let m = mounts.length - 1; m >= 0; m--) {
        const mount = mounts[m] ?? {};
        if (!removedVolumes.has(String(mount.name))) continue;
        const mountPath = `${path}/volumeMounts/${m}`;
        fix.patch.push(
          { op: "test", path: `${mountPath}/name`, value: mount.name },
          { op: "remove", path: mountPath },
        );
      }
    }
  }
  const volumes = list(livePod.volumes);
  for (let i = volumes.length - 1; i >= 0; i--) {
    const v = volumes[i] ?? {};
    if (!removedVolumes.has(String(v.name))) continue;
    fix.patch.push(
      { op: "test", path: `${base}/volumes/${i}/name`, value: v.name },
      { op: "remove", path: `${base}/volumes/${i}` },
    );
  }
}

/**
 * The JSON patch that removes what breaks the rule from `live`, an object whose applied form is
 * `desired`. Fields we set are not here: a server-side apply with force puts those back.
 * Deployments: host namespaces, stateful or unbounded volumes (and their mounts), containers
 * with a writable root filesystem that we did not render. Services: session affinity config,
 * which the API server refuses beside `sessionAffinity: None`.
 */
export function forbiddenAdditions(
  desired: { readonly kind?: string | undefined },
  live: object | undefined,
): ForbiddenFix {
  const fix: ForbiddenFix = { findings: [], patch: [] };
  if (live === undefined) return fix;
  const d = desired as Obj;
  const l = live as Obj;
  if (desired.kind === "Deployment") {
    const desiredPod =
      isObj(d.spec) && isObj(d.spec.template) && isObj(d.spec.template.spec)
        ? d.spec.template.spec
        : {};
    const livePod =
      isObj(l.spec) && isObj(l.spec.template) && isObj(l.spec.template.spec)
        ? l.spec.template.spec
        : {};
    podTemplateFixes(desiredPod, livePod, "/spec/template/spec", fix);
  } else if (desired.kind === "Service" && isObj(l.spec)) {
    if (l.spec.sessionAffinityConfig !== undefined) {
      fix.findings.push("spec.sessionAffinityConfig was set: sessions must not stick to a process");
      fix.patch.push(
        { op: "replace", path: "/spec/sessionAffinity", value: "None" },
        { op: "remove", path: "/spec/sessionAffinityConfig" },
      );
    }
  }
  return fix;
}
