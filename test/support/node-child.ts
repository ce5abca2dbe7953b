// A runner that starts the node tier, runs a pod, says so and waits to be killed
// (test/support/node-recovery.ts kills it with SIGKILL).

import { startCluster } from "../../tools/cluster/index.ts";

const cluster = await startCluster({ tier: "node", log: () => {} });
const pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "victim" },
  spec: {
    terminationGracePeriodSeconds: 1,
    containers: [{ name: "pause", image: "registry.k8s.io/pause:3.10", imagePullPolicy: "Never" }],
  },
};
const created = await cluster.api("POST", "/api/v1/namespaces/default/pods", pod);
if (created.status !== 201)
  throw new Error(`creating the pod: HTTP ${created.status} ${created.body}`);
for (;;) {
  const res = await cluster.api("GET", "/api/v1/namespaces/default/pods/victim");
  const phase = (JSON.parse(res.body) as { status?: { phase?: string } }).status?.phase;
  if (phase === "Running") break;
  await new Promise((r) => setTimeout(r, 250));
}
console.log(`RUNNING ${cluster.dir}`);
setInterval(() => {}, 60_000);
