// Hosts and ports: validated as text, formatted for URIs and `servers` lists (IPv6 in brackets).

export interface Endpoint {
  /** A host name, IPv4 address, or IPv6 address without brackets. */
  readonly host: string;
  readonly port: number;
}

const LABEL = "[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?";
/** DNS names and IPv4; `_` is allowed because real internal names (SRV-style) carry it. */
const HOST_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`);
const IPV4 =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/;

/** A host as written in a `host` entry: a name, IPv4, or IPv6 with or without brackets. */
export function parseHost(text: string): string | undefined {
  if (text.startsWith("[") && text.endsWith("]")) {
    const bare = text.slice(1, -1);
    return isIpv6(bare) ? bare : undefined;
  }
  if (text.includes(":")) return isIpv6(text) ? text : undefined;
  return text.length <= 253 && HOST_NAME.test(text) ? text : undefined;
}

/** RFC 4291 text form: eight groups, one `::` standing for at least one zero group, IPv4 tail. */
function isIpv6(text: string): boolean {
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groups = halves.flatMap((half) => (half === "" ? [] : half.split(":")));
  const last = groups.at(-1);
  const ipv4Tail = last !== undefined && IPV4.test(last);
  const hex = ipv4Tail ? groups.slice(0, -1) : groups;
  if (!hex.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  const width = hex.length + (ipv4Tail ? 2 : 0);
  return halves.length === 2 ? width <= 7 : width === 8;
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
