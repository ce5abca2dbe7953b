import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  loadConnection,
  loadConnectionSync,
  NoClusterError,
  tokenFileReader,
} from "../../../../src/platform/kube/index.ts";
import { noProxyExempts, proxyFor } from "../../../../src/platform/kube/proxy.ts";
import { connectionTransport, requestJson } from "../../../../src/runtime/index.ts";

const dir = mkdtempSync(join(tmpdir(), "connection-"));
const b64 = (s: string) => Buffer.from(s).toString("base64");

function kubeconfig(name: string, doc: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ apiVersion: "v1", kind: "Config", ...doc }));
  return path;
}

const basic = (user: Record<string, unknown>, cluster: Record<string, unknown> = {}) => ({
  "current-context": "c",
  contexts: [{ name: "c", context: { cluster: "k", user: "u" } }],
  clusters: [{ name: "k", cluster: { server: "https://10.0.0.1:6443", ...cluster } }],
  users: [{ name: "u", user }],
});

/** The headers a request carries: the connection's, then its per-request credentials'. */
const headersOf = async (c: Awaited<ReturnType<typeof loadConnection>>) => ({
  ...(await c.headers?.()),
  ...(await c.credentials?.())?.headers,
});

describe("loadConnection", () => {
  test("reads client certificates and the CA from data fields", async () => {
    const path = kubeconfig(
      "certs.yaml",
      basic(
        { "client-certificate-data": b64("CERT"), "client-key-data": b64("KEY") },
        { "certificate-authority-data": b64("CA"), "tls-server-name": "api.internal" },
      ),
    );
    const c = await loadConnection({ KUBECONFIG: path });
    expect(c.server).toBe("https://10.0.0.1:6443");
    expect([c.ca?.toString(), c.cert?.toString(), c.key?.toString(), c.servername]).toEqual([
      "CA",
      "CERT",
      "KEY",
      "api.internal",
    ]);
    expect(c.rejectUnauthorized).toBeUndefined();
    expect(await headersOf(c)).toEqual({});
  });

  test("reads files relative to the kubeconfig, a bearer token, and insecure-skip-tls-verify", async () => {
    writeFileSync(join(dir, "ca.crt"), "CAFILE");
    const path = kubeconfig(
      "files.yaml",
      basic(
        { token: "t0k3n", as: "jane" },
        { "certificate-authority": "ca.crt", "insecure-skip-tls-verify": true },
      ),
    );
    const c = await loadConnection({ KUBECONFIG: path });
    expect(c.ca?.toString()).toBe("CAFILE");
    expect(c.rejectUnauthorized).toBe(false);
    expect(await headersOf(c)).toEqual({
      Authorization: "Bearer t0k3n",
      "Impersonate-User": "jane",
    });
  });

  test("basic auth, and a tokenFile read again when it rotates", async () => {
    expect(
      await headersOf(
        await loadConnection({
          KUBECONFIG: kubeconfig("basic.yaml", basic({ username: "a", password: "b" })),
        }),
      ),
    ).toEqual({
      Authorization: `Basic ${b64("a:b")}`,
    });
    const tokenPath = join(dir, "token");
    writeFileSync(tokenPath, "first\n");
    let now = 0;
    const read = tokenFileReader(tokenPath, () => now);
    expect(read()).toBe("first");
    writeFileSync(tokenPath, "second");
    expect(read()).toBe("first");
    now = 61_000;
    expect(read()).toBe("second");
  });

  test("an exec plugin user is handed to client-node, which runs the plugin for the token", async () => {
    const credential = JSON.stringify({
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      status: { token: "from-exec" },
    });
    const path = kubeconfig(
      "exec.yaml",
      basic({
        exec: {
          apiVersion: "client.authentication.k8s.io/v1",
          command: "sh",
          args: ["-c", `echo '${credential}'`],
          interactiveMode: "Never",
        },
      }),
    );
    const c = await loadConnection({ KUBECONFIG: path });
    expect(c.server).toBe("https://10.0.0.1:6443");
    expect(await headersOf(c)).toEqual({ Authorization: "Bearer from-exec" });
  });

  test("loadConnectionSync: the same connection; an exec user's plugin runs on the first request", async () => {
    const path = kubeconfig(
      "sync.yaml",
      basic({
        exec: {
          apiVersion: "client.authentication.k8s.io/v1",
          command: "sh",
          args: [
            "-c",
            `echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"lazy"}}'`,
          ],
          interactiveMode: "Never",
        },
      }),
    );
    const c = loadConnectionSync({ KUBECONFIG: path });
    expect(c.server).toBe("https://10.0.0.1:6443");
    expect(await headersOf(c)).toEqual({ Authorization: "Bearer lazy" });
    expect(() => loadConnectionSync({ HOME: dir })).toThrow(NoClusterError);
  });

  test("merges KUBECONFIG files: the first to name a context, cluster or user wins", async () => {
    const first = kubeconfig("first.yaml", {
      "current-context": "c",
      contexts: [{ name: "c", context: { cluster: "k", user: "u" } }],
    });
    const second = kubeconfig("second.yaml", {
      "current-context": "other",
      clusters: [{ name: "k", cluster: { server: "https://second:443" } }],
      users: [{ name: "u", user: { token: "from-second" } }],
    });
    const c = await loadConnection({
      KUBECONFIG: `${first}:${join(dir, "missing.yaml")}:${second}`,
    });
    expect(c.server).toBe("https://second:443");
    expect(await headersOf(c)).toEqual({ Authorization: "Bearer from-second" });
  });

  test("--context picks another context", async () => {
    const path = kubeconfig("contexts.yaml", {
      ...basic({ token: "a" }),
      contexts: [
        { name: "c", context: { cluster: "k", user: "u" } },
        { name: "d", context: { cluster: "k2", user: "u" } },
      ],
      clusters: [
        { name: "k", cluster: { server: "https://one" } },
        { name: "k2", cluster: { server: "https://two" } },
      ],
    });
    expect((await loadConnection({ KUBECONFIG: path }, { context: "d" })).server).toBe(
      "https://two",
    );
  });

  test.each<[string, Record<string, string>, RegExp]>([
    ["nothing configured", { HOME: dir }, /no cluster configured/],
    [
      "a KUBECONFIG of missing files",
      { KUBECONFIG: "/nope/a:/nope/b" },
      /KUBECONFIG names no readable file/,
    ],
    ["no current context", { KUBECONFIG: "CTX" }, /sets no current-context/],
    ["a context without a cluster", { KUBECONFIG: "NOCLUSTER" }, /names no cluster with a server/],
    [
      "a socks5 proxy-url",
      { KUBECONFIG: "PROXY" },
      /proxy-url "socks5:\/\/proxy:1080": a socks5 proxy is not supported/,
    ],
  ])("refuses %s with a NoClusterError, never localhost:8080", async (_, env, message) => {
    const files: Record<string, string> = {
      CTX: kubeconfig("noctx.yaml", { clusters: [] }),
      NOCLUSTER: kubeconfig("nocluster.yaml", {
        "current-context": "c",
        contexts: [{ name: "c", context: { cluster: "gone" } }],
      }),
      PROXY: kubeconfig(
        "proxy.yaml",
        basic({ token: "x" }, { "proxy-url": "socks5://proxy:1080" }),
      ),
    };
    const resolved = {
      ...env,
      ...(env.KUBECONFIG && files[env.KUBECONFIG] ? { KUBECONFIG: files[env.KUBECONFIG] } : {}),
    };
    const error = await loadConnection(resolved).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoClusterError);
    expect((error as Error).message).toMatch(message);
  });
});

describe("credentials as client-go reads them", () => {
  const execUser = (status: Record<string, unknown>) => ({
    exec: {
      apiVersion: "client.authentication.k8s.io/v1",
      command: "sh",
      args: [
        "-c",
        `echo '${JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status })}'`,
      ],
      interactiveMode: "Never",
    },
  });

  test("an exec plugin answering with a client certificate: the certificate and key are sent, not lost", async () => {
    const path = kubeconfig(
      "exec-cert.yaml",
      basic(execUser({ clientCertificateData: "EXEC-CERT", clientKeyData: "EXEC-KEY" }), {
        "certificate-authority-data": b64("CA"),
      }),
    );
    const c = await loadConnection({ KUBECONFIG: path });
    const credentials = await c.credentials?.();
    expect(credentials?.cert?.toString()).toBe("EXEC-CERT");
    expect(credentials?.key?.toString()).toBe("EXEC-KEY");
    expect(credentials?.headers ?? {}).toEqual({});
    const token = await loadConnection({
      KUBECONFIG: kubeconfig("exec-token.yaml", basic({ ...execUser({ token: "t" }), as: "jane" })),
    });
    expect(await token.credentials?.()).toEqual({ headers: { Authorization: "Bearer t" } });
    expect(await token.headers?.()).toEqual({ "Impersonate-User": "jane" });
  });

  test("a tokenFile wins over a token; the token is used only while the file cannot be read", async () => {
    const tokenPath = join(dir, "rotating");
    writeFileSync(tokenPath, "from-file\n");
    const c = await loadConnection({
      KUBECONFIG: kubeconfig("both.yaml", basic({ token: "inline", tokenFile: tokenPath })),
    });
    expect(await headersOf(c)).toEqual({ Authorization: "Bearer from-file" });
    let now = 0;
    const read = tokenFileReader(join(dir, "not-yet"), () => now, "inline");
    expect(read()).toBe("inline");
    writeFileSync(join(dir, "not-yet"), "written");
    now = 61_000;
    expect(read()).toBe("written");
    const alone = tokenFileReader(tokenPath, () => now);
    expect(alone()).toBe("from-file");
    rmSync(tokenPath);
    now = 200_000;
    expect(alone()).toBe("from-file");
    const missing = kubeconfig("missing-token.yaml", basic({ tokenFile: join(dir, "absent") }));
    await expect(loadConnection({ KUBECONFIG: missing })).rejects.toThrow(/absent/);
  });

  test("impersonation: as, as-uid, as-groups (one header each) and as-user-extra (key %-escaped as client-go does)", async () => {
    const c = await loadConnection({
      KUBECONFIG: kubeconfig(
        "impersonate.yaml",
        basic({
          token: "t",
          as: "jane",
          "as-uid": "1234",
          "as-groups": ["dev", "ops"],
          "as-user-extra": { "example.com/scopes": ["read", "write"], project: ["shop"] },
        }),
      ),
    });
    expect(await headersOf(c)).toEqual({
      Authorization: "Bearer t",
      "Impersonate-User": "jane",
      "Impersonate-Uid": "1234",
      "Impersonate-Group": ["dev", "ops"],
      "Impersonate-Extra-example.com%2Fscopes": ["read", "write"],
      "Impersonate-Extra-project": ["shop"],
    });
  });

  test("as-groups, as-uid or as-user-extra without as are refused naming them, not dropped", async () => {
    const path = kubeconfig(
      "groups-only.yaml",
      basic({ token: "t", "as-groups": ["dev"], "as-uid": "1" }),
    );
    const error = await loadConnection({ KUBECONFIG: path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoClusterError);
    expect((error as Error).message).toMatch(/sets as-uid, as-groups without as/);
  });

  test("HTTPS_PROXY is used unless NO_PROXY exempts the server; a socks5 one is refused naming the variable", async () => {
    const path = kubeconfig("proxied.yaml", basic({ token: "t" }));
    const load = (env: Record<string, string>) => loadConnection({ KUBECONFIG: path, ...env });
    expect((await load({ HTTPS_PROXY: "proxy.internal:3128" })).proxy).toBe(
      "http://proxy.internal:3128/",
    );
    expect((await load({ https_proxy: "http://p:1" })).proxy).toBe("http://p:1/");
    expect((await load({ HTTP_PROXY: "http://p:1" })).proxy).toBeUndefined();
    for (const noProxy of ["10.0.0.1", "10.0.0.0/8", "*", "other, 10.0.0.1:6443"])
      expect((await load({ HTTPS_PROXY: "http://p:1", NO_PROXY: noProxy })).proxy).toBeUndefined();
    expect((await load({ HTTPS_PROXY: "http://p:1", NO_PROXY: "10.0.0.1:443" })).proxy).toBe(
      "http://p:1/",
    );
    const error = await load({ HTTPS_PROXY: "socks5://p:1080" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoClusterError);
    expect((error as Error).message).toMatch(/HTTPS_PROXY "socks5:\/\/p:1080": a socks5 proxy/);
  });
});

describe("proxyFor and NO_PROXY, as Go's ProxyFromEnvironment", () => {
  test.each<[string, string, boolean]>([
    ["api.example.com", "api.example.com", true],
    ["example.com", "api.example.com", true],
    [".example.com", "api.example.com", true],
    [".example.com", "example.com", false],
    ["*.example.com", "example.com", false],
    ["ample.com", "api.example.com", false],
    ["api.example.com:6443", "api.example.com", true],
    ["api.example.com:443", "api.example.com", false],
    ["10.96.0.0/12", "10.96.0.1", true],
    ["10.96.0.0/12", "10.112.0.1", false],
    ["fd00::/8", "fd00::1", true],
    ["[fd00::1]:6443", "fd00::1", true],
    [" , API.Example.com ", "api.example.com", true],
  ])("NO_PROXY %j exempts %s:6443: %s", (noProxy, host, exempt) => {
    expect(noProxyExempts(noProxy, host, "6443")).toBe(exempt);
  });

  test("the proxy for the server's scheme; loopback never proxied from the environment; proxy-url wins", () => {
    const env = { HTTPS_PROXY: "http://secure:1", HTTP_PROXY: "http://plain:1", NO_PROXY: "a.b" };
    expect(proxyFor("https://api:6443", env)).toBe("http://secure:1/");
    expect(proxyFor("http://api:8080", env)).toBe("http://plain:1/");
    expect(proxyFor("https://a.b:6443", env)).toBeUndefined();
    expect(proxyFor("https://127.0.0.1:6443", env)).toBeUndefined();
    expect(proxyFor("https://localhost:6443", env)).toBeUndefined();
    expect(proxyFor("https://[::1]:6443", env)).toBeUndefined();
    expect(proxyFor("https://a.b:6443", env, "https://configured:3128")).toBe(
      "https://configured:3128/",
    );
    expect(proxyFor("https://api:6443", {})).toBeUndefined();
  });

  test("a request goes through the proxy the connection names (CONNECT for https, absolute URL for http)", async () => {
    const target = createServer((req, res) => res.end(JSON.stringify({ path: req.url })));
    target.listen(0, "127.0.0.1");
    await once(target, "listening");
    const seen: string[] = [];
    const proxy = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const url = new URL(req.url ?? "");
      const forward = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(forward);
    });
    proxy.listen(0, "127.0.0.1");
    await once(proxy, "listening");
    const port = (s: typeof target) => (s.address() as AddressInfo).port;
    try {
      const transport = connectionTransport({
        server: `http://127.0.0.1:${port(target)}`,
        proxy: `http://127.0.0.1:${port(proxy)}`,
      });
      expect(await requestJson(transport, { method: "GET", path: "/api" })).toEqual({
        path: "/api",
      });
      expect(seen).toEqual([`GET http://127.0.0.1:${port(target)}/api`]);
    } finally {
      proxy.closeAllConnections();
      target.closeAllConnections();
      proxy.close();
      target.close();
    }
  });
});
