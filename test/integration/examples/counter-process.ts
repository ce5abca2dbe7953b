// Runs one session-counter process (examples/session-counter) as a child, waiting until it listens.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { stopChild } from "./redis-server.ts";

const SERVER = fileURLToPath(
  new URL("../../../examples/session-counter/src/server.ts", import.meta.url),
);

export interface CounterProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** Everything it printed so far, for assertions and failure messages. */
  output(): string;
  /** SIGKILL: the process gets no chance to save anything. */
  kill(): Promise<void>;
  /** SIGTERM, then the exit code. */
  terminate(): Promise<number | null>;
}

/** `env` replaces the binding-related variables; the process listens on a free loopback port. */
export function startCounter(env: Record<string, string>): Promise<CounterProcess> {
  const { SERVICE_BINDING_ROOT: _root, REDIS_URL: _url, ...inherited } = process.env;
  const child = spawn(process.execPath, [SERVER], {
    env: { ...inherited, PORT: "0", BIND_ADDRESS: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`session-counter did not start:\n${output}`));
    }, 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const listening = output
        .split("\n")
        .map((line) => parseLine(line))
        .find((line) => line?.msg === "listening");
      if (listening === undefined || typeof listening.port !== "number") return;
      clearTimeout(timer);
      const port = listening.port;
      resolve({
        child,
        port,
        url: `http://127.0.0.1:${port}`,
        output: () => output,
        kill: () => stopChild(child, "SIGKILL"),
        terminate: () =>
          new Promise((done) => {
            child.once("exit", (code) => done(code));
            child.kill("SIGTERM");
          }),
      });
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`session-counter exited with ${code} before listening:\n${output}`));
    });
  });
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
