// Reads what the rules look at from a live cluster, read-only: per-version discovery, raw JSON lists.
import {
  groupOf,
  type HttpTransport,
  httpListWatch,
  isRecord,
  KubeApiError,
  type KubeObject,
  requestJson,
} from "../../runtime/index.ts";
import {
  isObject,
  type JsonObject,
  type NamespaceFacts,
  namespaceFacts,
  type RuleSet,
  type Target,
  targetsOf,
} from "../rules/index.ts";

/** A target and the version the cluster serves it at. */
export interface ServedTarget {
  readonly target: Target;
  readonly version: string;
  readonly namespaced: boolean;
}

export interface Inventory {
  /** Objects to check: every listed object but those a workload kind's controller owns. */
  readonly objects: JsonObject[];
  /** The Namespaces read (all, or the one asked for); empty when they could not be read. */
  readonly namespaces: Map<string, NamespaceFacts>;
  /** What could not be read, one line each (a forbidden list, an unreachable server). */
  readonly problems: string[];
  /** Whether the API server answered at all. */
  readonly reachable: boolean;
}

export interface InventoryOptions {
  /** Only this namespace; all namespaces when absent. */
  readonly namespace?: string;
  /** A line of progress per listed resource. */
  readonly progress?: (line: string) => void;
}

const PAGE = 500;

const describe = (error: unknown): string =>
  error instanceof KubeApiError
    ? error.status?.message
      ? `HTTP ${error.code}: ${error.status.message}`
      : `HTTP ${error.code}`
    : error instanceof Error
      ? error.message
      : String(error);

const label = (t: Target) => `${t.resource}${t.group ? `.${t.group}` : ""}`;

interface ApiResourceList {
  readonly resources?: readonly { name?: string; namespaced?: boolean }[];
}

/**
 * The version each target is served at, as `kubectl api-resources` finds it: every version of
 * the group is asked, in the server's order (preferred first), and the first that serves the
 * resource wins, so a kind served only at another version than the group's preferred one
 * (BackendLBPolicy at v1alpha2 next to HTTPRoute at v1) is still found. Targets the cluster
 * does not serve are left out.
 */
export async function discoverTargets(
  transport: HttpTransport,
  targets: readonly Target[],
  problems: string[] = [],
): Promise<ServedTarget[]> {
  const groups = await requestJson<{
    groups?: {
      name?: string;
      versions?: { version?: string }[];
      preferredVersion?: { version?: string };
    }[];
  }>(transport, { method: "GET", path: "/apis" });
  const versionsOf = new Map<string, string[]>([["", ["v1"]]]);
  for (const g of groups.groups ?? []) {
    if (g.name === undefined) continue;
    const preferred = g.preferredVersion?.version;
    const all = (g.versions ?? []).flatMap((v) => (v.version ? [v.version] : []));
    versionsOf.set(g.name, preferred ? [preferred, ...all.filter((v) => v !== preferred)] : all);
  }
  const wanted = new Set(targets.map((t) => t.group));
  const served = new Map<string, Map<string, { namespaced: boolean }>>();
  for (const group of wanted) {
    for (const version of versionsOf.get(group) ?? []) {
      const path = group === "" ? `/api/${version}` : `/apis/${group}/${version}`;
      let list: ApiResourceList;
      try {
        list = await requestJson<ApiResourceList>(transport, { method: "GET", path });
      } catch (error) {
        // An aggregated API that is down must not hide every other kind.
        problems.push(`cannot discover ${group || "core"}/${version}: ${describe(error)}`);
        continue;
      }
      const resources = new Map<string, { namespaced: boolean }>();
      for (const r of list.resources ?? [])
        if (r.name !== undefined && !r.name.includes("/"))
          resources.set(r.name, { namespaced: r.namespaced === true });
      served.set(`${group}/${version}`, resources);
    }
  }
  return targets.flatMap((target) => {
    for (const version of versionsOf.get(target.group) ?? []) {
      const resource = served.get(`${target.group}/${version}`)?.get(target.resource);
      if (resource !== undefined) return [{ target, version, namespaced: resource.namespaced }];
    }
    return [];
  });
}

/** Pages through a resource; items come back as the server sent them, plus apiVersion and kind. */
export async function listServed(
  transport: HttpTransport,
  served: ServedTarget,
  namespace: string | undefined,
): Promise<KubeObject[]> {
  const source = httpListWatch(transport, {
    group: served.target.group,
    version: served.version,
    kind: served.target.kind,
    plural: served.target.resource,
    namespaced: served.namespaced,
  });
  const items: KubeObject[] = [];
  let token: string | undefined;
  do {
    const page = await source.list({
      ...(served.namespaced ? { namespace } : {}),
      limit: PAGE,
      continue: token,
    });
    items.push(...page.items);
    token = page.continue;
  } while (token !== undefined);
  return items;
}

/** Whether a controller of one of the rule set's workload kinds owns the object (its owner is checked). */
export function ownedByWorkload(object: JsonObject, set: RuleSet): boolean {
  const metadata = isObject(object.metadata) ? object.metadata : {};
  const owners = Array.isArray(metadata.ownerReferences) ? metadata.ownerReferences : [];
  return owners.some(
    (o) =>
      isRecord(o) &&
      o.controller === true &&
      typeof o.apiVersion === "string" &&
      set.workloadKinds.some(
        (k) => k.kind === o.kind && k.group === groupOf(o.apiVersion as string),
      ),
  );
}

async function readNamespaces(
  transport: HttpTransport,
  namespace: string | undefined,
): Promise<Map<string, NamespaceFacts>> {
  const objects =
    namespace === undefined
      ? ((
          await requestJson<{ items?: unknown[] }>(transport, {
            method: "GET",
            path: "/api/v1/namespaces",
          })
        ).items ?? [])
      : [
          await requestJson<unknown>(transport, {
            method: "GET",
            path: `/api/v1/namespaces/${namespace}`,
          }),
        ];
  const out = new Map<string, NamespaceFacts>();
  for (const o of objects) {
    const facts = isObject(o) ? namespaceFacts(o) : undefined;
    if (facts !== undefined) out.set(facts.name, facts);
  }
  return out;
}

/** Everything the rule set looks at in the cluster (or one namespace), with the Namespaces. */
export async function readInventory(
  transport: HttpTransport,
  set: RuleSet,
  options: InventoryOptions = {},
): Promise<Inventory> {
  const where =
    options.namespace === undefined ? "all namespaces" : `namespace ${options.namespace}`;
  const problems: string[] = [];
  let served: ServedTarget[];
  try {
    served = await discoverTargets(transport, targetsOf(set), problems);
  } catch (error) {
    return {
      objects: [],
      namespaces: new Map(),
      problems: [`cannot reach the API: ${describe(error)}`],
      reachable: false,
    };
  }
  let namespaces = new Map<string, NamespaceFacts>();
  try {
    namespaces = await readNamespaces(transport, options.namespace);
  } catch (error) {
    // Without them, objects' own exemptions count nowhere (and Namespaces' exemptions are unknown).
    options.progress?.(
      `cannot read namespaces (${describe(error)}): exemptions are judged without them`,
    );
  }
  const objects: JsonObject[] = [];
  for (const s of served) {
    try {
      const items = await listServed(transport, s, options.namespace);
      const kept = items.filter((o) => !ownedByWorkload(o as JsonObject, set));
      objects.push(...(kept as JsonObject[]));
      options.progress?.(`${label(s.target)}: ${kept.length} in ${where}`);
    } catch (error) {
      if (error instanceof KubeApiError && error.code === 404) continue; // gone since discovery
      problems.push(`cannot list ${label(s.target)}: ${describe(error)}`);
    }
  }
  return { objects, namespaces, problems, reachable: true };
}
