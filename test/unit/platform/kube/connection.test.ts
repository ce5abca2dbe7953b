import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  loadConnection,
  loadConnectionSync,
  NoClusterError,
  tokenFileReader,
} from "../../../../src/platform/kube/index.ts";

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

const headersOf = async (c: Awaited<ReturnType<typeof loadConnection>>) =>
  (await c.headers?.()) ?? {};

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
    ["a proxy-url", { KUBECONFIG: "PROXY" }, /uses proxy-url/],
  ])("refuses %s with a NoClusterError, never localhost:8080", async (_, env, message) => {
    const files: Record<string, string> = {
      CTX: kubeconfig("noctx.yaml", { clusters: [] }),
      NOCLUSTER: kubeconfig("nocluster.yaml", {
        "current-context": "c",
        contexts: [{ name: "c", context: { cluster: "gone" } }],
      }),
      PROXY: kubeconfig("proxy.yaml", basic({ token: "x" }, { "proxy-url": "http://proxy:3128" })),
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
