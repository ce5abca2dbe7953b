// Shared by the runtime integration tests: a request-counting transport on the tier's admin kubeconfig.
import { type HttpTransport, instrumentTransport } from "../../../src/runtime/index.ts";
import { providedCluster } from "../../support/cluster.ts";
import { transportOf } from "../../support/connection.ts";

export interface CountingTransport {
  readonly transport: HttpTransport;
  /** Requests per verb (get, list, watch, apply, apply-status, patch, create, update, delete). */
  readonly counts: Map<string, number>;
  /** Requests that change something. */
  writes(): number;
  reset(): void;
}

const writeVerbs = new Set(["apply", "apply-status", "patch", "create", "update", "delete"]);

export function countingTransport(): CountingTransport {
  const counts = new Map<string, number>();
  const transport = instrumentTransport(transportOf(providedCluster().kubeconfig), {
    request: (verb) => counts.set(verb, (counts.get(verb) ?? 0) + 1),
  });
  return {
    transport,
    counts,
    writes: () =>
      [...counts].filter(([verb]) => writeVerbs.has(verb)).reduce((n, [, c]) => n + c, 0),
    reset: () => counts.clear(),
  };
}
