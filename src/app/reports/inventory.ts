// Reads what the rules look at from a live cluster, read-only: per-version discovery, raw JSON lists.
import {
  builtinResources,
  type Client,
  groupOf,
  type HttpTransport,
  httpClient,
  isRecord,
  KubeApiError,
  type KubeObject,
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

const clientOf = (api: HttpTransport | Client): Client =>
  typeof api === "function" ? httpClient(api) : api;

/**
 * The version each target is served at, as `kubectl api-resources` finds it: every version of
 * the group is asked, in the server's order (preferred first), and the first that serves the
 * resource wins, so a kind served only at another version than the group's preferred one
 * (BackendLBPolicy at v1alpha2 next to HTTPRoute at v1) is still found. Targets the cluster
 * does not serve are left out.
 */
export async function discoverTargets(
  api: HttpTransport | Client,
  targets: readonly Target[],
  problems: string[] = [],
): Promise<ServedTarget[]> {
  const client = clientOf(api);
  const versionsOf = new Map<string, readonly string[]>([["", ["v1"]]]);
  for (const g of await client.apiGroups()) versionsOf.set(g.name, g.versions);
  const wanted = new Set(targets.map((t) => t.group));
  const served = new Map<string, Map<string, { namespaced: boolean }>>();
  for (const group of wanted) {
    for (const version of versionsOf.get(group) ?? []) {
      let list: Awaited<ReturnType<Client["discover"]>>;
      try {
        list = await client.discover(group === "" ? version : `${group}/${version}`);
      } catch (error) {
        // An aggregated API that is down must not hide every other kind.
        problems.push(`cannot discover ${group || "core"}/${version}: ${describe(error)}`);
        continue;
      }
      const resources = new Map<string, { namespaced: boolean }>();
      for (const r of list ?? [])
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
  api: HttpTransport | Client,
  served: ServedTarget,
  namespace: string | undefined,
): Promise<KubeObject[]> {
  const source = clientOf(api).listWatch({
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
  client: Client,
  namespace: string | undefined,
): Promise<Map<string, NamespaceFacts>> {
  const objects: unknown[] =
    namespace === undefined
      ? await client.list(builtinResources.namespace)
      : [await client.get(builtinResources.namespace, { name: namespace })];
  const out = new Map<string, NamespaceFacts>();
  for (const o of objects) {
    const facts = isObject(o) ? namespaceFacts(o) : undefined;
    if (facts !== undefined) out.set(facts.name, facts);
  }
  return out;
}

/** Everything the rule set looks at in the cluster (or one namespace), with the Namespaces. */
export async function readInventory(
  api: HttpTransport | Client,
  set: RuleSet,
  options: InventoryOptions = {},
): Promise<Inventory> {
  const client = clientOf(api);
  const where =
    options.namespace === undefined ? "all namespaces" : `namespace ${options.namespace}`;
  const problems: string[] = [];
  let served: ServedTarget[];
  try {
    served = await discoverTargets(client, targetsOf(set), problems);
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
    namespaces = await readNamespaces(client, options.namespace);
  } catch (error) {
    // Without them, objects' own exemptions count nowhere (and Namespaces' exemptions are unknown).
    options.progress?.(
      `cannot read namespaces (${describe(error)}): exemptions are judged without them`,
    );
  }
  const objects: JsonObject[] = [];
  for (const s of served) {
    try {
      const items = await listServed(client, s, options.namespace);
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
