// desired(app, observed): every object a StatelessApp should own. Pure and deterministic.
import type { KubernetesObject } from "@kubernetes/client-node";
import type { StatelessApp } from "../../api/index.ts";
import type { NormalizedBinding } from "../bindings/index.ts";
import { renderAutoscaler } from "./autoscaler.ts";
import { type RenderWarning, shadowedBindingEnv } from "./bindings.ts";
import { renderDeployment, userEnv } from "./deployment.ts";
import { renderDisruptionBudget } from "./disruption.ts";
import { renderReleaseJob } from "./release.ts";
import { renderBindingSecret } from "./secret.ts";
import { renderService } from "./service.ts";

/** What the reconciler learned from the cluster that the render depends on. */
export interface Observed {
  /**
   * The app's bindings resolved from their sources, with the hash of their data. Undefined when
   * unknown (an offline render): binding Secrets are then left out and pods carry no hash.
   */
  readonly bindings?: { readonly resolved: readonly NormalizedBinding[]; readonly hash: string };
  /** The hash of the envFrom and config sources' data; undefined when unknown or when there are none. */
  readonly configHash?: string;
}

export interface Desired {
  /** Owned objects in apply order: binding Secrets first, so pods never start without them; the release Job last. */
  readonly objects: KubernetesObject[];
  readonly warnings: RenderWarning[];
}

export function desired(app: StatelessApp, observed: Observed = {}): Desired {
  const objects: KubernetesObject[] = [];
  const warnings: RenderWarning[] = [];
  const hasBindings = (app.spec.backingServices ?? []).length > 0;
  for (const binding of observed.bindings?.resolved ?? [])
    objects.push(renderBindingSecret(app, binding));
  for (const proc of app.spec.processes) {
    const hash = hasBindings ? observed.bindings?.hash : undefined;
    objects.push(renderDeployment(app, proc, hash, observed.configHash));
    for (const object of [
      renderService(app, proc),
      renderDisruptionBudget(app, proc),
      renderAutoscaler(app, proc),
    ]) {
      if (object !== undefined) objects.push(object);
    }
    for (const w of shadowedBindingEnv(app, userEnv(app, proc))) {
      if (!warnings.some((x) => x.message === w.message)) warnings.push(w);
    }
  }
  // Last: the release Job mounts the binding Secrets, and the plan holds the Deployments on it.
  const job = renderReleaseJob(app);
  if (job !== undefined) objects.push(job);
  return { objects, warnings };
}
