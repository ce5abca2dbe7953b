// A Plan as text, one line per step: for the reconcile debug log and for explaining a render. Pure.
import type { ChildAction, Plan } from "./plan.ts";

const nameOf = (a: ChildAction) => `${a.object.kind} ${a.object.metadata?.name ?? ""}`;

function childLine(a: ChildAction): string {
  switch (a.action) {
    case "apply": {
      const notes = [
        a.live === undefined ? "create" : "update if it differs",
        ...(a.handOffReplicas === undefined
          ? []
          : [`first keep replicas ${a.handOffReplicas} under a hand-off manager`]),
        ...(a.removeForbidden === undefined
          ? []
          : [`remove ${a.removeForbidden.findings.join("; ")}`]),
        ...(a.reportDrift ? ["a write is reported as drift"] : []),
        ...(a.requires === undefined ? [] : [`only once ${a.requires.join(", ")} is in place`]),
      ];
      return `apply ${nameOf(a)} (${notes.join(", ")})`;
    }
    case "keep":
      return `keep ${nameOf(a)}: ${a.reason}`;
    case "delete":
      return `delete ${nameOf(a)}: ${a.reason}`;
    case "refuse":
      return `refuse ${nameOf(a)} (name in use): ${a.problem}`;
  }
}

/** `plan for ns/name` and the steps in order; what finishPlan adds appears once it ran. */
export function formatPlan(plan: Plan): string {
  const lines = [`plan for ${plan.key}`];
  for (const problem of plan.problems ?? []) lines.push(`  invalid spec: ${problem}`);
  for (const child of plan.children) lines.push(`  ${childLine(child)}`);
  if (plan.recycle !== undefined) {
    const names = plan.recycle.processes.map((p) => p.name).join(", ");
    lines.push(`  look for pods older than ${plan.recycle.maxLifetimeMs} ms (${names})`);
  }
  for (const e of plan.evictions)
    lines.push(`  evict pod ${e.pod.namespace}/${e.pod.name} (${e.process})`);
  if (plan.status !== undefined) {
    const conditions = (plan.status.conditions ?? [])
      .map((c) => `${c.type}=${c.status} ${c.reason}`)
      .join(", ");
    lines.push(`  status: ${conditions}${plan.status.summary ? ` (${plan.status.summary})` : ""}`);
  }
  for (const e of plan.events) lines.push(`  event ${e.type} ${e.reason}: ${e.message}`);
  lines.push(
    plan.requeueAfterMs === undefined
      ? "  then: wait for a change"
      : `  then: look again in ${plan.requeueAfterMs} ms`,
  );
  return lines.join("\n");
}
