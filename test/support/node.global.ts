// vitest globalSetup of the node project: the control plane with one real node (kubelet,
// containerd, kube-proxy), and the images the scenarios run, built from the repository's
// Dockerfiles (tools/images) and imported into the node's containerd. Before it, the README's
// "Real pods without Docker" walk-through runs as written (test/support/readme.ts), and a
// runner killed with SIGKILL must leave the machine as it was (test/support/node-recovery.ts).

import type { TestProject } from "vitest/node";
import type { ImageName } from "../../tools/images/images.ts";
import { checkRecoveryAfterKill } from "./node-recovery.ts";
import { runNodeWalkThrough } from "./readme.ts";
import { setupTier } from "./tier.ts";

export default async function setup(project: TestProject) {
  const images: ImageName[] = ["operator", "session-counter", "redis", "named-user"];
  // Before the shared tier (only one node tier can run at a time): the README's real-pod
  // walk-through, and a runner killed outright, which must leave nothing behind.
  if (!process.env.TEST_KUBECONFIG) {
    const log = (line: string) => console.error(`[node] ${line}`);
    await runNodeWalkThrough(log);
    await checkRecoveryAfterKill(log);
  }
  return setupTier(project, "node", { images });
}
