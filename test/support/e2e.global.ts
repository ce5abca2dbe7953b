// vitest globalSetup of the e2e project: the full control plane with kwok's fake nodes, once per run.

import type { TestProject } from "vitest/node";
import { setupTier } from "./tier.ts";

export default function setup(project: TestProject) {
  return setupTier(project, "e2e");
}
