// Source Secrets: metadata from the watch cache, data read on demand and kept while its version holds.
import {
  builtinResources,
  formatKey,
  type HttpTransport,
  type KubeObject,
  type ReadonlyStore,
  requestJson,
  resourcePath,
} from "../runtime/index.ts";
import type { SourceSecret } from "./bindings/index.ts";
import type { SecretReader } from "./reconcile/index.ts";

/** The label on every object the operator owns; owned Secrets keep their data in the cache. */
export const OWNED_SELECTOR_LABEL = "app.kubernetes.io/managed-by";

/**
 * The cache keeps Secrets it does not own without `data`: a cluster's Secrets (Helm releases,
 * tokens) would otherwise fill the operator's memory with credentials it never reads.
 */
export function stripForeignSecretData(obj: KubeObject): KubeObject {
  if (obj.metadata?.labels?.[OWNED_SELECTOR_LABEL] === "stateless-operator") return obj;
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
  readonly #transport: HttpTransport;
  readonly #data = new Map<string, { version: string; secret: SourceSecret }>();

  constructor(store: ReadonlyStore<KubeObject>, transport: HttpTransport) {
    this.#store = store;
    this.#transport = transport;
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
    try {
      const secret = await requestJson<SourceSecret & KubeObject>(this.#transport, {
        method: "GET",
        verb: "get",
        path: resourcePath(builtinResources.secret, { namespace, name }),
        ...(signal ? { signal } : {}),
      });
      const kept: SourceSecret = {
        metadata: { name, namespace },
        ...(secret.type ? { type: secret.type } : {}),
        ...(secret.data ? { data: secret.data } : {}),
      };
      this.#data.set(key, { version: secret.metadata?.resourceVersion ?? version, secret: kept });
      return kept;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  }

  /** Drops remembered data of a Secret that is gone. */
  forget(namespace: string | undefined, name: string): void {
    this.#data.delete(formatKey(namespace, name));
  }
}
