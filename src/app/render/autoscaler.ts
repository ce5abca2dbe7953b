// The HorizontalPodAutoscaler of a process type with autoscale: it owns the Deployment's replicas.
import type { V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import type { Process, StatelessApp } from "../../api/index.ts";
import { childName, metadataFor } from "./metadata.ts";

export const DEFAULT_TARGET_CPU_PERCENT = 80;

export function renderAutoscaler(
  app: StatelessApp,
  proc: Process,
): V2HorizontalPodAutoscaler | undefined {
  const autoscale = proc.autoscale;
  if (autoscale === undefined) return undefined;
  const name = childName(app, proc.name);
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: metadataFor(app, name, proc.name),
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
      minReplicas: autoscale.minReplicas ?? 1,
      maxReplicas: autoscale.maxReplicas,
      metrics: [
        {
          type: "Resource",
          resource: {
            name: "cpu",
            target: {
              type: "Utilization",
              averageUtilization:
                autoscale.targetCPUUtilizationPercentage ?? DEFAULT_TARGET_CPU_PERCENT,
            },
          },
        },
      ],
    },
  };
}
