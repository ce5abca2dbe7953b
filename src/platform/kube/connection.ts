// The one connection loader: where the API server is and who we are, from a kubeconfig (as kubectl reads it) or the pod's service account.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { parse } from "yaml";
import type { Connection } from "../../runtime/index.ts";

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
 * connect through it. It reads what kubectl reads, with kubectl's precedence (inline `-data`
 * over a file, `token` over `tokenFile`): client certificates, tokens, token files, basic auth,
 * impersonation (`as`). Only a user with an exec plugin or an auth provider is handed to
 * client-node, loaded only then, which computes that user's Authorization header per request.
 * Never falls back to localhost:8080: with nothing configured it throws a NoClusterError; a
 * `proxy-url` is refused rather than ignored.
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
  /** The Authorization header of an exec-plugin or auth-provider user, from client-node. */
  readonly delegated?: () => Promise<Authorizer>;
}

type Authorizer = () => Promise<Record<string, string>>;

function resolveConnection(env: Env, options: KubeConfigOptions): Resolved {
  const files = kubeconfigFiles(env, options);
  if (files.length === 0) {
    if (env.KUBERNETES_SERVICE_HOST !== undefined && env.KUBERNETES_SERVICE_PORT !== undefined) {
      return { connection: inClusterConnection(env) };
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
  if (str(cluster.value["proxy-url"]) !== undefined) {
    throw new NoClusterError(
      `the kubeconfig's cluster "${cluster.name}" uses proxy-url, which the operator does not support`,
    );
  }
  const user = merged.users.find((u) => u.name === str(context.user));
  const tls = {
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
      headers: async () => ({ ...impersonation, ...(await (await delegated())()) }),
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

function impersonationHeaders(user: Named): Record<string, string> {
  const as = str(user.value.as);
  return as === undefined ? {} : { "Impersonate-User": as };
}

function userHeaders(user: Named | undefined): Connection["headers"] {
  if (user === undefined) return undefined;
  const impersonation = impersonationHeaders(user);
  const token = str(user.value.token);
  const tokenFile = str(user.value.tokenFile);
  const username = str(user.value.username);
  if (token !== undefined) return () => ({ ...impersonation, Authorization: `Bearer ${token}` });
  if (tokenFile !== undefined) {
    const read = tokenFileReader(isAbsolute(tokenFile) ? tokenFile : join(user.dir, tokenFile));
    return () => ({ ...impersonation, Authorization: `Bearer ${read()}` });
  }
  if (username !== undefined) {
    const basic = Buffer.from(`${username}:${str(user.value.password) ?? ""}`).toString("base64");
    return () => ({ ...impersonation, Authorization: `Basic ${basic}` });
  }
  return Object.keys(impersonation).length > 0 ? () => impersonation : undefined;
}

/** Reads a token file, again after a minute: the kubelet rotates projected service account tokens. */
export function tokenFileReader(path: string, now: () => number = Date.now): () => string {
  let cached: { token: string; at: number } | undefined;
  return () => {
    if (cached === undefined || now() - cached.at > TOKEN_FILE_TTL_MS) {
      cached = { token: readFileSync(path, "utf8").trim(), at: now() };
    }
    return cached.token;
  };
}

function inClusterConnection(env: Env): Connection {
  const host = env.KUBERNETES_SERVICE_HOST ?? "";
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  const read = tokenFileReader(join(SERVICE_ACCOUNT_DIR, "token"));
  return {
    server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    ca: readFileSync(join(SERVICE_ACCOUNT_DIR, "ca.crt")),
    headers: () => ({ Authorization: `Bearer ${read()}` }),
  };
}
