// The normalized binding Secret of one backing service: Service Binding entries the pods mount.
import type { V1Secret } from "@kubernetes/client-node";
import type { StatelessApp } from "../../api/index.ts";
import { bindingSecretName, metadataFor } from "./metadata.ts";

/** What the renderer needs of a resolved binding: its name, type and normalized entries. */
export interface ResolvedBinding {
  readonly name: string;
  readonly type: "redis" | "memcached";
  readonly entries: Readonly<Record<string, string>>;
}

export function renderBindingSecret(app: StatelessApp, binding: ResolvedBinding): V1Secret {
  const data = Object.fromEntries(
    Object.keys(binding.entries)
      .sort()
      .map((key) => [key, Buffer.from(binding.entries[key] ?? "", "utf8").toString("base64")]),
  );
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: metadataFor(app, bindingSecretName(app.metadata.name, binding.name)),
    type: `servicebinding.io/${binding.type}`,
    data,
  };
}
