// The normalized binding Secret of one backing service: Service Binding entries the pods mount.
import type { V1Secret } from "@kubernetes/client-node";
import type { StatelessApp } from "../../api/index.ts";
import { type NormalizedBinding, normalizedSecretName } from "../bindings/index.ts";
import { metadataFor } from "./metadata.ts";

export function renderBindingSecret(app: StatelessApp, binding: NormalizedBinding): V1Secret {
  const data = Object.fromEntries(
    Object.keys(binding.entries)
      .sort()
      .map((key) => [key, Buffer.from(binding.entries[key] ?? "", "utf8").toString("base64")]),
  );
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: metadataFor(app, normalizedSecretName(app.metadata.name, binding.name)),
    type: `servicebinding.io/${binding.type}`,
    data,
  };
}
