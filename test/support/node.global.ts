// vitest globalSetup of the node project: the control plane with one real node (kubelet,
// containerd, kube-proxy), and the images the scenarios run, built from the repository's
// Dockerfiles (tools/images) and imported into the node's containerd. Before it, the README's
// "Real pods without Docker" walk-through runs as written (test/support/readme.ts).

import type { TestProject } from "vitest/node";
import type { ImageName } from "../../tools/images/images.ts";
import { runNodeWalkThrough } from "./readme.ts";
import { setupTier } from "./tier.ts";

export default async function setup(project: TestProject) {
  const images: ImageName[] = ["operator", "session-counter", "redis"];
  if (process.env.STATELESS_OPERATOR_POD_FAILURES === "1") images.push("named-user");
  else {
    console.error(
      "[node] not run: test/node/pod-failures.test.ts (scenario 5) — the operator does not read pod failures yet (issue 19); STATELESS_OPERATOR_POD_FAILURES=1 runs it",
    );
  }
  // The README's real-pod walk-through first: it runs a node tier of its own, and only one can run.
  if (!process.env.TEST_KUBECONFIG)
    await runNodeWalkThrough((line) => console.error(`[node] ${line}`));
  return setupTier(project, "node", { images });
}
