// The ConfigMaps and Secrets an app's envFrom and config name, and the digest of their data that rolls the pods when it changes.
import { createHash } from "node:crypto";
import type { StatelessAppSpec } from "../api/index.ts";
import { formatKey, type KubeObject } from "../runtime/object.ts";

/** A ConfigMap or Secret of the app's namespace that envFrom or config reads. */
export interface ConfigSource {
  readonly kind: "ConfigMap" | "Secret";
  readonly name: string;
}

type Spec = Partial<Pick<StatelessAppSpec, "envFrom" | "config" | "processes">>;

/**
 * The sources an app's spec names, each once, sorted. Read defensively: the cache holds apps
 * whose spec may be invalid.
 */
export function configSourcesOf(spec: unknown): ConfigSource[] {
  const s = (typeof spec === "object" && spec !== null ? spec : {}) as Spec;
  const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
  const found = new Map<string, ConfigSource>();
  const add = (kind: ConfigSource["kind"], name: unknown) => {
    if (typeof name === "string") found.set(`${kind}/${name}`, { kind, name });
  };
  const envFrom = [
    ...list<NonNullable<Spec["envFrom"]>[number]>(s.envFrom),
    ...list<NonNullable<Spec["processes"]>[number]>(s.processes).flatMap((p) =>
      list<NonNullable<Spec["envFrom"]>[number]>(p?.envFrom),
    ),
  ];
  for (const e of envFrom) {
    add("ConfigMap", e?.configMapRef?.name);
    add("Secret", e?.secretRef?.name);
  }
  for (const c of list<NonNullable<Spec["config"]>[number]>(s.config)) {
    add("ConfigMap", c?.configMap?.name);
    add("Secret", c?.secret?.name);
  }
  return [...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

/** `namespace/name` of each source of `kind` the app names: the apps cache indexes by it. */
export const configSourceKeys =
  (kind: ConfigSource["kind"]) =>
  (app: KubeObject): string[] =>
    configSourcesOf((app as { spec?: unknown }).spec)
      .filter((s) => s.kind === kind)
      .map((s) => formatKey(app.metadata?.namespace ?? "", s.name));

/** sha256 of an object's data and binaryData, keys sorted; the same for the same data. */
export function dataDigest(object: { data?: unknown; binaryData?: unknown }): string {
  const sorted = (m: unknown) =>
    typeof m === "object" && m !== null
      ? Object.entries(m as Record<string, unknown>).sort(([a], [b]) =>
          a < b ? -1 : a > b ? 1 : 0,
        )
      : [];
  return createHash("sha256")
    .update(JSON.stringify([sorted(object.data), sorted(object.binaryData)]))
    .digest("hex");
}

/** Where the ConfigMap cache keeps a ConfigMap's digest in place of its data. */
export const DIGEST_FIELD = "dataDigest";

/**
 * The ConfigMap cache keeps each ConfigMap's metadata and the digest of its data, not the data:
 * a cluster's ConfigMaps (CA bundles, dashboards) would otherwise fill the operator's memory.
 */
export function digestConfigMap(obj: KubeObject): KubeObject {
  const {
    data: _d,
    binaryData: _b,
    ...rest
  } = obj as KubeObject & {
    data?: unknown;
    binaryData?: unknown;
  };
  return { ...rest, [DIGEST_FIELD]: dataDigest(obj as { data?: unknown; binaryData?: unknown }) };
}

/**
 * The pod-template hash of an app's config sources: each source's digest, or "absent". Undefined
 * when the app names none (its pods carry no config hash).
 */
export function configHash(
  sources: readonly ConfigSource[],
  digestOf: (source: ConfigSource) => string | undefined,
): string | undefined {
  if (sources.length === 0) return undefined;
  const canonical = sources.map((s) => [s.kind, s.name, digestOf(s) ?? "absent"]);
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex").slice(0, 16);
}
