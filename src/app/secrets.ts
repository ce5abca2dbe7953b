// Source Secrets: metadata from the watch cache, data read on demand and kept while its version holds.
import {
  builtinResources,
  type Client,
  formatKey,
  type KubeObject,
  type ReadonlyStore,
} from "../runtime/index.ts";
import type { SourceSecret } from "./bindings/index.ts";
import type { SecretReader } from "./reconcile/index.ts";
import { LABEL_MANAGED_BY, MANAGED_BY } from "./render/index.ts";

/**
 * The cache keeps Secrets it does not own without `data`: a cluster's Secrets (Helm releases,
 * tokens) would otherwise fill the operator's memory with credentials it never reads.
 */
export function stripForeignSecretData(obj: KubeObject): KubeObject {
  // Owned Secrets (the normalized binding Secrets we write) keep their data.
  if (obj.metadata?.labels?.[LABEL_MANAGED_BY] === MANAGED_BY) return obj;
  const {
    data: _data,
    stringData: _stringData,
    ...rest
  } = obj as KubeObject & { data?: unknown; stringData?: unknown };
  return rest;
}

/**
 * Reads a source Secret's data with one GET per version: the cache says whether it exists and
 * which version is current; the data of that version is fetched once and remembered.
 */
export class CachedSecretReader implements SecretReader {
  readonly #store: ReadonlyStore<KubeObject>;
  readonly #client: Client;
  readonly #data = new Map<string, { version: string; secret: SourceSecret }>();

  constructor(store: ReadonlyStore<KubeObject>, client: Client) {
    this.#store = store;
    this.#client = client;
  }

  async read(
    namespace: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<SourceSecret | undefined> {
    const key = formatKey(namespace, name);
    const meta = this.#store.get(key);
    if (meta === undefined) {
      this.#data.delete(key);
      return undefined;
    }
    if ((meta as { data?: unknown }).data !== undefined) return meta as SourceSecret;
    const version = meta.metadata?.resourceVersion ?? "";
    const known = this.#data.get(key);
    if (known !== undefined && known.version === version) return known.secret;
    const secret = await this.#client.get<SourceSecret & KubeObject>(
      builtinResources.secret,
      { namespace, name },
      { signal },
    );
    if (secret === undefined) return undefined;
    const kept: SourceSecret = {
      metadata: { name, namespace },
      ...(secret.type ? { type: secret.type } : {}),
      ...(secret.data ? { data: secret.data } : {}),
    };
    this.#data.set(key, { version: secret.metadata?.resourceVersion ?? version, secret: kept });
    return kept;
  }
}
