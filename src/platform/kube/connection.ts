// The one connection loader: where the API server is and who we are, from a kubeconfig (as kubectl reads it) or the pod's service account.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { parse } from "yaml";
import type { Connection, Headers, RequestCredentials } from "../../runtime/index.ts";
import { ProxyError, proxyFor } from "./proxy.ts";

export class NoClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NoClusterError";
  }
}

export interface KubeConfigOptions {
  /** A kubeconfig file (`--kubeconfig`): wins over the environment. */
  readonly path?: string;
  /** A context instead of the kubeconfig's current one (`--context`). */
  readonly context?: string;
  /** Where the in-cluster service account is mounted. @default SERVICE_ACCOUNT_DIR */
  readonly serviceAccountDir?: string;
}

/** Where a pod's service account credentials are mounted. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** A rotated projected token is re-read at most this often. */
const TOKEN_FILE_TTL_MS = 60_000;

type Env = Readonly<Record<string, string | undefined>>;
type Entry = Record<string, unknown>;

interface Named {
  readonly name: string;
  readonly value: Entry;
  /** The kubeconfig file the entry came from: its relative paths start there. */
  readonly dir: string;
}

interface Merged {
  readonly clusters: Named[];
  readonly users: Named[];
  readonly contexts: Named[];
  readonly currentContext: string | undefined;
}

const isEntry = (v: unknown): v is Entry =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/**
 * The connection to the API server: the given file, else KUBECONFIG (a path list, merged as
 * kubectl merges it: the first value of each name wins), else ~/.kube/config, else the
 * in-cluster service account. The operator, `audit --cluster`, the tests and the benchmark all
 * connect through it. It reads what kubectl reads, with client-go's precedence (inline `-data`
 * over a file; a `tokenFile` re-read every minute over `token`, which is used only while the
 * file cannot be read): client certificates, tokens, token files, basic auth, impersonation
 * (`as`, `as-uid`, `as-groups`, `as-user-extra`), a proxy (`proxy-url`, else HTTPS_PROXY unless
 * NO_PROXY exempts the server). Only a user with an exec plugin or an auth provider is handed to
 * client-node, loaded only then, which computes that user's credentials per request: a token or
 * a client certificate. Never falls back to localhost:8080: with nothing configured it throws a
 * NoClusterError; what it cannot honour (a socks5 proxy, `as-groups` without `as`) is refused.
 */
export async function loadConnection(
  env: Env,
  options: KubeConfigOptions = {},
): Promise<Connection> {
  const { connection, delegated } = resolveConnection(env, options);
  // Loaded now, so that a kubeconfig client-node cannot read fails at start, not on a request.
  await delegated?.();
  return connection;
}

/**
 * loadConnection for callers that cannot wait (test and benchmark helpers): the same
 * connection, but client-node, when a user needs it, is loaded on the first request.
 */
export function loadConnectionSync(env: Env, options: KubeConfigOptions = {}): Connection {
  return resolveConnection(env, options).connection;
}

interface Resolved {
  readonly connection: Connection;
  /** The credentials of an exec-plugin or auth-provider user, from client-node. */
  readonly delegated?: () => Promise<Authorizer>;
}

type Authorizer = () => Promise<RequestCredentials>;

function resolveConnection(env: Env, options: KubeConfigOptions): Resolved {
  try {
    return resolveFromFiles(env, options);
  } catch (error) {
    if (error instanceof ProxyError) throw new NoClusterError(error.message);
    throw error;
  }
}

function resolveFromFiles(env: Env, options: KubeConfigOptions): Resolved {
  const files = kubeconfigFiles(env, options);
  if (files.length === 0) {
    if (env.KUBERNETES_SERVICE_HOST !== undefined && env.KUBERNETES_SERVICE_PORT !== undefined) {
      return { connection: inClusterConnection(env, options.serviceAccountDir) };
    }
    throw new NoClusterError(
      "no cluster configured: set KUBECONFIG, create ~/.kube/config, or run inside a pod (npm start starts a local cluster when none is configured)",
    );
  }
  const merged = mergeKubeconfigs(files);
  const contextName = options.context ?? merged.currentContext;
  if (contextName === undefined)
    throw new NoClusterError(`the kubeconfig (${files.join(", ")}) sets no current-context`);
  const context = merged.contexts.find((c) => c.name === contextName)?.value;
  if (context === undefined)
    throw new NoClusterError(`the kubeconfig has no context "${contextName}"`);
  const cluster = merged.clusters.find((c) => c.name === str(context.cluster));
  const server = str(cluster?.value.server);
  if (cluster === undefined || server === undefined) {
    throw new NoClusterError(
      `the kubeconfig's context "${contextName}" names no cluster with a server`,
    );
  }
  const user = merged.users.find((u) => u.name === str(context.user));
  const proxy = proxyFor(server, env, str(cluster.value["proxy-url"]));
  const tls = {
    ...(proxy === undefined ? {} : { proxy }),
    server,
    ca: bytes(cluster, "certificate-authority"),
    cert: user === undefined ? undefined : bytes(user, "client-certificate"),
    key: user === undefined ? undefined : bytes(user, "client-key"),
    rejectUnauthorized: cluster.value["insecure-skip-tls-verify"] === true ? false : undefined,
    servername: str(cluster.value["tls-server-name"]),
  };
  if (
    user === undefined ||
    (user.value.exec === undefined && user.value["auth-provider"] === undefined)
  ) {
    return { connection: { ...tls, headers: userHeaders(user) } };
  }
  let authorizer: Promise<Authorizer> | undefined;
  const delegated = () => {
    authorizer ??= import("./client-node.ts").then(({ clientNodeAuthorizer }) =>
      clientNodeAuthorizer(env, options),
    );
    return authorizer;
  };
  const impersonation = impersonationHeaders(user);
  return {
    connection: {
      ...tls,
      ...(Object.keys(impersonation).length > 0 ? { headers: () => impersonation } : {}),
      credentials: async () => (await delegated())(),
    },
    delegated,
  };
}

function kubeconfigFiles(env: Env, options: KubeConfigOptions): string[] {
  if (options.path !== undefined) {
    if (!existsSync(options.path))
      throw new NoClusterError(`kubeconfig ${options.path} does not exist`);
    return [options.path];
  }
  const listed = (env.KUBECONFIG ?? "").split(":").filter((f) => f !== "");
  if (listed.length > 0) {
    const present = listed.filter((f) => existsSync(f));
    if (present.length === 0)
      throw new NoClusterError(`KUBECONFIG names no readable file: ${listed.join(", ")}`);
    return present;
  }
  const home = join(env.HOME ?? homedir(), ".kube", "config");
  return existsSync(home) ? [home] : [];
}

/** Merges kubeconfig files the way kubectl does: the first file to name a thing wins. */
function mergeKubeconfigs(files: readonly string[]): Merged {
  const merged: Merged & { currentContext: string | undefined } = {
    clusters: [],
    users: [],
    contexts: [],
    currentContext: undefined,
  };
  for (const file of files) {
    let doc: unknown;
    try {
      doc = parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new NoClusterError(
        `cannot read kubeconfig ${file}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
      );
    }
    if (!isEntry(doc)) continue;
    const dir = dirname(file);
    merged.currentContext ??= str(doc["current-context"]);
    for (const [list, field] of [
      [merged.clusters, "clusters"],
      [merged.users, "users"],
      [merged.contexts, "contexts"],
    ] as const) {
      const items = Array.isArray(doc[field]) ? (doc[field] as unknown[]) : [];
      const inner = field === "clusters" ? "cluster" : field === "users" ? "user" : "context";
      for (const item of items) {
        if (!isEntry(item)) continue;
        const name = str(item.name);
        const value = item[inner];
        if (name === undefined || list.some((x) => x.name === name)) continue;
        list.push({ name, value: isEntry(value) ? value : {}, dir });
      }
    }
  }
  return merged;
}

/** `<field>-data` (base64) or `<field>` (a path, relative to its kubeconfig file). */
function bytes(entry: Named, field: string): Buffer | undefined {
  const data = str(entry.value[`${field}-data`]);
  if (data !== undefined) return Buffer.from(data, "base64");
  const path = str(entry.value[field]);
  if (path === undefined) return undefined;
  const full = isAbsolute(path) ? path : join(entry.dir, path);
  try {
    return readFileSync(full);
  } catch {
    throw new NoClusterError(`the kubeconfig's ${field} ${full} cannot be read`);
  }
}

/**
 * The Impersonate-* headers of `as`, `as-uid`, `as-groups` (one header line each) and
 * `as-user-extra` (`Impersonate-Extra-<key>`, the key %-escaped as client-go does). uid, groups or
 * extra without `as` are refused: client-go would drop them without a word.
 */
function impersonationHeaders(user: Named): Headers {
  const as = str(user.value.as);
  const uid = str(user.value["as-uid"]);
  const groups = user.value["as-groups"];
  const extra = user.value["as-user-extra"];
  const groupList = Array.isArray(groups) ? groups.filter((g) => typeof g === "string") : [];
  const extras = isEntry(extra) ? Object.entries(extra) : [];
  if (as === undefined) {
    const set = [
      uid === undefined ? [] : ["as-uid"],
      groupList.length === 0 ? [] : ["as-groups"],
      extras.length === 0 ? [] : ["as-user-extra"],
    ].flat();
    if (set.length > 0)
      throw new NoClusterError(
        `the kubeconfig's user "${user.name}" sets ${set.join(", ")} without as: impersonating groups, a uid or extra needs a user to impersonate`,
      );
    return {};
  }
  const headers: Headers = { "Impersonate-User": as };
  if (uid !== undefined) headers["Impersonate-Uid"] = uid;
  if (groupList.length > 0) headers["Impersonate-Group"] = groupList;
  for (const [key, values] of extras) {
    const list = (Array.isArray(values) ? values : [values]).filter((v) => typeof v === "string");
    if (list.length > 0) headers[`Impersonate-Extra-${headerKeyEscape(key)}`] = list;
  }
  return headers;
}

/** Header-name characters are kept, everything else %-encoded (client-go's headerKeyEscape). */
function headerKeyEscape(key: string): string {
  return [...Buffer.from(key, "utf8")]
    .map((b) =>
      b !== 0x25 && b < 0x7f && /[!#$&'*+\-.^_`|~0-9A-Za-z]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, "0")}`,
    )
    .join("");
}

function userHeaders(user: Named | undefined): Connection["headers"] {
  if (user === undefined) return undefined;
  const impersonation = impersonationHeaders(user);
  const token = str(user.value.token);
  const tokenFile = str(user.value.tokenFile);
  const username = str(user.value.username);
  if (tokenFile !== undefined) {
    const path = isAbsolute(tokenFile) ? tokenFile : join(user.dir, tokenFile);
    const read = tokenFileReader(path, Date.now, token);
    // Read now, as client-go does without a token: a missing file fails at start.
    if (token === undefined) read();
    return () => ({ ...impersonation, Authorization: `Bearer ${read()}` });
  }
  if (token !== undefined) return () => ({ ...impersonation, Authorization: `Bearer ${token}` });
  if (username !== undefined) {
    const basic = Buffer.from(`${username}:${str(user.value.password) ?? ""}`).toString("base64");
    return () => ({ ...impersonation, Authorization: `Basic ${basic}` });
  }
  return Object.keys(impersonation).length > 0 ? () => impersonation : undefined;
}

/**
 * Reads a token file, again after a minute: the kubelet rotates projected service account
 * tokens. A read that fails keeps the last token read, else `fallback` (a kubeconfig's `token`
 * beside its `tokenFile`), as client-go's cached file token source does; with neither it throws.
 */
export function tokenFileReader(
  path: string,
  now: () => number = Date.now,
  fallback?: string,
): () => string {
  let cached: { token: string; at: number } | undefined;
  return () => {
    if (cached === undefined || now() - cached.at > TOKEN_FILE_TTL_MS) {
      try {
        cached = { token: readFileSync(path, "utf8").trim(), at: now() };
      } catch (error) {
        const kept = cached?.token ?? fallback;
        if (kept === undefined) throw error;
        return kept;
      }
    }
    return cached.token;
  };
}

/** The pod's service account: its token (re-read as it rotates) and CA, the server from KUBERNETES_SERVICE_HOST/PORT. */
function inClusterConnection(env: Env, dir = SERVICE_ACCOUNT_DIR): Connection {
  const host = env.KUBERNETES_SERVICE_HOST ?? "";
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  const server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const read = tokenFileReader(join(dir, "token"));
  let ca: Buffer;
  try {
    read();
    ca = readFileSync(join(dir, "ca.crt"));
  } catch (error) {
    throw new NoClusterError(
      `KUBERNETES_SERVICE_HOST is set but the service account in ${dir} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const proxy = proxyFor(server, env);
  return {
    server,
    ca,
    headers: () => ({ Authorization: `Bearer ${read()}` }),
    ...(proxy === undefined ? {} : { proxy }),
  };
}
