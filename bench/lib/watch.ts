// A bare watch of one collection from a resourceVersion, resumed when the server closes it; for timing arrivals.
import type { HttpTransport, KubeObject } from "../../src/runtime/index.ts";

export interface WatchEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly object: KubeObject;
  /** performance.now() when the event's line arrived. */
  readonly at: number;
}

export interface Watch {
  stop(): Promise<void>;
}

/**
 * Watches `path` from `resourceVersion` and calls `onEvent` for each change. Bookmarks move the
 * resume point; a closed stream is reopened from the last version seen.
 */
export function watchCollection(
  transport: HttpTransport,
  path: string,
  resourceVersion: string,
  onEvent: (event: WatchEvent) => void,
): Watch {
  const abort = new AbortController();
  let rv = resourceVersion;
  const loop = async () => {
    while (!abort.signal.aborted) {
      try {
        const response = await transport({
          method: "GET",
          verb: "watch",
          path,
          query: {
            watch: true,
            resourceVersion: rv,
            allowWatchBookmarks: true,
            timeoutSeconds: 3600,
          },
          streaming: true,
          signal: abort.signal,
        });
        if (response.status !== 200) {
          throw new Error(`watch ${path}: HTTP ${response.status} ${await response.text()}`);
        }
        for await (const line of response.lines()) {
          const at = performance.now();
          const event = JSON.parse(line) as { type: string; object: KubeObject };
          const version = event.object.metadata?.resourceVersion;
          if (version !== undefined) rv = version;
          if (event.type === "ERROR") throw new Error(`watch ${path}: ${line}`);
          if (event.type === "BOOKMARK") continue;
          onEvent({ type: event.type as WatchEvent["type"], object: event.object, at });
        }
      } catch (error) {
        if (abort.signal.aborted) return;
        throw error;
      }
    }
  };
  const done = loop();
  done.catch((error: unknown) => {
    console.error(`bench: ${String(error)}`);
    process.exitCode = 1;
  });
  return {
    stop: async () => {
      abort.abort();
      await done.catch(() => {});
    },
  };
}
