// Test projects: unit (fakes only), integration (etcd + kube-apiserver), e2e (full control plane).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // Provisions the system packages unit tests run (tools/provision).
          globalSetup: ["test/support/unit.global.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          // Starts etcd + kube-apiserver once per run (or uses TEST_KUBECONFIG); see tools/cluster.
          globalSetup: ["test/support/integration.global.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: ["test/support/e2e.global.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
