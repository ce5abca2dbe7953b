// Bookmarks on a real kube-apiserver keep an idle watch alive past the reflector's inactivity timeout.
// Slow on purpose (about 80 s): the apiserver sends a bookmark to an idle watch about once a minute.
import { expect, test } from "vitest";
import { builtinResources, httpListWatch, Reflector } from "../../../src/runtime/index.ts";
import { createTestNamespace, printClusterLogsOnFailure } from "../../support/cluster.ts";
import { countingTransport } from "./helpers.ts";

printClusterLogsOnFailure();

test("an idle watch receives a bookmark about every minute, which keeps the inactivity timer from firing", {
  timeout: 120_000,
}, async () => {
  const namespace = await createTestNamespace("bookmarks");
  const http = countingTransport();
  const restarts: string[] = [];
  const bookmarks: number[] = [];
  const reflector = new Reflector({
    resource: builtinResources.configMap,
    source: httpListWatch(http.transport, builtinResources.configMap),
    namespaces: [namespace],
    // Without the bookmark at ~60 s this watch would be declared stalled at 70 s.
    inactivityTimeoutMs: 70_000,
    watchTimeoutSeconds: { min: 78, max: 78 },
    metrics: {
      watchRestarted: (why) => restarts.push(why),
      event: (type) => {
        if (type === "BOOKMARK") bookmarks.push(Date.now());
      },
    },
  });
  const started = Date.now();
  reflector.start();
  await reflector.whenSynced();
  await new Promise((resolve) => setTimeout(resolve, 80_000));
  await reflector.stop();
  expect(bookmarks.length).toBeGreaterThanOrEqual(1);
  expect((bookmarks[0] ?? 0) - started).toBeLessThan(70_000);
  expect(restarts).toEqual(["closed"]);
  expect(http.counts.get("list")).toBe(1);
});
