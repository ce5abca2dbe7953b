// The Secrets of a binding: the source it reads (secretRef, or a Provisioned Service's status.binding.name) and the one it owns.
import { type BackingService, err, ok, type Result } from "../../api/index.ts";
import { BINDING_PROBLEM_REASONS, type BindingProblem } from "./problem.ts";
import type { ProvisionedService } from "./types.ts";

/**
 * The source Secret's name. For a `service` binding, `provisionedService` is the resource the
 * reconciler read (undefined when it does not exist); it becomes usable once it publishes
 * `status.binding.name`, as the Service Binding specification's Provisioned Service duck type says.
 */
export function bindingSecretName(
  binding: BackingService,
  provisionedService: ProvisionedService | undefined,
): Result<string, BindingProblem> {
  if (binding.secretRef !== undefined) return ok(binding.secretRef.name);
  const service = binding.service;
  if (service === undefined)
    return err({
      reason: BINDING_PROBLEM_REASONS.NoSource,
      message: `binding ${JSON.stringify(binding.name)} has neither secretRef nor service`,
      binding: binding.name,
    });
  const described = `Provisioned Service ${service.apiVersion} ${service.kind} ${JSON.stringify(service.name)}`;
  if (provisionedService === undefined)
    return err({
      reason: BINDING_PROBLEM_REASONS.ServiceNotFound,
      message: `${described} not found`,
      binding: binding.name,
    });
  const name = statusBindingName(provisionedService.status);
  if (name === undefined)
    return err({
      reason: BINDING_PROBLEM_REASONS.ServiceNotReady,
      message: `${described} has no status.binding.name yet`,
      binding: binding.name,
    });
  return ok(name);
}

/** `status.binding.name` of an untyped status, when it is a non-empty string. */
function statusBindingName(status: unknown): string | undefined {
  if (!isRecord(status) || !isRecord(status.binding)) return undefined;
  const name = status.binding.name;
  return typeof name === "string" && name !== "" ? name : undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The owned Secret holding a binding's normalized entries: `<app>-binding-<binding>`. */
export const normalizedSecretName = (appName: string, bindingName: string): string =>
  `${appName}-binding-${bindingName}`;
