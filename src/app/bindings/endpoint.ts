// Hosts and ports: validated as text, formatted for URIs and `servers` lists (IPv6 in brackets).

export interface Endpoint {
  /** A host name, IPv4 address, or IPv6 address without brackets. */
  readonly host: string;
  readonly port: number;
}

const LABEL = "[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?";
/** DNS names and IPv4; `_` is allowed because real internal names (SRV-style) carry it. */
const HOST_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`);
const IPV6 = /^[0-9A-Fa-f:.]+$/;

/** A host as written in a `host` entry: a name, IPv4, or IPv6 with or without brackets. */
export function parseHost(text: string): string | undefined {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (bare.includes(":")) return isIpv6(bare) ? bare : undefined;
  return bare.length <= 253 && HOST_NAME.test(bare) ? bare : undefined;
}

function isIpv6(text: string): boolean {
  if (!IPV6.test(text) || text.includes(":::")) return false;
  const doubleColons = text.split("::").length - 1;
  const groups = text.split(":").filter((g) => g !== "");
  return doubleColons <= 1 && groups.length >= 1 && groups.length <= 8;
}

/** A TCP port: 1 to 65535, decimal digits only (no sign, no exponent, no spaces). */
export function parsePort(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** `host:port`, or `[v6]:port` for IPv6. */
export const formatEndpoint = ({ host, port }: Endpoint): string => `${formatHost(host)}:${port}`;

export const formatHost = (host: string): string => (host.includes(":") ? `[${host}]` : host);

export type EndpointFault = "host" | "port";

/** `host`, `host:port`, `[v6]` or `[v6]:port`; a bare IPv6 address is ambiguous and refused. */
export function parseEndpoint(
  text: string,
  defaultPort: number,
): { endpoint: Endpoint } | { fault: EndpointFault } {
  let hostText: string;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) return { fault: "host" };
    hostText = text.slice(0, close + 1);
    const rest = text.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":")) return { fault: "host" };
    portText = rest === "" ? undefined : rest.slice(1);
  } else {
    const parts = text.split(":");
    if (parts.length > 2) return { fault: "host" };
    hostText = parts[0] ?? "";
    portText = parts[1];
  }
  const host = parseHost(hostText);
  if (host === undefined) return { fault: "host" };
  if (portText === undefined) return { endpoint: { host, port: defaultPort } };
  const port = parsePort(portText);
  return port === undefined ? { fault: "port" } : { endpoint: { host, port } };
}
