// The README's quick start that needs no Docker, run as written from a fresh copy of the checkout:
// "Render offline" and "Run it locally" (npm start builds nothing here: the binaries are cached).

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort } from "../support/net.ts";
import {
  background,
  copyCheckout,
  readmeBlocks,
  removeCopy,
  shell,
  userEnv,
} from "../support/readme.ts";

let checkout: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  checkout = copyCheckout();
  const home = join(checkout, ".home");
  mkdirSync(home);
  env = userEnv(home);
});

afterAll(async () => {
  if (checkout === undefined) return;
  // Whatever happened, the copy's local cluster must not outlive the test.
  await shell(["npm run cluster:down"], { cwd: checkout, env, timeoutMs: 60_000 });
  removeCopy(checkout);
});

describe("README quick start", () => {
  test("Render offline: npm ci, then the render command prints the children, without npm warnings", async () => {
    const [block] = readmeBlocks("Render offline");
    expect(block?.[0]).toBe("npm ci");
    const install = await shell(["npm ci"], { cwd: checkout, env, timeoutMs: 240_000 });
    expect(install.code, install.output).toBe(0);
    const render = await shell(block?.slice(1) ?? [], { cwd: checkout, env, timeoutMs: 60_000 });
    expect(render.code, render.output).toBe(0);
    expect(render.output).toMatch(/^---\napiVersion: apps\/v1\nkind: Deployment\n/);
    for (const name of ["shop-web", "shop-worker"])
      expect(render.output).toContain(`name: ${name}`);
    expect(render.output).not.toMatch(/npm warn|EBADENGINE/);
  }, 300_000);

  test("Run it locally: npm start starts a local cluster, and the walk-through's commands pass", async () => {
    const [start, walkThrough] = readmeBlocks("Run it locally");
    // `npm ci` ran in the test above, in this same copy.
    expect(start).toEqual(["npm ci", "npm start"]);
    // The operator's port: the README's 8080 may be taken on a shared machine, so the same
    // commands run with another one (HTTP_ADDRESS is the operator's documented setting).
    const port = await freePort();
    const commands = (walkThrough ?? []).map((line) =>
      line.replaceAll("127.0.0.1:8080", `127.0.0.1:${port}`),
    );
    expect(commands.at(-1)).toMatch(/^npm run cluster:down/);
    const operator = await background("npm start", /running the operator/, {
      cwd: checkout,
      env: { ...env, HTTP_ADDRESS: `127.0.0.1:${port}` },
      timeoutMs: 180_000,
    });
    try {
      expect(operator.output()).toContain("no cluster is configured: starting a local one");
      const run = await shell(commands, { cwd: checkout, env, timeoutMs: 240_000 });
      expect(run.code, `${run.output}\n--- npm start ---\n${operator.output()}`).toBe(0);
      expect(run.output).toContain("namespace/demo created");
      expect(run.output).toContain("statelessapp.twelvefactor.dev/shop condition met");
      expect(run.output).toMatch(/^shop\s+True\s/m);
      expect(run.output).toMatch(/deployment\.apps\/shop-web\s/);
      expect(run.output).toContain("controller_runtime_reconcile_total");
      expect(run.output).toContain("cluster: stopped");
    } finally {
      await operator.stop();
    }
  }, 600_000);
});
