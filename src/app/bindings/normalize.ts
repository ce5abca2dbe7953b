// normalizeBinding: one source Secret, in any accepted layout, to Service Binding well-known entries.
import { type BackingService, err, ok, type Result } from "../../api/index.ts";
import { type Endpoint, formatEndpoint, parseEndpoint, parseHost, parsePort } from "./endpoint.ts";
import { BINDING_PROBLEM_REASONS, type BindingProblem, keyProblem } from "./problem.ts";
import { type Entry, readEntry } from "./source.ts";
import type { BindingType, NormalizedBinding, SourceSecret } from "./types.ts";
import { DEFAULT_PORTS, formatServiceUri, parseServiceUri, type ServiceUri } from "./uri.ts";

export interface NormalizeContext {
  /** The source Secret's name as resolved (`bindingSecretName`): messages name it. */
  readonly secretName: string;
}

/** Source keys per entry, first wins: servicebinding.io names, then common aliases. */
export const SOURCE_KEYS = {
  uri: ["uri", "url"],
  host: ["host", "hostname"],
  port: ["port"],
  username: ["username", "user"],
  password: {
    // The Bitnami charts (and most charts that copy them) store only `<type>-password`.
    redis: ["password", "redis-password"],
    memcached: ["password", "memcached-password"],
  },
  database: ["database", "db"],
  tls: ["tls", "ssl"],
  servers: ["servers"],
  provider: ["provider"],
  type: ["type"],
} as const;

const TYPE_ALIASES: Readonly<Record<string, BindingType>> = {
  redis: "redis",
  valkey: "redis",
  memcached: "memcached",
  memcache: "memcached",
};

const TRUE = new Set(["true", "yes", "on", "1"]);
const FALSE = new Set(["false", "no", "off", "0"]);

/**
 * Reads a binding's source Secret and returns its normalized entries. Discrete keys (`host`,
 * `port`, `password`, …) override the parts of a `uri`; the `uri` entry is always rebuilt from
 * the result, so it is canonical and correctly encoded whatever the source held.
 */
export function normalizeBinding(
  binding: BackingService,
  source: SourceSecret | undefined,
  context: NormalizeContext,
): Result<NormalizedBinding, BindingProblem> {
  const { secretName } = context;
  const type = binding.type;
  if (source === undefined)
    return err({
      reason: BINDING_PROBLEM_REASONS.SecretNotFound,
      message: `Secret ${JSON.stringify(secretName)} not found`,
      binding: binding.name,
      secretName,
    });
  const read = (keys: readonly string[], trim = true) =>
    readEntry(source, binding.name, secretName, keys, trim);
  const problem = (reason: BindingProblem["reason"], key: string, detail: string) =>
    err(keyProblem(reason, binding.name, secretName, key, detail));

  const declared = /^servicebinding\.io\/(.+)$/.exec(source.type ?? "")?.[1];
  if (declared !== undefined && TYPE_ALIASES[declared.toLowerCase()] !== type)
    return err({
      reason: BINDING_PROBLEM_REASONS.TypeMismatch,
      message: `Secret ${JSON.stringify(secretName)} has type ${source.type}, but the binding's type is ${type}`,
      binding: binding.name,
      secretName,
    });

  const typeEntry = read(SOURCE_KEYS.type);
  if (!typeEntry.ok) return typeEntry;
  if (typeEntry.value !== undefined) {
    const named = TYPE_ALIASES[typeEntry.value.value.toLowerCase()];
    if (named !== type)
      return problem(
        "TypeMismatch",
        typeEntry.value.key,
        named === undefined ? `not ${type}` : `${named}, but the binding's type is ${type}`,
      );
  }

  const uriEntry = read(SOURCE_KEYS.uri);
  if (!uriEntry.ok) return uriEntry;
  let fromUri: ServiceUri | undefined;
  if (uriEntry.value !== undefined) {
    const parsed = parseServiceUri(uriEntry.value.value, type);
    if (!parsed.ok) return problem(parsed.error.reason, uriEntry.value.key, parsed.error.detail);
    fromUri = parsed.value;
  }

  let servers: Endpoint[] | undefined;
  if (type === "memcached") {
    const serversEntry = read(SOURCE_KEYS.servers);
    if (!serversEntry.ok) return serversEntry;
    if (serversEntry.value !== undefined) {
      const parsed = parseServers(serversEntry.value, type);
      if (typeof parsed === "string")
        return problem("InvalidServers", serversEntry.value.key, parsed);
      servers = parsed;
    }
  }

  const hostEntry = read(SOURCE_KEYS.host);
  if (!hostEntry.ok) return hostEntry;
  let host: string | undefined;
  if (hostEntry.value !== undefined) {
    host = parseHost(hostEntry.value.value);
    if (host === undefined)
      return problem("InvalidHost", hostEntry.value.key, "not a host name or IP address");
  }

  const portEntry = read(SOURCE_KEYS.port);
  if (!portEntry.ok) return portEntry;
  let port: number | undefined;
  if (portEntry.value !== undefined) {
    port = parsePort(portEntry.value.value);
    if (port === undefined)
      return problem("InvalidPort", portEntry.value.key, "not a number from 1 to 65535");
  }

  // Passwords are taken verbatim: whitespace may be part of one.
  const passwordEntry = read(SOURCE_KEYS.password[type], false);
  if (!passwordEntry.ok) return passwordEntry;
  const usernameEntry = read(SOURCE_KEYS.username, false);
  if (!usernameEntry.ok) return usernameEntry;

  let database: number | undefined;
  if (type === "redis") {
    const databaseEntry = read(SOURCE_KEYS.database);
    if (!databaseEntry.ok) return databaseEntry;
    if (databaseEntry.value !== undefined) {
      if (!/^[0-9]{1,9}$/.test(databaseEntry.value.value))
        return problem(
          "InvalidDatabase",
          databaseEntry.value.key,
          "not a database number (0, 1, …)",
        );
      database = Number(databaseEntry.value.value);
    }
  }

  const tlsEntry = read(SOURCE_KEYS.tls);
  if (!tlsEntry.ok) return tlsEntry;
  let tls = fromUri?.tls ?? false;
  if (tlsEntry.value !== undefined) {
    const flag = tlsEntry.value.value.toLowerCase();
    if (!TRUE.has(flag) && !FALSE.has(flag))
      return problem("InvalidTLS", tlsEntry.value.key, "not a boolean (true or false)");
    tls = TRUE.has(flag);
  }

  const providerEntry = read(SOURCE_KEYS.provider);
  if (!providerEntry.ok) return providerEntry;

  const first = servers?.[0] ?? fromUri?.endpoints[0];
  host ??= first?.host;
  port ??= first?.port ?? DEFAULT_PORTS[type];
  if (host === undefined) return err(missingHost(binding, secretName, passwordEntry.value));
  const endpoint: Endpoint = { host, port };

  // Several memcached servers are kept only when no discrete host/port entry overrides them.
  const pool =
    servers ??
    (fromUri !== undefined &&
    fromUri.endpoints.length > 1 &&
    hostEntry.value === undefined &&
    portEntry.value === undefined
      ? fromUri.endpoints
      : [endpoint]);

  const username = usernameEntry.value?.value ?? fromUri?.username;
  const password = passwordEntry.value?.value ?? fromUri?.password;
  database ??= fromUri?.database;
  const uri = formatServiceUri({
    type,
    tls,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    endpoints: type === "memcached" ? pool : [endpoint],
    ...(database === undefined ? {} : { database }),
  });

  const entries: Record<string, string> = { type };
  if (providerEntry.value !== undefined) entries.provider = providerEntry.value.value;
  entries.host = host;
  entries.port = String(port);
  if (username !== undefined) entries.username = username;
  if (password !== undefined) entries.password = password;
  if (database !== undefined) entries.database = String(database);
  if (tls) {
    // Both spellings: Spring Cloud Bindings reads `ssl`, most other clients say `tls`.
    entries.tls = "true";
    entries.ssl = "true";
  }
  entries.uri = uri;
  if (type === "memcached") entries.servers = pool.map(formatEndpoint).join(",");
  return ok({ name: binding.name, type, entries });
}

/** A `servers` list: `host[:port]` items separated by commas or whitespace. */
function parseServers(entry: Entry, type: BindingType): Endpoint[] | string {
  const items = entry.value.split(/[\s,]+/).filter((item) => item !== "");
  const endpoints: Endpoint[] = [];
  for (const [index, item] of items.entries()) {
    const parsed = parseEndpoint(item, DEFAULT_PORTS[type]);
    if ("fault" in parsed)
      return parsed.fault === "port"
        ? `item ${index + 1}: the port is not a number from 1 to 65535`
        : `item ${index + 1} is not host[:port] (IPv6 in brackets)`;
    endpoints.push(parsed.endpoint);
  }
  return endpoints.length > 0 ? endpoints : "lists no server";
}

function missingHost(
  binding: BackingService,
  secretName: string,
  password: Entry | undefined,
): BindingProblem {
  const keys = binding.type === "memcached" ? `"host", "servers" or "uri"` : `"host" or "uri"`;
  // A chart's password-only Secret is the common case: say why it is not enough.
  const hint =
    password !== undefined && password.key !== "password"
      ? ` (the chart's "${password.key}" alone does not say where the server is)`
      : "";
  return {
    reason: BINDING_PROBLEM_REASONS.MissingHost,
    message: `Secret ${JSON.stringify(secretName)} has no host: add a ${keys} key${hint}`,
    binding: binding.name,
    secretName,
    key: "host",
  };
}
