// Tests of the local control-plane launcher itself: fault controls, teardown, orphan protection.
//
// Starts clusters of its own (not the shared tier) because it stops and kills them.

import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { type Cluster, startCluster } from "../../tools/cluster/index.ts";
import { eventually } from "../support/cluster.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Process state letter from /proc (R, S, T = stopped, Z ...). */
function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
}

const quiet = { log: () => {} };

describe("cluster launcher", () => {
  let cluster: Cluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  test("restarts, pauses and stops components; teardown leaves no process behind", async () => {
    cluster = await startCluster({ tier: "integration", ...quiet });
    const c = cluster;
    const pids = c.pids();
    expect(Object.keys(pids).sort()).toEqual(["etcd", "kube-apiserver"]);
    for (const pid of Object.values(pids)) expect(alive(pid)).toBe(true);

    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "survivor" } };
    expect((await c.api("POST", "/api/v1/namespaces/default/configmaps", cm)).status).toBe(201);

    // Restart the API server: same port, same etcd data.
    const oldApiserver = c.pid("kube-apiserver") as number;
    await c.stopComponent("kube-apiserver");
    expect(alive(oldApiserver)).toBe(false);
    expect(c.pid("kube-apiserver")).toBeUndefined();
    await expect(c.api("GET", "/readyz")).rejects.toThrow();
    await c.startComponent("kube-apiserver");
    expect(c.pid("kube-apiserver")).not.toBe(oldApiserver);
    expect((await c.api("GET", "/api/v1/namespaces/default/configmaps/survivor")).status).toBe(200);

    // A crashed etcd comes back with its data directory.
    await c.killComponent("etcd");
    await c.startComponent("etcd");
    await eventually(async () => (await c.api("GET", "/readyz")).status === 200, {
      what: "readyz after the etcd restart",
    });
    expect((await c.api("GET", "/api/v1/namespaces/default/configmaps/survivor")).status).toBe(200);

    // A paused (SIGSTOP) component is frozen, not gone.
    const etcd = c.pid("etcd") as number;
    c.pauseComponent("etcd");
    await eventually(async () => procState(etcd) === "T", { what: "etcd to be stopped" });
    c.resumeComponent("etcd");
    await eventually(async () => procState(etcd) !== "T", { what: "etcd to run again" });
    expect(c.unexpectedExits).toEqual([]);

    const last = Object.values(c.pids());
    const dir = c.dir;
    await c.stop();
    for (const pid of last) expect(alive(pid), `pid ${pid} after stop()`).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });

  test("components die with a runner that is killed outright (SIGKILL)", async () => {
    const index = join(import.meta.dirname, "../../tools/cluster/index.ts");
    const script = `
      import { startCluster } from ${JSON.stringify(index)};
      const c = await startCluster({ tier: "integration", log: () => {} });
      console.log(JSON.stringify(c.pids()));
      setInterval(() => {}, 1000);
    `;
    const runner = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const pids = await new Promise<number[]>((resolve, reject) => {
      let out = "";
      runner.stdout.on("data", (d: Buffer) => {
        out += d;
        if (out.includes("\n")) resolve(Object.values(JSON.parse(out) as Record<string, number>));
      });
      runner.on("exit", (code) => reject(new Error(`runner exited early (${code})`)));
    });
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(alive(pid)).toBe(true);
    runner.kill("SIGKILL");
    await eventually(async () => pids.every((pid) => !alive(pid)), {
      timeoutMs: 10_000,
      what: "the orphaned components to be killed by the watchdog",
    });
  });
});
