// Resolves the hash of the ConfigMaps and Secrets an app's envFrom and config read: a change rolls the pods.
import type { StatelessApp } from "../../api/index.ts";
import { formatKey } from "../../runtime/index.ts";
import {
  type ConfigSource,
  configHash,
  configSourcesOf,
  DIGEST_FIELD,
  dataDigest,
} from "../config-sources.ts";
import type { ReconcileDeps } from "./deps.ts";

export async function resolveConfigHash(
  app: StatelessApp,
  deps: Pick<ReconcileDeps, "secrets" | "configMaps">,
  signal?: AbortSignal,
): Promise<{ configHash?: string }> {
  const namespace = app.metadata.namespace ?? "default";
  const sources = configSourcesOf(app.spec);
  const digests = new Map<ConfigSource, string | undefined>();
  for (const source of sources) {
    if (source.kind === "ConfigMap") {
      const cached = deps.configMaps.get(formatKey(namespace, source.name));
      const digest = cached?.[DIGEST_FIELD];
      digests.set(source, typeof digest === "string" ? digest : undefined);
    } else {
      const secret = await deps.secrets.read(namespace, source.name, signal);
      digests.set(source, secret === undefined ? undefined : dataDigest(secret));
    }
  }
  const hash = configHash(sources, (s) => digests.get(s));
  return hash === undefined ? {} : { configHash: hash };
}
