// The PodDisruptionBudget of a process type that runs at least two processes.
import type { V1PodDisruptionBudget } from "@kubernetes/client-node";
import type { Process, StatelessApp } from "../../api/index.ts";
import { childName, metadataFor, selectorFor } from "./metadata.ts";

/** The fewest processes a type runs: its replicas, or the autoscaler's floor. */
export const minimumReplicas = (proc: Process): number =>
  proc.autoscale === undefined ? (proc.replicas ?? 1) : (proc.autoscale.minReplicas ?? 1);

/** Undefined below two processes: a budget there would block every node drain. */
export function renderDisruptionBudget(
  app: StatelessApp,
  proc: Process,
): V1PodDisruptionBudget | undefined {
  if (minimumReplicas(proc) < 2) return undefined;
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: metadataFor(app, childName(app, proc.name), proc.name),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorFor(app, proc.name) } },
  };
}
