// The env variables a binding gives every process: named here, once, for the renderer and for the API's rules.

export type BindingType = "redis" | "memcached";

/** `sessions-cache` → `SESSIONS_CACHE`: the prefix of a binding's env variables. */
export const envPrefix = (bindingName: string): string =>
  bindingName.toUpperCase().replaceAll("-", "_");

/** Per type: the env name suffix, the normalized Secret key it reads, and whether it may be missing. */
export const ENTRY_ENV: Readonly<
  Record<BindingType, readonly (readonly [suffix: string, key: string, optional: boolean])[]>
> = {
  redis: [
    ["HOST", "host", false],
    ["PORT", "port", false],
    ["URL", "uri", false],
    ["USERNAME", "username", true],
    ["PASSWORD", "password", true],
  ],
  memcached: [
    ["HOST", "host", false],
    ["PORT", "port", false],
    ["URL", "uri", false],
    ["SERVERS", "servers", false],
    ["USERNAME", "username", true],
    ["PASSWORD", "password", true],
  ],
};

/** The alias an app with exactly one binding of a type also gets, and the key it reads. */
export const TYPE_ALIAS: Readonly<Record<BindingType, readonly [name: string, key: string]>> = {
  redis: ["REDIS_URL", "uri"],
  memcached: ["MEMCACHED_SERVERS", "servers"],
};

export const BINDING_TYPES = Object.keys(ENTRY_ENV) as BindingType[];

/** One env variable a binding sets: its name, the binding it reads and the key. */
export interface BindingEnvEntry {
  readonly name: string;
  readonly binding: string;
  readonly key: string;
  readonly optional: boolean;
}

/**
 * Every env variable the bindings set, in order: each binding's own, then the type aliases. An
 * alias that repeats a binding's own variable exactly (a redis binding named `redis`) is left
 * out; one that names another binding's variable is a conflict the API refuses
 * (see aliasConflicts).
 */
export function bindingEnv(
  bindings: readonly { readonly name: string; readonly type: BindingType }[],
): BindingEnvEntry[] {
  const out: BindingEnvEntry[] = [];
  for (const b of bindings)
    for (const [suffix, key, optional] of ENTRY_ENV[b.type])
      out.push({ name: `${envPrefix(b.name)}_${suffix}`, binding: b.name, key, optional });
  for (const type of BINDING_TYPES) {
    const ofType = bindings.filter((b) => b.type === type);
    const [only] = ofType;
    if (ofType.length !== 1 || only === undefined) continue;
    const [name, key] = TYPE_ALIAS[type];
    const same = out.find((e) => e.name === name);
    if (same !== undefined && same.binding === only.name && same.key === key) continue;
    out.push({ name, binding: only.name, key, optional: false });
  }
  return out;
}

/**
 * The bindings whose own variable takes the name of type `type`'s alias: a binding of another
 * type named after it (a memcached binding named `redis` sets REDIS_URL).
 */
export function aliasConflicts(type: BindingType): { name: string; type: BindingType }[] {
  const [alias] = TYPE_ALIAS[type];
  return BINDING_TYPES.filter((other) => other !== type).flatMap((other) =>
    ENTRY_ENV[other]
      .filter(([suffix]) => alias.endsWith(`_${suffix}`))
      .map(([suffix]) => ({
        name: alias
          .slice(0, -(suffix.length + 1))
          .toLowerCase()
          .replaceAll("_", "-"),
        type: other,
      })),
  );
}
