// The Service of a process type with ports: ClusterIP, and no session affinity, stated explicitly.
import type { V1Service } from "@kubernetes/client-node";
import type { Process, StatelessApp } from "../../api/index.ts";
import { childName, metadataFor, selectorFor } from "./metadata.ts";

/** Undefined for a process without ports: nothing reaches it over the network. */
export function renderService(app: StatelessApp, proc: Process): V1Service | undefined {
  const ports = proc.ports ?? [];
  if (ports.length === 0) return undefined;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadataFor(app, childName(app, proc.name), proc.name),
    spec: {
      type: "ClusterIP",
      // Any process may serve the next request: affinity would make a process's memory matter.
      sessionAffinity: "None",
      selector: selectorFor(app, proc.name),
      ports: ports.map((p) => ({
        name: p.name,
        port: p.servicePort ?? p.containerPort,
        targetPort: p.name,
        protocol: p.protocol ?? "TCP",
      })),
    },
  };
}
