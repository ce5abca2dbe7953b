// Finds the Redis to keep sessions in: a Service Binding under $SERVICE_BINDING_ROOT, else $REDIS_URL.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface RedisConnection {
  /** A redis:// or rediss:// URI, with credentials: never log it. */
  readonly url: string;
  /** Where it came from, safe to log. */
  readonly source: string;
}

/**
 * The binding named `bindingName` (default `sessions`) or, failing that, the only binding whose
 * `type` file says redis. Its `uri` file wins; without one, the URI is built from `host`, `port`,
 * `username`, `password`, `database` and `tls`. Without a binding root, `REDIS_URL`.
 */
export function findRedis(env: NodeJS.ProcessEnv): RedisConnection {
  const root = env.SERVICE_BINDING_ROOT;
  if (root !== undefined && root !== "") {
    const dir = bindingDir(root, env.SESSIONS_BINDING ?? "sessions");
    if (dir !== undefined) return { url: urlFromFiles(dir), source: `binding ${dir}` };
  }
  const url = env.REDIS_URL;
  if (url !== undefined && url !== "") return { url, source: "REDIS_URL" };
  throw new Error(
    "no Redis: bind one (a 'sessions' binding under $SERVICE_BINDING_ROOT) or set REDIS_URL",
  );
}

function bindingDir(root: string, name: string): string | undefined {
  const named = join(root, name);
  if (readText(named, "type") !== undefined || readText(named, "uri") !== undefined) return named;
  const redis = listDirs(root).filter((dir) => readText(join(root, dir), "type") === "redis");
  const [only] = redis;
  return redis.length === 1 && only !== undefined ? join(root, only) : undefined;
}

function urlFromFiles(dir: string): string {
  const uri = readText(dir, "uri");
  if (uri !== undefined) return uri;
  const host = readText(dir, "host");
  if (host === undefined) throw new Error(`binding ${dir} has neither a uri nor a host file`);
  const port = readText(dir, "port") ?? "6379";
  const username = readText(dir, "username", false) ?? "";
  const password = readText(dir, "password", false);
  const database = readText(dir, "database");
  const tls = readText(dir, "tls") === "true" || readText(dir, "ssl") === "true";
  const auth =
    password !== undefined
      ? `${encodeURIComponent(username)}:${encodeURIComponent(password)}@`
      : username !== ""
        ? `${encodeURIComponent(username)}@`
        : "";
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return `${tls ? "rediss" : "redis"}://${auth}${hostPart}:${port}${database ? `/${database}` : ""}`;
}

/** A binding file's content; undefined when absent. Secret volumes hold files, not directories. */
function readText(dir: string, name: string, trim = true): string | undefined {
  try {
    const text = readFileSync(join(dir, name), "utf8");
    return trim ? text.trim() : text;
  } catch {
    return undefined;
  }
}

function listDirs(root: string): string[] {
  try {
    // Kubernetes projects Secrets through `..data` symlinks; hidden entries are its machinery.
    return readdirSync(root).filter((entry) => !entry.startsWith("."));
  } catch {
    return [];
  }
}
