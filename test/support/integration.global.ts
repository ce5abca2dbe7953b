// vitest globalSetup of the integration project: etcd + kube-apiserver, once per run.

import type { TestProject } from "vitest/node";
import { setupTier } from "./tier.ts";

export default function setup(project: TestProject) {
  return setupTier(project, "integration");
}
