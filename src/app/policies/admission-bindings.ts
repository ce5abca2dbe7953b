// The namespace opt-in: ValidatingAdmissionPolicyBindings selected by the `twelvefactor.dev/enforce` label.
import { GROUP } from "../../api/index.ts";

/** The namespace label that opts a namespace into enforcement. */
export const ENFORCE_LABEL = `${GROUP}/enforce`;

/** The label's values: what a namespace asks for. */
export const enforcementModes = ["deny", "warn", "audit"] as const;
export type EnforcementMode = (typeof enforcementModes)[number];

export type ValidationAction = "Deny" | "Warn" | "Audit";

export interface BindingPlan {
  /** The modes whose namespaces the binding selects. */
  readonly modes: readonly EnforcementMode[];
  readonly actions: readonly ValidationAction[];
}

type Json = { readonly [key: string]: unknown };

/** A binding of `policyName`, named after the policy and its action. */
export function renderBinding(
  policyName: string,
  plan: BindingPlan,
  labels: Readonly<Record<string, string>>,
): Json {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name: `${policyName}-${plan.actions.join("-").toLowerCase()}`, labels },
    spec: {
      policyName,
      validationActions: plan.actions,
      // Defaults written out, as in the policies: matchResources is atomic.
      matchResources: {
        matchPolicy: "Equivalent",
        namespaceSelector: {
          matchExpressions: [{ key: ENFORCE_LABEL, operator: "In", values: plan.modes }],
        },
        objectSelector: {},
      },
    },
  };
}
