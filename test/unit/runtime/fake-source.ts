// A scripted ListWatchSource: tests queue list pages and drive each watch stream by hand.
import type {
  ListOptions,
  ListPage,
  ListWatchSource,
  WatchEvent,
  WatchOptions,
} from "../../../src/runtime/listwatch.ts";
import type { KubeObject } from "../../../src/runtime/object.ts";

/** One watch connection: the test pushes events, closes it, or breaks it. */
export class FakeWatch implements AsyncIterable<WatchEvent> {
  readonly options: WatchOptions;
  readonly signal: AbortSignal;
  #buffer: Array<{ event: WatchEvent } | { end: true } | { error: unknown }> = [];
  #wake: (() => void) | undefined;

  constructor(options: WatchOptions, signal: AbortSignal) {
    this.options = options;
    this.signal = signal;
    signal.addEventListener("abort", () => this.#wake?.(), { once: true });
  }

  get aborted(): boolean {
    return this.signal.aborted;
  }

  push(...events: WatchEvent[]): void {
    for (const event of events) this.#buffer.push({ event });
    this.#wake?.();
  }

  /** The server closes the stream normally (its timeoutSeconds elapsed). */
  close(): void {
    this.#buffer.push({ end: true });
    this.#wake?.();
  }

  /** The connection breaks. */
  fail(error: unknown): void {
    this.#buffer.push({ error });
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WatchEvent> {
    for (;;) {
      if (this.signal.aborted) throw this.signal.reason;
      const next = this.#buffer.shift();
      if (next === undefined) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        continue;
      }
      if ("end" in next) return;
      if ("error" in next) throw next.error;
      yield next.event;
    }
  }
}

type ListStep = ListPage | Error | ((options: ListOptions) => ListPage);

export class FakeSource implements ListWatchSource {
  readonly listCalls: ListOptions[] = [];
  readonly watches: FakeWatch[] = [];
  readonly #lists: ListStep[] = [];
  readonly #watchFailures: unknown[] = [];

  /** Queues responses for the next list calls (pages, or errors to throw). */
  onList(...steps: ListStep[]): this {
    this.#lists.push(...steps);
    return this;
  }

  /** Makes the next watch call fail when iterated, before any event (e.g. an HTTP error). */
  failNextWatch(error: unknown): this {
    this.#watchFailures.push(error);
    return this;
  }

  /** The watch opened most recently. */
  get current(): FakeWatch {
    const w = this.watches.at(-1);
    if (w === undefined) throw new Error("no watch opened yet");
    return w;
  }

  async list(options: ListOptions): Promise<ListPage> {
    this.listCalls.push(options);
    const step = this.#lists.shift();
    if (step === undefined) throw new Error("FakeSource: unexpected list call");
    if (step instanceof Error) throw step;
    return typeof step === "function" ? step(options) : step;
  }

  watch(options: WatchOptions, signal: AbortSignal): AsyncIterable<WatchEvent> {
    const failure = this.#watchFailures.shift();
    if (failure !== undefined) {
      return {
        [Symbol.asyncIterator]: () => ({
          next: () => Promise.reject(failure),
        }),
      };
    }
    const w = new FakeWatch(options, signal);
    this.watches.push(w);
    return w;
  }
}

export function pod(
  name: string,
  rv: string,
  extra: Partial<KubeObject> = {},
  namespace = "ns",
): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, resourceVersion: rv, uid: `uid-${name}` },
    ...extra,
  };
}

export const page = (items: KubeObject[], resourceVersion: string, cont?: string): ListPage => ({
  items,
  resourceVersion,
  continue: cont,
});

export const event = (type: WatchEvent["type"], object: KubeObject): WatchEvent => ({
  type,
  object,
});

export const bookmark = (rv: string): WatchEvent => ({
  type: "BOOKMARK",
  object: { apiVersion: "v1", kind: "Pod", metadata: { resourceVersion: rv } },
});

/** The bookmark that ends a streaming list's initial events. */
export const initialEventsEnd = (rv: string): WatchEvent => ({
  type: "BOOKMARK",
  object: {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { resourceVersion: rv, annotations: { "k8s.io/initial-events-end": "true" } },
  },
});

export const gone = (): WatchEvent => ({
  type: "ERROR",
  object: {
    kind: "Status",
    status: "Failure",
    reason: "Expired",
    code: 410,
    message: "too old resource version",
  },
});

export class HttpError extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`HTTP ${code}`);
    this.code = code;
  }
}
