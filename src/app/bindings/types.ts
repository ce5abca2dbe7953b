// The shapes a binding passes through: the source Secret, the Provisioned Service and the normalized binding.
import type { BackingService } from "../../api/index.ts";

export type BindingType = BackingService["type"];

/**
 * A Secret as the apiserver returns it: `data` values are base64. Structurally a subset of
 * client-node's V1Secret, so the reconciler passes what it read; only `data` and `type` are used.
 */
export interface SourceSecret {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly data?: Readonly<Record<string, string>>;
  readonly type?: string;
}

/** Any resource that may carry `status.binding.name` (servicebinding.io Provisioned Service). */
export interface ProvisionedService {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly status?: unknown;
}

/** What a binding's normalized Secret holds: Service Binding well-known entries, as plain text. */
export interface NormalizedBinding {
  readonly name: string;
  readonly type: BindingType;
  /**
   * Always: `type`, `host`, `port`, `uri` (and `servers` for memcached). When known: `provider`,
   * `username`, `password`, `database`, and `tls` + `ssl` = "true" for a TLS connection.
   */
  readonly entries: Readonly<Record<string, string>>;
}
