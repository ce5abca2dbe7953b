// Real pods 3: inside a pod the operator rendered, from the session-counter image. Writing `/`
// fails, each scratch path is writable up to its limit, the /bindings files are readable and
// match the Secret, the binding env is set, and the process is not root.

import { beforeAll, describe, expect, test } from "vitest";
import { kubectlOk } from "../integration/install/kubectl.ts";
import { eventually, printClusterLogsOnFailure } from "../support/cluster.ts";
import {
  applyAsTenant,
  appPods,
  deployRedis,
  exec,
  installOperator,
  type RedisEndpoint,
  sessionCounterObjects,
  tenantNamespace,
  waitReady,
} from "./support/node.ts";

printClusterLogsOnFailure();

const PASSWORD = "pod-contract-password";
let namespace: string;
let redis: RedisEndpoint;
let pod: string;

/** A shell command in the pod; resolves with exit code and output. */
const sh = (script: string, target = pod) => exec(namespace, target, ["sh", "-c", script]);

beforeAll(async () => {
  await installOperator();
  namespace = await tenantNamespace("contract");
  redis = await deployRedis(namespace, PASSWORD);
  const objects = sessionCounterObjects(namespace, redis, PASSWORD);
  const app = objects.find((o) => o.kind === "StatelessApp") as { spec: { scratch: object[] } };
  // The example's in-memory /tmp (16Mi), and a scratch directory on the node's disk.
  app.spec.scratch = [
    ...app.spec.scratch,
    { name: "cache", mountPath: "/var/cache/app", sizeLimit: "8Mi" },
  ];
  await applyAsTenant(namespace, objects);
  await waitReady(namespace, "session-counter");
  const running = (await appPods(namespace, "session-counter")).filter(
    (p) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp,
  );
  pod = running[0]?.metadata.name ?? "";
  expect(pod).not.toBe("");
});

describe("inside a pod the operator rendered", () => {
  test("the root filesystem is read-only", async () => {
    for (const path of ["/probe", "/app/probe", "/usr/local/bin/probe", "/home/node/probe"]) {
      const r = await sh(`echo x > ${path}`);
      expect(r.code, path).not.toBe(0);
      expect(r.stderr, path).toContain("Read-only file system");
    }
  });

  test("each scratch path is writable up to its limit, and not beyond", async () => {
    // /tmp is memory-backed: the tmpfs is the size limit.
    const tmp = await sh("dd if=/dev/zero of=/tmp/fill bs=1M count=15 2>&1 && rm /tmp/fill");
    expect(tmp.code, tmp.stdout).toBe(0);
    const over = await sh(
      "dd if=/dev/zero of=/tmp/fill bs=1M count=17 2>&1; rc=$?; rm -f /tmp/fill; exit $rc",
    );
    expect(over.code).not.toBe(0);
    expect(over.stdout).toContain("No space left on device");
    // The disk-backed one takes writes below its limit.
    const cache = await sh(
      "dd if=/dev/zero of=/var/cache/app/fill bs=1M count=4 2>&1 && rm /var/cache/app/fill",
    );
    expect(cache.code, cache.stdout).toBe(0);
  });

  test("/bindings/sessions holds the Secret's values, readable and not writable", async () => {
    const files = await sh("ls /bindings/sessions");
    expect(files.stdout.split("\n").filter(Boolean).sort()).toEqual(
      ["host", "password", "port", "type", "uri"].sort(),
    );
    const read = async (name: string) => (await sh(`cat /bindings/sessions/${name}`)).stdout;
    expect(await read("host")).toBe(redis.host);
    expect(await read("port")).toBe(String(redis.port));
    expect(await read("password")).toBe(PASSWORD);
    expect(await read("type")).toBe("redis");
    expect(await read("uri")).toBe(`redis://:${PASSWORD}@${redis.host}:${redis.port}`);
    const write = await sh("echo x > /bindings/sessions/host");
    expect(write.code).not.toBe(0);
  });

  test("the binding's environment is set", async () => {
    const env = Object.fromEntries(
      (await sh("env")).stdout
        .split("\n")
        .filter((l) => l.includes("="))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    expect(env.SERVICE_BINDING_ROOT).toBe("/bindings");
    expect(env.SESSIONS_HOST).toBe(redis.host);
    expect(env.SESSIONS_PORT).toBe(String(redis.port));
    expect(env.SESSIONS_PASSWORD).toBe(PASSWORD);
    expect(env.SESSIONS_URL).toBe(`redis://:${PASSWORD}@${redis.host}:${redis.port}`);
    expect(env.REDIS_URL).toBe(env.SESSIONS_URL);
  });

  test("the process is not root: uid and gid 1000, no capabilities, no new privileges, seccomp", async () => {
    expect((await sh("id -u; id -g")).stdout).toBe("1000\n1000\n");
    const status = (await sh("cat /proc/1/status")).stdout;
    expect(status).toMatch(/^CapEff:\s+0000000000000000$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(status).toMatch(/^Seccomp:\s+2$/m);
  });

  test("a disk scratch written past its limit gets the pod evicted, and the app replaces it", async () => {
    const victim = pod;
    const w = await sh("dd if=/dev/zero of=/var/cache/app/fill bs=1M count=12 2>&1", victim);
    expect(w.code, w.stdout).toBe(0);
    // The kubelet's Event names the volume and its limit (the pod's own status keeps only the
    // container's exit: session-counter exits 0 on the SIGTERM it gets).
    const message = await eventually(
      async () => {
        const events = JSON.parse(
          await kubectlOk([
            "-n",
            namespace,
            "get",
            "events",
            `--field-selector=involvedObject.name=${victim},reason=Evicted`,
            "-o",
            "json",
          ]),
        ) as { items: { message: string }[] };
        return events.items[0]?.message;
      },
      { timeoutMs: 90_000, intervalMs: 1000, what: `an Evicted Event for pod ${victim}` },
    );
    expect(message).toContain('Usage of EmptyDir volume "scratch-cache" exceeds the limit "8Mi"');
    await waitReady(namespace, "session-counter");
  });
});
