// The image's runtime contract without a Docker engine: `node dist/cli/main.js run` from a read-only copy, HOME and TMPDIR unwritable.

import { execFile, execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { OPERATOR_NODE_FLAGS } from "../../../src/platform/node-flags.ts";
import {
  createTestNamespace,
  eventually,
  printClusterLogsOnFailure,
  providedCluster,
} from "../../support/cluster.ts";
import { kubectl, kubectlOk } from "./kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "./operator-process.ts";
import { metricsToken, scrape } from "./scrape.ts";

const root = resolve(import.meta.dirname, "../../..");
/** What the Dockerfile's `--build-arg COMMIT=…` would write into dist/build-info.json. */
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
/** As root, the copy is run by `nobody`, for whom the read-only bits hold (root ignores them). */
const RUN_AS = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

printClusterLogsOnFailure();

/** Makes a tree read-only for everyone: files 0444 (0555 if executable), directories 0555. */
function freeze(path: string): void {
  const s = statSync(path);
  if (s.isDirectory()) {
    for (const entry of readdirSync(path)) freeze(join(path, entry));
    chmodSync(path, 0o555);
  } else if (s.isFile()) {
    chmodSync(path, s.mode & 0o111 ? 0o555 : 0o444);
  }
}

/** The production dependencies' folders, as `npm prune --omit=dev` leaves them. */
function productionPackages(): string[] {
  let out: string;
  try {
    out = execFileSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
  } catch (error) {
    // npm ls exits 1 for problems it only reports (an optional dependency absent here).
    out = String((error as { stdout?: unknown }).stdout ?? "");
  }
  return out
    .split("\n")
    .filter((p) => p.startsWith(join(root, "node_modules")))
    .map((p) => relative(root, p));
}

/**
 * Lays out what the image holds, as the Dockerfile builds it: /app with package.json, dist/ from
 * `tsc -p tsconfig.build.json` and the production node_modules; plus the node binary.
 */
function buildImageTree(image: string): { app: string; node: string } {
  const app = join(image, "app");
  mkdirSync(app, { recursive: true });
  execFileSync(
    process.execPath,
    [
      join(root, "node_modules/typescript/bin/tsc"),
      "-p",
      "tsconfig.build.json",
      "--outDir",
      join(app, "dist"),
    ],
    { cwd: root, stdio: "inherit" },
  );
  writeFileSync(join(app, "dist/build-info.json"), `${JSON.stringify({ commit: COMMIT })}\n`);
  copyFileSync(join(root, "package.json"), join(app, "package.json"));
  const packages = productionPackages();
  expect(packages).toContain("node_modules/@kubernetes/client-node");
  expect(packages).not.toContain("node_modules/vitest");
  for (const pkg of packages) cpSync(join(root, pkg), join(app, pkg), { recursive: true });
  const node = join(image, "node");
  copyFileSync(process.execPath, node);
  chmodSync(node, 0o755);
  return { app, node };
}

function runAs(
  node: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string }> {
  return new Promise((resolvePromise) => {
    execFile(node, args, { cwd, ...RUN_AS }, (error, stdout) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolvePromise({ code, stdout });
    });
  });
}

describe("the image entrypoint", () => {
  const image = mkdtempSync(join(tmpdir(), "entrypoint-"));
  let tree: { app: string; node: string };
  let home = "";
  let tmp = "";
  let namespace = "";
  let operator: OperatorProcess | undefined;

  beforeAll(async () => {
    tree = buildImageTree(image);
    home = join(image, "home");
    tmp = join(image, "tmp");
    mkdirSync(home);
    mkdirSync(tmp);
    // The admin kubeconfig, readable by the unprivileged user (credentials are embedded).
    const kubeconfig = join(image, "kubeconfig");
    writeFileSync(kubeconfig, readFileSync(providedCluster().kubeconfig));
    freeze(image);
    namespace = await createTestNamespace("entrypoint");
  }, 180_000);

  afterAll(async () => {
    await operator?.stop();
    // Unfreeze so the temporary tree can be removed.
    execFileSync("chmod", ["-R", "u+w", image]);
    rmSync(image, { recursive: true, force: true });
  });

  test("the tree, HOME and TMPDIR are really unwritable for the process", async () => {
    for (const dir of [tree.app, join(tree.app, "dist"), home, tmp]) {
      const { code } = await runAs(
        tree.node,
        ["-e", `require("node:fs").writeFileSync(${JSON.stringify(join(dir, "probe"))}, "x")`],
        tree.app,
      );
      expect(code, `${dir} is writable`).not.toBe(0);
    }
  });

  test("`--version` names the package version and the commit the image was built from", async () => {
    const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      version: string;
    };
    const { code, stdout } = await runAs(tree.node, ["dist/cli/main.js", "--version"], tree.app);
    expect(code).toBe(0);
    expect(stdout).toBe(
      `stateless-operator ${version} (commit ${COMMIT}, node ${process.version})\n`,
    );
  });

  test("`node <flags> dist/cli/main.js run` (ENTRYPOINT + CMD) reconciles a sample and exits 0 on SIGTERM", async () => {
    operator = startOperatorProcess({
      node: tree.node,
      args: [...OPERATOR_NODE_FLAGS, "dist/cli/main.js", "run"],
      cwd: tree.app,
      ...RUN_AS,
      env: {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        NODE_ENV: "production",
        HOME: home,
        TMPDIR: tmp,
        KUBECONFIG: join(image, "kubeconfig"),
        WATCH_NAMESPACES: namespace,
        HTTP_ADDRESS: "127.0.0.1:0",
        METRICS_ADDRESS: "127.0.0.1:0",
      },
    });
    const endpoint = await operator.endpoint();
    const running = operator;
    await kubectlOk([
      "apply",
      "--server-side",
      "-f",
      join(root, "manifests/crd/twelvefactor.dev_statelessapps.yaml"),
    ]);
    await kubectlOk(["wait", "--for=condition=Established", "crd/statelessapps.twelvefactor.dev"]);
    await kubectlOk(["apply", "-n", namespace, "-f", join(root, "manifests/samples/web.yaml")]);
    await eventually(
      async () => (await kubectl(["get", "deployment", "hello-web", "-n", namespace])).code === 0,
      { what: `the hello-web Deployment (log:\n${running.tail()})` },
    );
    await eventually(
      async () => {
        const r = await kubectl([
          "get",
          "statelessapp",
          "hello",
          "-n",
          namespace,
          "-o",
          "jsonpath={.status.observedGeneration}",
        ]);
        return r.stdout === "1";
      },
      { what: `hello's status (log:\n${running.tail()})` },
    );
    for (const path of ["/healthz", "/readyz"]) {
      const response = await fetch(`${endpoint}${path}`);
      expect(response.status, path).toBe(200);
    }
    // /metrics as the image serves it: HTTPS (a self-signed certificate made in memory: the
    // read-only tree is no obstacle), for a token allowed to read it.
    const scraped = await scrape(await running.metricsUrl(), await metricsToken(namespace, true));
    expect(scraped).toMatchObject({ status: 200, tls: true });
    const metrics = scraped.body;
    expect(metrics).toMatch(
      /^controller_runtime_reconcile_total\{[^}]*result="success"[^}]*\} [1-9]/m,
    );
    expect(metrics).toMatch(
      new RegExp(`^stateless_operator_build_info\\{version="[^"]+",commit="${COMMIT}"\\} 1$`, "m"),
    );
    expect(await running.stop(), running.tail()).toBe(0);
    expect(running.lines.filter((l) => /EACCES|EROFS|EPERM/.test(l))).toEqual([]);
    expect(readdirSync(home)).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
  }, 120_000);
});
