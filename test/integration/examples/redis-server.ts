// Starts Debian's real redis-server on a free loopback port for a test, and stops it.
import { type ChildProcess, spawn } from "node:child_process";
import { systemCommand } from "../../../tools/provision/provision.ts";
import { freePort } from "../../support/net.ts";

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

/** A throwaway server: no persistence, loopback only, optionally with a password. */
export async function startRedis(options: { password?: string } = {}): Promise<RedisServer> {
  // The integration tier's setup provisions it; this throws, naming the package, if it is gone.
  const redisServer = systemCommand("redis-server");
  let lastOutput = "";
  // Another process may take the free port between probe and bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const args = [
      "--save",
      "",
      "--appendonly",
      "no",
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
    ];
    if (options.password !== undefined) args.push("--requirepass", options.password);
    const child = spawn(redisServer, args, { stdio: ["ignore", "pipe", "pipe"] });
    const started = await waitForReady(child);
    if (started.ok) {
      const auth =
        options.password === undefined ? "" : `:${encodeURIComponent(options.password)}@`;
      return { port, url: `redis://${auth}127.0.0.1:${port}`, stop: () => stopChild(child) };
    }
    lastOutput = started.output;
    await stopChild(child);
  }
  throw new Error(`redis-server did not start:\n${lastOutput}`);
}

function waitForReady(child: ChildProcess): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    let output = "";
    const timer = setTimeout(
      () => resolve({ ok: false, output: `${output}\n(timed out)` }),
      10_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve({ ok: true, output });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ ok: false, output: `${output}\n(exited with ${code})` });
    });
  });
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}
