// `audit --cluster`: lists every kind the rules look at, read-only, from a live cluster.
import {
  ApiException,
  ApisApi,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
} from "@kubernetes/client-node";
import {
  defaultRuleSet,
  isObject,
  type JsonObject,
  type Target,
  targetsOf,
} from "../../app/rules/index.ts";
import { type InputError, refOf, type Subject } from "./subject.ts";

export interface ClusterRead {
  readonly subjects: Subject[];
  readonly errors: InputError[];
}

export interface ClusterOptions {
  /** Only this namespace; all namespaces when absent. */
  readonly namespace?: string;
  /** A line of progress, for stderr. */
  readonly progress: (line: string) => void;
}

/** Kinds whose objects are checked themselves, so the pods and ReplicaSets they own are not. */
const workloadOwners = new Set([
  "Deployment",
  "ReplicaSet",
  "DaemonSet",
  "StatefulSet",
  "Job",
  "CronJob",
  "ReplicationController",
]);

const PAGE = 500;

/** Every target of the rule set, once each, in rule order. */
function targetsToList(): Target[] {
  return targetsOf(defaultRuleSet);
}

export async function readCluster(kc: KubeConfig, options: ClusterOptions): Promise<ClusterRead> {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const subjects: Subject[] = [];
  const errors: InputError[] = [];
  const where =
    options.namespace === undefined ? "all namespaces" : `namespace ${options.namespace}`;
  const server = kc.getCurrentCluster()?.server ?? "the cluster";

  let preferred: Map<string, string>;
  try {
    const groups = await kc.makeApiClient(ApisApi).getAPIVersions();
    preferred = new Map(groups.groups.map((g) => [g.name, g.preferredVersion?.version ?? ""]));
    preferred.set("", "v1");
  } catch (error) {
    return {
      subjects,
      errors: [{ file: server, message: `cannot reach the API: ${describe(error)}` }],
    };
  }

  for (const target of targetsToList()) {
    const version = preferred.get(target.group);
    if (version === undefined || version === "") continue; // not installed in this cluster
    const apiVersion = target.group === "" ? version : `${target.group}/${version}`;
    try {
      const items = await listAll(target, version, options.namespace, core, custom);
      let kept = 0;
      for (const raw of items) {
        if (!isObject(raw)) continue;
        const object: JsonObject = { ...raw, apiVersion, kind: target.kind };
        if (ownedByWorkload(object)) continue;
        subjects.push({ object, ref: refOf(object), origin: {}, locate: () => undefined });
        kept++;
      }
      options.progress(
        `audit: ${target.resource}${target.group ? `.${target.group}` : ""}: ${kept} in ${where}`,
      );
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) continue; // resource not served
      errors.push({
        file: server,
        message: `cannot list ${target.resource}${target.group ? `.${target.group}` : ""}: ${describe(error)}`,
      });
    }
  }
  return { subjects, errors };
}

/** Pages through a list; built-in core kinds through CoreV1Api, the rest by group and plural. */
async function listAll(
  target: Target,
  version: string,
  namespace: string | undefined,
  core: CoreV1Api,
  custom: CustomObjectsApi,
): Promise<unknown[]> {
  const items: unknown[] = [];
  let token: string | undefined;
  do {
    const page = { limit: PAGE, ...(token === undefined ? {} : { _continue: token }) };
    const list = (await (target.group === ""
      ? listCore(core, target.resource, namespace, page)
      : namespace === undefined
        ? custom.listClusterCustomObject({
            group: target.group,
            version,
            plural: target.resource,
            ...page,
          })
        : custom.listNamespacedCustomObject({
            group: target.group,
            version,
            namespace,
            plural: target.resource,
            ...page,
          }))) as { items?: unknown[]; metadata?: { _continue?: string; continue?: string } };
    // Typed lists become plain JSON (dates as strings), like everything else audit reads.
    items.push(...JSON.parse(JSON.stringify(list.items ?? [])));
    token = list.metadata?._continue ?? list.metadata?.continue;
  } while (token);
  return items;
}

function listCore(
  core: CoreV1Api,
  resource: string,
  namespace: string | undefined,
  page: { limit: number; _continue?: string },
): Promise<unknown> {
  const ns = namespace === undefined ? undefined : { namespace, ...page };
  switch (resource) {
    case "services":
      return ns ? core.listNamespacedService(ns) : core.listServiceForAllNamespaces(page);
    case "pods":
      return ns ? core.listNamespacedPod(ns) : core.listPodForAllNamespaces(page);
    case "replicationcontrollers":
      return ns
        ? core.listNamespacedReplicationController(ns)
        : core.listReplicationControllerForAllNamespaces(page);
    default:
      throw new Error(`no core list call for ${resource}`);
  }
}

function ownedByWorkload(object: JsonObject): boolean {
  const owners = (object.metadata as { ownerReferences?: unknown } | undefined)?.ownerReferences;
  if (!Array.isArray(owners)) return false;
  return owners.some(
    (o) => isObject(o) && o.controller === true && workloadOwners.has(String(o.kind)),
  );
}

function describe(error: unknown): string {
  if (error instanceof ApiException) {
    const body = typeof error.body === "string" ? safeJson(error.body) : error.body;
    const message = isObject(body) && typeof body.message === "string" ? body.message : "";
    return `HTTP ${error.code}${message ? `: ${message}` : ""}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
