// The list and watch calls a reflector makes, as an interface (scriptable in tests) and its HTTP implementation.

import { isRecord, type KubeObject } from "./object.ts";
import { apiVersionOf, type ResourceType, resourcePath } from "./resource.ts";
import { apiError, type HttpTransport, requestJson } from "./transport.ts";
import { OnePerTurn } from "./turns.ts";

export interface Selectors {
  /** Limits the objects to a namespace; all namespaces when omitted. */
  readonly namespace?: string | undefined;
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
}

export interface ListOptions extends Selectors {
  readonly limit?: number;
  readonly continue?: string | undefined;
}

export interface ListPage {
  readonly items: KubeObject[];
  readonly resourceVersion: string;
  /** Token for the next page; absent on the last page. */
  readonly continue?: string | undefined;
}

export interface WatchOptions extends Selectors {
  readonly resourceVersion: string;
  readonly timeoutSeconds: number;
  readonly allowWatchBookmarks: boolean;
  /**
   * A streaming list (watch-list): the server first sends every object as an ADDED event, then a
   * BOOKMARK annotated `k8s.io/initial-events-end`, then the changes. Needs bookmarks on and is
   * sent with `resourceVersionMatch=NotOlderThan` (an empty resourceVersion: the newest state).
   */
  readonly sendInitialEvents?: boolean;
}

/** The annotation of the bookmark that ends a watch-list's initial events. */
const INITIAL_EVENTS_END = "k8s.io/initial-events-end";

/** The event is the bookmark that ends a watch-list's initial events. */
export function endsInitialEvents(event: WatchEvent): boolean {
  return (
    event.type === "BOOKMARK" && event.object.metadata?.annotations?.[INITIAL_EVENTS_END] === "true"
  );
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

/** One line of a watch stream; for ERROR the object is a `Status`. */
export interface WatchEvent {
  readonly type: WatchEventType;
  readonly object: KubeObject;
}

export interface ListWatchSource {
  /** One page of a list. */
  list(options: ListOptions, signal?: AbortSignal): Promise<ListPage>;
  /**
   * A watch from `resourceVersion`. The iterable ends when the server closes the stream, throws
   * on a failed request (with the HTTP status as `code`), and stops when `signal` aborts.
   */
  watch(options: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent>;
}

/** Every list page of the process is parsed in a turn of its own (see OnePerTurn). */
const listPages = new OnePerTurn();

/** Lists and watches one resource type over raw HTTP JSON. */
export function httpListWatch(transport: HttpTransport, type: ResourceType): ListWatchSource {
  const apiVersion = apiVersionOf(type);
  const path = (namespace: string | undefined) => resourcePath(type, { namespace });
  // Items of a typed list omit apiVersion and kind; set them so list and watch give one shape.
  const complete = (obj: KubeObject): KubeObject =>
    obj.apiVersion !== undefined && obj.kind !== undefined
      ? obj
      : { apiVersion, kind: type.kind, ...obj };

  return {
    async list(options, signal) {
      const body = await requestJson<unknown>(
        transport,
        {
          method: "GET",
          verb: "list",
          path: path(options.namespace),
          query: {
            labelSelector: options.labelSelector,
            fieldSelector: options.fieldSelector,
            limit: options.limit,
            continue: options.continue,
          },
          ...(signal ? { signal } : {}),
        },
        listPages,
      );
      if (!isRecord(body) || !Array.isArray(body.items) || !isRecord(body.metadata)) {
        throw new Error(`list ${type.plural}: response is not a list`);
      }
      const metadata = body.metadata;
      const next =
        typeof metadata.continue === "string" && metadata.continue !== ""
          ? metadata.continue
          : undefined;
      return {
        items: (body.items as KubeObject[]).map(complete),
        resourceVersion: String(metadata.resourceVersion ?? ""),
        continue: next,
      };
    },

    async *watch(options, signal) {
      const request = {
        method: "GET",
        verb: "watch",
        path: path(options.namespace),
        streaming: true,
        signal,
        query: {
          watch: true,
          resourceVersion: options.resourceVersion,
          allowWatchBookmarks: options.allowWatchBookmarks,
          ...(options.sendInitialEvents
            ? { sendInitialEvents: true, resourceVersionMatch: "NotOlderThan" }
            : {}),
          timeoutSeconds: options.timeoutSeconds,
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
        },
      } as const;
      const response = await transport(request);
      if (response.status !== 200) throw apiError(request, response.status, await response.text());
      for await (const line of response.lines()) {
        const event: unknown = JSON.parse(line);
        if (!isRecord(event) || typeof event.type !== "string" || !isRecord(event.object)) {
          throw new Error(`watch ${type.plural}: malformed event`);
        }
        const object = event.object as KubeObject;
        yield {
          type: event.type as WatchEventType,
          object: event.type === "ERROR" || event.type === "BOOKMARK" ? object : complete(object),
        };
      }
    },
  };
}
