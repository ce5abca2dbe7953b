// The admission policies can be applied by two tools at once (a GitOps controller and kubectl) without conflicts.
import { expect, test } from "vitest";
import { renderPolicySet } from "../../src/app/policies/index.ts";
import { type KubeObject, requestJson } from "../../src/runtime/index.ts";
import { printClusterLogsOnFailure } from "../support/cluster.ts";
import { adminTransport } from "../support/operator.ts";

printClusterLogsOnFailure();

const path = (o: KubeObject) =>
  `/apis/admissionregistration.k8s.io/v1/${o.kind === "ValidatingAdmissionPolicy" ? "validatingadmissionpolicies" : "validatingadmissionpolicybindings"}/${o.metadata?.name}`;

test("a second field manager applying the same policies meets no conflict over defaulted fields", async () => {
  const objects = renderPolicySet().flatMap((g) => [g.policy, ...g.bindings]) as KubeObject[];
  expect(objects.length).toBeGreaterThan(3);
  for (const manager of ["gitops", "kubectl"]) {
    for (const o of objects) {
      // Without force: a conflict is an error (409), not silently taken over.
      await requestJson(adminTransport(), {
        method: "PATCH",
        path: path(o),
        query: { fieldManager: manager, dryRun: "All" },
        contentType: "application/apply-patch+yaml",
        body: JSON.stringify(o),
      }).catch((error: unknown) => {
        throw new Error(
          `${manager} applying ${o.kind} ${o.metadata?.name}: ${(error as Error).message}`,
        );
      });
      if (manager === "gitops") {
        await requestJson(adminTransport(), {
          method: "PATCH",
          path: path(o),
          query: { fieldManager: manager },
          contentType: "application/apply-patch+yaml",
          body: JSON.stringify(o),
        });
      }
    }
  }
});
