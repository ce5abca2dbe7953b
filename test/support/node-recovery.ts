// "Nothing left behind after an interrupt": a runner of the node tier, with a pod running, is
// killed with SIGKILL; its watchdog must undo everything it did to the machine.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { hostStateNow, nodeHostLeftovers, nodeHostLocked } from "../../tools/cluster/node.ts";
import { eventually } from "./cluster.ts";

/** Throws, naming what is left, unless a SIGKILLed node tier leaves the machine as it was. */
export async function checkRecoveryAfterKill(log: (line: string) => void): Promise<void> {
  const before = hostStateNow("");
  const started = Date.now();
  const child = spawn(process.execPath, [join(import.meta.dirname, "node-child.ts")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => {
    output += d;
  });
  child.stderr.on("data", (d: Buffer) => {
    output += d;
  });
  const dir = await eventually(async () => /RUNNING (\S+)/.exec(output)?.[1], {
    timeoutMs: 120_000,
    what: `the node tier's runner to run a pod (output: ${output})`,
  });
  child.kill("SIGKILL");
  await eventually(async () => !nodeHostLocked(), {
    timeoutMs: 60_000,
    what: "the watchdog to clean up and release the node tier's lock",
  });
  const left = nodeHostLeftovers({ ...before, clusterDir: dir });
  if (existsSync(dir)) left.push(`directory ${dir}`);
  if (left.length > 0) {
    throw new Error(`a SIGKILLed node tier left on the machine: ${left.join("; ")}`);
  }
  log(
    `a SIGKILLed node tier (a pod running) left nothing behind (${Math.round((Date.now() - started) / 1000)} s)`,
  );
}
