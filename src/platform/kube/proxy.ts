// Which proxy a connection to the API server goes through: a kubeconfig's `proxy-url`, else HTTPS_PROXY/HTTP_PROXY unless NO_PROXY exempts the server, as client-go decides (Go's http.ProxyFromEnvironment). Pure.
import { BlockList, isIP } from "node:net";

type Env = Readonly<Record<string, string | undefined>>;

/** A proxy the operator cannot use, or a value it cannot read: refused, never ignored. */
export class ProxyError extends Error {
  override readonly name = "ProxyError";
}

const SCHEMES = new Set(["http:", "https:"]);

/**
 * The proxy URL `value` names (a bare `host:port` is http, as in Go), checked: only http and
 * https proxies are supported (Node tunnels through them with CONNECT); `socks5` and other
 * schemes, which client-go also accepts, are refused naming `field`.
 */
export function proxyUrl(value: string, field: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ProxyError(`${field} ${JSON.stringify(value)} is not a URL`);
  }
  if (!SCHEMES.has(url.protocol)) {
    throw new ProxyError(
      `${field} ${JSON.stringify(value)}: a ${url.protocol.slice(0, -1)} proxy is not supported, only http and https proxies`,
    );
  }
  return url.toString();
}

const first = (env: Env, ...names: string[]): string | undefined =>
  names.map((n) => env[n]).find((v) => v !== undefined && v !== "");

/** Splits `host:port`, `[v6]:port`, `v6`, `host` into host and port ("" when none). */
function hostPort(entry: string): { host: string; port: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1] ?? "", port: bracketed[2] ?? "" };
  if (isIP(entry) === 6) return { host: entry, port: "" };
  const colon = entry.lastIndexOf(":");
  return colon < 0
    ? { host: entry, port: "" }
    : { host: entry.slice(0, colon), port: entry.slice(colon + 1) };
}

/**
 * Whether NO_PROXY exempts `host` (lower case, without brackets) on `port`, as Go reads it:
 * `*` exempts everything; an IP or a CIDR exempts the addresses it names; `example.com` that
 * name and its subdomains, `.example.com` (or `*.example.com`) only its subdomains; an entry
 * with `:port` only that port.
 */
export function noProxyExempts(noProxy: string, host: string, port: string): boolean {
  for (const raw of noProxy.split(",")) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return true;
    const slash = entry.indexOf("/");
    if (slash > 0 && isIP(entry.slice(0, slash)) !== 0) {
      const family = isIP(entry.slice(0, slash)) === 6 ? "ipv6" : "ipv4";
      const prefix = Number(entry.slice(slash + 1));
      const list = new BlockList();
      try {
        list.addSubnet(entry.slice(0, slash), prefix, family);
      } catch {
        continue;
      }
      if (isIP(host) !== 0 && list.check(host, isIP(host) === 6 ? "ipv6" : "ipv4")) return true;
      continue;
    }
    const { host: name, port: wantPort } = hostPort(entry);
    if (wantPort !== "" && wantPort !== port) continue;
    if (isIP(name) !== 0) {
      if (name === host) return true;
      continue;
    }
    const domain = name.startsWith("*.") ? name.slice(1) : name;
    if (domain.startsWith(".")) {
      if (host.endsWith(domain)) return true;
    } else if (host === domain || host.endsWith(`.${domain}`)) return true;
  }
  return false;
}

const isLoopback = (host: string) =>
  host === "localhost" ||
  host === "::1" ||
  (isIP(host) === 4 && host.startsWith("127.")) ||
  host.startsWith("::ffff:127.");

/**
 * The proxy for requests to `server`: the kubeconfig's `proxy-url` when set (NO_PROXY does not
 * apply to it, as in client-go), else HTTPS_PROXY (or https_proxy) for an https server and
 * HTTP_PROXY (http_proxy) for an http one, unless NO_PROXY (no_proxy) exempts it. The loopback
 * interface is never proxied from the environment (Go's rule). Undefined: connect directly.
 */
export function proxyFor(server: string, env: Env, proxyUrlField?: string): string | undefined {
  if (proxyUrlField !== undefined) return proxyUrl(proxyUrlField, "the kubeconfig's proxy-url");
  const url = new URL(server);
  const secure = url.protocol === "https:";
  const name = secure ? "HTTPS_PROXY" : "HTTP_PROXY";
  const proxy = first(env, name, name.toLowerCase());
  if (proxy === undefined) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = url.port === "" ? (secure ? "443" : "80") : url.port;
  if (isLoopback(host)) return undefined;
  if (noProxyExempts(first(env, "NO_PROXY", "no_proxy") ?? "", host, port)) return undefined;
  return proxyUrl(proxy, name);
}
