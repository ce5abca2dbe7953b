// Resolves an app's bindings: source Secret (direct or through a Provisioned Service) → normalized entries.
import type { StatelessApp } from "../../api/index.ts";
import {
  bindingSecretName,
  type NormalizedBinding,
  normalizeBinding,
  normalizedSecretName,
} from "../bindings/index.ts";
import type { BindingOutcome } from "../status/index.ts";
import type { ReconcileDeps } from "./deps.ts";

export interface ResolvedBindings {
  readonly outcomes: BindingOutcome[];
  readonly resolved: NormalizedBinding[];
  readonly ready: boolean;
}

export async function resolveBindings(
  app: StatelessApp,
  deps: Pick<ReconcileDeps, "secrets" | "provisioned">,
  signal?: AbortSignal,
): Promise<ResolvedBindings> {
  const namespace = app.metadata.namespace ?? "default";
  const outcomes: BindingOutcome[] = [];
  const resolved: NormalizedBinding[] = [];
  for (const binding of app.spec.backingServices ?? []) {
    const fail = (problem: string) =>
      outcomes.push({ name: binding.name, type: binding.type, problem });
    let service: Parameters<typeof bindingSecretName>[1];
    if (binding.service !== undefined) {
      const found = deps.provisioned.lookup(namespace, binding.service);
      if (found.state === "unavailable") {
        fail(found.message);
        continue;
      }
      service = found.state === "found" ? found.object : undefined;
    }
    const source = bindingSecretName(binding, service);
    if (!source.ok) {
      fail(source.error.message);
      continue;
    }
    const secret = await deps.secrets.read(namespace, source.value, signal);
    const normalized = normalizeBinding(binding, secret, { secretName: source.value });
    if (!normalized.ok) {
      fail(normalized.error.message);
      continue;
    }
    resolved.push(normalized.value);
    outcomes.push({
      name: binding.name,
      type: binding.type,
      secretName: normalizedSecretName(app.metadata.name, binding.name),
    });
  }
  return { outcomes, resolved, ready: outcomes.every((o) => o.problem === undefined) };
}
