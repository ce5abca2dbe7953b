// The one connection loader against client-node's KubeConfig on a table of kubeconfigs: the
// same connection, except where client-node departs from kubectl (and the loader follows kubectl).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, test } from "vitest";
import { loadConnection, NoClusterError } from "../../../../src/platform/kube/index.ts";

const dir = mkdtempSync(join(tmpdir(), "parity-"));
const b64 = (s: string) => Buffer.from(s).toString("base64");
writeFileSync(join(dir, "ca.crt"), "CA-FILE");
writeFileSync(join(dir, "client.crt"), "CERT-FILE");
writeFileSync(join(dir, "client.key"), "KEY-FILE");
writeFileSync(join(dir, "token"), "token-from-file\n");

/** What a connection amounts to on the wire, as comparable text. */
interface Wire {
  server?: string;
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized?: boolean;
  servername?: string;
  headers: Record<string, string | readonly string[]>;
}

async function ours(path: string): Promise<Wire> {
  const c = await loadConnection({ KUBECONFIG: path });
  return {
    server: c.server,
    ...(c.ca ? { ca: c.ca.toString() } : {}),
    ...(c.cert ? { cert: c.cert.toString() } : {}),
    ...(c.key ? { key: c.key.toString() } : {}),
    ...(c.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: c.rejectUnauthorized }),
    ...(c.servername ? { servername: c.servername } : {}),
    // On the wire: the connection's headers, then the per-request credentials' (an exec plugin's).
    headers: { ...(await c.headers?.()), ...(await c.credentials?.())?.headers },
  };
}

async function clientNode(path: string): Promise<Wire> {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  const opts: {
    ca?: Buffer;
    cert?: Buffer;
    key?: Buffer;
    rejectUnauthorized?: boolean;
    servername?: string;
    headers?: Record<string, string>;
    auth?: string;
  } = {};
  await kc.applyToHTTPSOptions(opts);
  const headers = { ...opts.headers };
  // client-node sends basic auth through https' `auth` option: the same header on the wire.
  if (opts.auth !== undefined) headers.Authorization = `Basic ${b64(opts.auth)}`;
  return {
    server: kc.getCurrentCluster()?.server,
    ...(opts.ca ? { ca: opts.ca.toString() } : {}),
    ...(opts.cert ? { cert: opts.cert.toString() } : {}),
    ...(opts.key ? { key: opts.key.toString() } : {}),
    ...(opts.rejectUnauthorized === undefined
      ? {}
      : { rejectUnauthorized: opts.rejectUnauthorized }),
    ...(opts.servername ? { servername: opts.servername } : {}),
    headers,
  };
}

let files = 0;
function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  const path = join(dir, `kubeconfig-${++files}.yaml`);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      "current-context": "c",
      contexts: [{ name: "c", context: { cluster: "k", user: "u" } }],
      clusters: [{ name: "k", cluster: { server: "https://10.0.0.1:6443", ...cluster } }],
      users: [{ name: "u", user }],
    }),
  );
  return path;
}

const execCredential = JSON.stringify({
  apiVersion: "client.authentication.k8s.io/v1",
  kind: "ExecCredential",
  status: { token: "from-exec" },
});
const exec = {
  exec: {
    apiVersion: "client.authentication.k8s.io/v1",
    command: "sh",
    args: ["-c", `echo '${execCredential}'`],
    interactiveMode: "Never",
  },
};

const same: [string, Record<string, unknown>, Record<string, unknown>][] = [
  [
    "inline data: CA, client certificate and key",
    { "client-certificate-data": b64("CERT"), "client-key-data": b64("KEY") },
    { "certificate-authority-data": b64("CA") },
  ],
  [
    "files, relative to the kubeconfig",
    { "client-certificate": "client.crt", "client-key": "client.key" },
    { "certificate-authority": "ca.crt" },
  ],
  ["a bearer token", { token: "t0k3n" }, {}],
  ["basic auth", { username: "jane", password: "secret" }, {}],
  ["an exec plugin", exec, {}],
  ["impersonation", { token: "t0k3n", as: "system:serviceaccount:web:deployer" }, {}],
  ["impersonation with an exec plugin", { ...exec, as: "jane" }, {}],
  [
    "insecure-skip-tls-verify and tls-server-name",
    { token: "t" },
    { "insecure-skip-tls-verify": true, "tls-server-name": "api.internal" },
  ],
];

describe("loadConnection and client-node's KubeConfig agree", () => {
  test.each(same)("%s", async (_, user, cluster) => {
    const path = kubeconfig(user, cluster);
    const loaded = await ours(path);
    expect(loaded).toEqual(await clientNode(path));
    expect(loaded.server).toBe("https://10.0.0.1:6443");
  });
});

describe("where client-node departs from kubectl, the loader follows kubectl", () => {
  test("inline data and a file both given: kubectl uses the data, client-node the file", async () => {
    const path = kubeconfig(
      { "client-certificate-data": b64("CERT"), "client-certificate": "client.crt", token: "t" },
      { "certificate-authority-data": b64("CA"), "certificate-authority": "ca.crt" },
    );
    expect(await ours(path)).toMatchObject({ ca: "CA", cert: "CERT" });
    expect(await clientNode(path)).toMatchObject({ ca: "CA-FILE", cert: "CERT-FILE" });
  });

  test("tokenFile (kubectl's field name): read by the loader, ignored by client-node", async () => {
    const path = kubeconfig({ tokenFile: "token" });
    expect((await ours(path)).headers).toEqual({ Authorization: "Bearer token-from-file" });
    expect((await clientNode(path)).headers.Authorization).toBeUndefined();
  });

  test("a token and a tokenFile: client-go uses the file (the token only while it cannot be read), client-node the token", async () => {
    const path = kubeconfig({ token: "inline", tokenFile: "token" });
    expect((await ours(path)).headers).toEqual({ Authorization: "Bearer token-from-file" });
    expect((await clientNode(path)).headers).toEqual({ Authorization: "Bearer inline" });
    const unreadable = kubeconfig({ token: "inline", tokenFile: "missing-token" });
    expect((await ours(unreadable)).headers).toEqual({ Authorization: "Bearer inline" });
  });

  test("proxy-url: used as kubectl uses it (client-node keeps it too), a socks5 one refused naming it", async () => {
    const path = kubeconfig({ token: "t" }, { "proxy-url": "http://proxy.internal:3128" });
    expect((await loadConnection({ KUBECONFIG: path })).proxy).toBe("http://proxy.internal:3128/");
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    expect(kc.getCurrentCluster()?.proxyUrl).toBe("http://proxy.internal:3128");
    const socks = kubeconfig({ token: "t" }, { "proxy-url": "socks5://proxy.internal:1080" });
    const error = await loadConnection({ KUBECONFIG: socks }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoClusterError);
    expect((error as Error).message).toMatch(
      /proxy-url "socks5:\/\/proxy.internal:1080": a socks5 proxy is not supported/,
    );
  });
});
