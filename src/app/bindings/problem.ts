// Why a binding cannot be resolved: a reason for the condition and a message that never holds a secret value.

export const BINDING_PROBLEM_REASONS = {
  /** The binding names no source (the schema forbids it; kept for callers that skip the schema). */
  NoSource: "NoSource",
  SecretNotFound: "SecretNotFound",
  ServiceNotFound: "ServiceNotFound",
  /** The Provisioned Service exists but has not published `status.binding.name` yet. */
  ServiceNotReady: "ServiceNotReady",
  InvalidEncoding: "InvalidEncoding",
  TypeMismatch: "TypeMismatch",
  MissingHost: "MissingHost",
  InvalidHost: "InvalidHost",
  InvalidPort: "InvalidPort",
  InvalidURI: "InvalidURI",
  InvalidDatabase: "InvalidDatabase",
  InvalidTLS: "InvalidTLS",
  InvalidServers: "InvalidServers",
} as const;

export type BindingProblemReason =
  (typeof BINDING_PROBLEM_REASONS)[keyof typeof BINDING_PROBLEM_REASONS];

export interface BindingProblem {
  /** CamelCase, usable as a condition reason. */
  readonly reason: BindingProblemReason;
  /** Names the Secret (or Provisioned Service) and the key; never a value read from a Secret. */
  readonly message: string;
  /** The binding (`spec.backingServices[].name`) the problem belongs to. */
  readonly binding: string;
  /** The source Secret; absent when a Provisioned Service has not named one. */
  readonly secretName?: string;
  /** The Secret key at fault, when one is. */
  readonly key?: string;
}

/** A problem with one key of a source Secret: `Secret "x" key "port": <detail>`. */
export function keyProblem(
  reason: BindingProblemReason,
  binding: string,
  secretName: string,
  key: string,
  detail: string,
): BindingProblem {
  return {
    reason,
    message: `Secret ${JSON.stringify(secretName)} key ${JSON.stringify(key)}: ${detail}`,
    binding,
    secretName,
    key,
  };
}
