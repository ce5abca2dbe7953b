// The client port: typed calls by resource type (get, list, apply, patch, delete, evict…); the only code that builds REST requests for them.
import { httpListWatch, type ListWatchSource, type Selectors } from "./listwatch.ts";
import { type KubeObject, splitApiVersion } from "./object.ts";
import { builtinResources, groupVersionPath, type ResourceType, resourcePath } from "./resource.ts";
import { apiError, type HttpRequest, type HttpTransport, requestJson } from "./transport.ts";

/** Which object of a type: `namespace` is ignored for cluster-scoped types. */
export interface ObjectRef {
  readonly namespace?: string | undefined;
  readonly name: string;
}

export interface CallOptions {
  readonly signal?: AbortSignal | undefined;
}

export interface WriteOptions extends CallOptions {
  readonly fieldManager: string;
}

export interface ApplyCallOptions extends WriteOptions {
  /** Take over fields other managers own. @default true (a controller's apply is authoritative) */
  readonly force?: boolean;
}

export interface DeleteCallOptions extends CallOptions {
  /** Delete only the object with this uid (a new object of the same name is left alone). */
  readonly uid?: string | undefined;
  /** @default "Background" */
  readonly propagationPolicy?: "Background" | "Foreground" | "Orphan";
}

/** Which container's log, and how much of its end. */
export interface PodLogOptions extends CallOptions {
  readonly container: string;
  /** Only the last this many lines. @default the whole log */
  readonly tailLines?: number;
  /** At most this many bytes of them (the kubelet may send slightly more or less). @default no limit */
  readonly limitBytes?: number;
  /** This request's timeout: the API server asks the pod's kubelet, which may not answer. */
  readonly timeoutMs?: number;
}

/** One RFC 6902 operation (the structural shape the API server takes). */
export interface JsonPatchOperation {
  readonly op: string;
  readonly path: string;
  readonly value?: unknown;
}

/** A resource of a group/version, as discovery lists it. */
export interface DiscoveredResource {
  /** The plural (`redisinstances`), or `plural/subresource` for a subresource. */
  readonly name: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** What the resource supports: get, list, watch, create… */
  readonly verbs?: readonly string[];
}

/**
 * What controllers and commands ask of the API server. Like kube-rs's `Api<K>` or
 * controller-runtime's `client.Client`, callers name a resource type and an object and never
 * see a path, a verb or a content type. Errors are `KubeApiError`s (`code`, `body`).
 */
export interface Client {
  /** The object, or undefined when it does not exist (404). */
  get<T extends KubeObject = KubeObject>(
    type: ResourceType,
    ref: ObjectRef,
    options?: CallOptions,
  ): Promise<T | undefined>;
  /** Every object matching the selectors, in one request. */
  list<T extends KubeObject = KubeObject>(
    type: ResourceType,
    selectors?: Selectors,
    options?: CallOptions,
  ): Promise<T[]>;
  /** Creates `object` (a review, an Event); returns what the API server answered. */
  create<T extends KubeObject = KubeObject>(
    type: ResourceType,
    object: KubeObject,
    options?: CallOptions,
  ): Promise<T>;
  /** Server-side apply of `object` (its metadata names it); returns the object as stored. */
  apply(type: ResourceType, object: KubeObject, options: ApplyCallOptions): Promise<KubeObject>;
  /** Server-side apply of `object.status` through the `/status` subresource. */
  applyStatus(type: ResourceType, object: KubeObject, options: WriteOptions): Promise<KubeObject>;
  /** A JSON patch (RFC 6902); `test` operations make a concurrent change fail it. */
  patch(
    type: ResourceType,
    ref: ObjectRef,
    patch: readonly JsonPatchOperation[],
    options: WriteOptions,
  ): Promise<KubeObject>;
  /** Deletes; false when it was already gone (404). */
  delete(type: ResourceType, ref: ObjectRef, options?: DeleteCallOptions): Promise<boolean>;
  /**
   * Evicts a pod through the Eviction API, which honours PodDisruptionBudgets: false when a
   * budget refuses it now (429).
   */
  evict(pod: ObjectRef, options?: CallOptions): Promise<boolean>;
  /**
   * The end of a pod's container log as text (`pods/log`), read by the API server from the
   * pod's kubelet; undefined when the pod has no node to read it from (the API server answers
   * 204 No Content; some versions a 400 "does not have a host assigned" instead). Errors are
   * `KubeApiError`s: 400 when the container has not started, 404 when the pod is gone.
   */
  podLog(pod: ObjectRef, options: PodLogOptions): Promise<string | undefined>;
  /** The resources one apiVersion serves, or undefined when the API server does not serve it (404). */
  discover(apiVersion: string, options?: CallOptions): Promise<DiscoveredResource[] | undefined>;
  /**
   * The API groups the server serves (`/apis`), each with its versions, the preferred one first.
   * The core group is not among them: it is `v1` only.
   */
  apiGroups(options?: CallOptions): Promise<ServedGroup[]>;
  /** The list and watch calls of a reflector for `type`. */
  listWatch(type: ResourceType): ListWatchSource;
}

/** The discovery document of an apiVersion, every segment escaped (it may come from a user). */
const discoveryPath = (apiVersion: string) => {
  const { group, version } = splitApiVersion(apiVersion);
  return groupVersionPath(group, version);
};

/** One API group of discovery: its name and versions, the preferred version first. */
export interface ServedGroup {
  readonly name: string;
  readonly versions: readonly string[];
}

const codeOf = (error: unknown) => (error as { code?: unknown }).code;

async function unlessAbsent<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (codeOf(error) === 404) return undefined;
    throw error;
  }
}

const pathOf = (type: ResourceType, ref: ObjectRef, subresource?: string) =>
  resourcePath(type, { namespace: ref.namespace, name: ref.name, subresource });

const signalOf = (options: CallOptions | undefined) =>
  options?.signal ? { signal: options.signal } : {};

const refOf = (object: KubeObject): ObjectRef => ({
  namespace: object.metadata?.namespace,
  name: object.metadata?.name ?? "",
});

/** The client on a transport: raw JSON, no typed API client loaded. */
export function httpClient(transport: HttpTransport): Client {
  const send = <T>(request: HttpRequest) => requestJson<T>(transport, request);
  const applyTo = (
    type: ResourceType,
    object: KubeObject,
    subresource: "status" | undefined,
    options: ApplyCallOptions,
  ) =>
    send<KubeObject>({
      method: "PATCH",
      verb: subresource ? "apply-status" : "apply",
      path: pathOf(type, refOf(object), subresource),
      query: { fieldManager: options.fieldManager, force: options.force ?? true },
      contentType: "application/apply-patch+yaml",
      body: applyBody(object),
      ...signalOf(options),
    });

  return {
    get: <T extends KubeObject>(type: ResourceType, ref: ObjectRef, options?: CallOptions) =>
      unlessAbsent(
        send<T>({ method: "GET", verb: "get", path: pathOf(type, ref), ...signalOf(options) }),
      ),

    async list<T extends KubeObject>(
      type: ResourceType,
      selectors: Selectors = {},
      options?: CallOptions,
    ): Promise<T[]> {
      const list = await send<{ items: T[] }>({
        method: "GET",
        verb: "list",
        path: resourcePath(type, { namespace: selectors.namespace }),
        ...(selectors.labelSelector !== undefined || selectors.fieldSelector !== undefined
          ? {
              query: {
                ...(selectors.labelSelector !== undefined
                  ? { labelSelector: selectors.labelSelector }
                  : {}),
                ...(selectors.fieldSelector !== undefined
                  ? { fieldSelector: selectors.fieldSelector }
                  : {}),
              },
            }
          : {}),
        ...signalOf(options),
      });
      return list.items;
    },

    create: <T extends KubeObject>(type: ResourceType, object: KubeObject, options?: CallOptions) =>
      send<T>({
        method: "POST",
        verb: "create",
        path: resourcePath(type, { namespace: object.metadata?.namespace }),
        contentType: "application/json",
        body: JSON.stringify(object),
        ...signalOf(options),
      }),

    apply: (type, object, options) => applyTo(type, object, undefined, options),

    applyStatus: (type, object, options) =>
      applyTo(type, object, "status", { ...options, force: true }),

    patch: (type, ref, patch, options) =>
      send<KubeObject>({
        method: "PATCH",
        verb: "patch",
        path: pathOf(type, ref),
        query: { fieldManager: options.fieldManager },
        contentType: "application/json-patch+json",
        body: JSON.stringify(patch),
        ...signalOf(options),
      }),

    async delete(type, ref, options = {}) {
      const request: HttpRequest = {
        method: "DELETE",
        verb: "delete",
        path: pathOf(type, ref),
        contentType: "application/json",
        body: JSON.stringify({
          apiVersion: "v1",
          kind: "DeleteOptions",
          propagationPolicy: options.propagationPolicy ?? "Background",
          ...(options.uid ? { preconditions: { uid: options.uid } } : {}),
        }),
        ...signalOf(options),
      };
      return (await unlessAbsent(send(request).then(() => true))) ?? false;
    },

    async evict(pod, options) {
      try {
        await send({
          method: "POST",
          verb: "create",
          path: pathOf(builtinResources.pod, pod, "eviction"),
          contentType: "application/json",
          body: JSON.stringify({
            apiVersion: "policy/v1",
            kind: "Eviction",
            metadata: { name: pod.name, namespace: pod.namespace },
          }),
          ...signalOf(options),
        });
        return true;
      } catch (error) {
        // 429: a disruption budget says not now.
        if (codeOf(error) === 429) return false;
        throw error;
      }
    },

    async podLog(pod, options) {
      const request: HttpRequest = {
        method: "GET",
        verb: "get",
        path: pathOf(builtinResources.pod, pod, "log"),
        query: {
          container: options.container,
          ...(options.tailLines === undefined ? {} : { tailLines: options.tailLines }),
          ...(options.limitBytes === undefined ? {} : { limitBytes: options.limitBytes }),
        },
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...signalOf(options),
      };
      const response = await transport(request);
      const text = await response.text();
      if (response.status < 200 || response.status > 299)
        throw apiError(request, response.status, text);
      // No content: the API server had no kubelet to ask (the pod was never scheduled).
      return response.status === 204 ? undefined : text;
    },

    async discover(apiVersion, options) {
      const list = await unlessAbsent(
        send<{ resources?: DiscoveredResource[] }>({
          method: "GET",
          verb: "get",
          path: discoveryPath(apiVersion),
          ...signalOf(options),
        }),
      );
      return list === undefined ? undefined : (list.resources ?? []);
    },

    async apiGroups(options) {
      const list = await send<{
        groups?: {
          name?: string;
          versions?: { version?: string }[];
          preferredVersion?: { version?: string };
        }[];
      }>({ method: "GET", verb: "get", path: "/apis", ...signalOf(options) });
      return (list.groups ?? []).flatMap((g) => {
        if (g.name === undefined) return [];
        const preferred = g.preferredVersion?.version;
        const all = (g.versions ?? []).flatMap((v) => (v.version ? [v.version] : []));
        return [
          {
            name: g.name,
            versions: preferred ? [preferred, ...all.filter((v) => v !== preferred)] : all,
          },
        ];
      });
    },

    listWatch: (type) => httpListWatch(transport, type),
  };
}

/**
 * Characters JSON leaves as they are and the API server's YAML decoder refuses ("control
 * characters are not allowed"): DEL, the C1 controls but NEL, and U+FFFE/U+FFFF. (JSON escapes
 * the C0 controls and lone surrogates itself.)
 */
const YAML_UNPRINTABLE = /[\u007f-\u0084\u0086-\u009f\ufffe\uffff]/g;

/**
 * The body of a server-side apply: JSON, which is YAML for the apply content type, with what YAML
 * refuses written as JSON escapes (a valid YAML double-quoted escape too), so a string the API
 * server stored in an app (a command, an env value) can be applied to its children.
 */
export const applyBody = (object: unknown): string =>
  JSON.stringify(object).replace(
    YAML_UNPRINTABLE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
