// The operator with STREAMING_LISTS on a real kube-apiserver: its caches fill from watch-lists (sendInitialEvents), not list pages, and it converges and follows changes as with lists.
import type { V1Deployment } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestNamespace, printClusterLogsOnFailure } from "../../support/cluster.ts";
import {
  applyAsUser,
  getObject,
  installCrd,
  settledApp,
  startTestOperator,
  type TestOperator,
} from "../../support/operator.ts";

printClusterLogsOnFailure();

let ns: string;
let op: TestOperator | undefined;

const app = (name: string, image: string) => ({
  apiVersion: "twelvefactor.dev/v1alpha1",
  kind: "StatelessApp",
  metadata: { name, namespace: ns },
  spec: { image, processes: [{ name: "web" }] },
});

beforeAll(async () => {
  await installCrd();
  ns = await createTestNamespace("streaming");
  // Apps that exist before the start: the streaming lists' initial events must carry them.
  await applyAsUser([
    app("before-a", "registry.example.com/a:1"),
    app("before-b", "registry.example.com/b:1"),
  ]);
});
afterAll(async () => {
  await op?.stop();
});

test("fills its caches from streaming lists (no list request), converges the apps that existed, and follows changes", async () => {
  op = await startTestOperator({ namespaces: [ns], streamingList: true });
  for (const name of ["before-a", "before-b"]) await settledApp(ns, name);
  await applyAsUser([app("after", "registry.example.com/c:1")]);
  await settledApp(ns, "after");
  await applyAsUser([app("before-a", "registry.example.com/a:2")]);
  const changed = await settledApp(ns, "before-a", (a) => a.metadata.generation === 2);
  expect(changed.status?.observedGeneration).toBe(2);
  const web = await getObject<V1Deployment>("Deployment", ns, "before-a-web");
  expect(web?.spec?.template.spec?.containers[0]?.image).toBe("registry.example.com/a:2");
  expect(op.requests.counts.get("list") ?? 0).toBe(0);
  expect(op.requests.counts.get("watch") ?? 0).toBeGreaterThan(0);
});
