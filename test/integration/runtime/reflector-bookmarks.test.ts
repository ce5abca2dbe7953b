// Bookmarks on a real kube-apiserver reach an idle watch and are taken without a restart or relist.
// Slow on purpose (about a minute): the apiserver sends a bookmark to an idle watch about once a
// minute. That a bookmark resets the inactivity timer is the reflector's unit test; here the point
// is that the real server sends them on our watch requests and the reflector takes them in.
import { expect, test } from "vitest";
import { builtinResources, httpListWatch, Reflector } from "../../../src/runtime/index.ts";
import {
  createTestNamespace,
  eventually,
  printClusterLogsOnFailure,
} from "../../support/cluster.ts";
import { countingTransport } from "./helpers.ts";

printClusterLogsOnFailure();

test("an idle watch receives bookmarks from the API server, with no restart and no relist", {
  timeout: 180_000,
}, async () => {
  const namespace = await createTestNamespace("bookmarks");
  const http = countingTransport();
  const restarts: string[] = [];
  const bookmarks: number[] = [];
  const reflector = new Reflector({
    resource: builtinResources.configMap,
    source: httpListWatch(http.transport, builtinResources.configMap),
    namespaces: [namespace],
    // Longer than the wait below: only a bookmark or an event can be seen, never a timeout.
    inactivityTimeoutMs: 170_000,
    watchTimeoutSeconds: { min: 170, max: 170 },
    metrics: {
      watchRestarted: (why) => restarts.push(why),
      event: (type) => {
        if (type === "BOOKMARK") bookmarks.push(Date.now());
      },
    },
  });
  reflector.start();
  try {
    await reflector.whenSynced();
    await eventually(async () => bookmarks.length > 0, {
      timeoutMs: 150_000,
      intervalMs: 1000,
      what: "a bookmark",
    });
  } finally {
    await reflector.stop();
  }
  expect(restarts).toEqual([]);
  expect(http.counts.get("list")).toBe(1);
});
