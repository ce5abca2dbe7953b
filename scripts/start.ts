// `npm start`: runs the operator against the current kubeconfig, or against a local cluster it starts.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { installCrd } from "../src/cli/install-crd.ts";
import { processIo } from "../src/cli/io.ts";
import { run } from "../src/cli/run.ts";
import { loadConnection } from "../src/platform/kube/index.ts";
import { connectionTransport } from "../src/runtime/index.ts";

const root = resolve(import.meta.dirname, "..");
const localKubeconfig = join(root, ".cluster", "kubeconfig");

const configured =
  (process.env.KUBECONFIG ?? "") !== "" ||
  existsSync(join(process.env.HOME ?? homedir(), ".kube", "config")) ||
  process.env.KUBERNETES_SERVICE_HOST !== undefined;

if (!configured) {
  console.log(
    "start: no cluster is configured: starting a local one (npm run cluster:up -- --tier e2e)",
  );
  const up = spawnSync(
    process.execPath,
    [join(root, "tools/cluster/cli.ts"), "up", "--tier", "e2e"],
    { stdio: "inherit" },
  );
  if (up.status !== 0) process.exit(up.status ?? 1);
  process.env.KUBECONFIG = localKubeconfig;
  console.log(
    `start: the operator runs against it; in another shell: export KUBECONFIG=${localKubeconfig}`,
  );
}

// Like kubebuilder's `make run`: install (server-side apply) the CRD the operator serves, then run.
const connection = await loadConnection(process.env);
const server = connection.server;
await installCrd(connectionTransport(connection), "stateless-operator-dev").catch(
  (error: unknown) => {
    console.error(
      `start: cannot install the StatelessApp CRD on ${server}: ${(error as Error).message}`,
    );
    process.exit(1);
  },
);
console.log(
  `start: StatelessApp CRD installed on ${server}; running the operator (Ctrl-C stops it)`,
);
process.env.HTTP_ADDRESS ??= "127.0.0.1:8080";
// A local run: /metrics in plain HTTP beside /healthz, so `curl 127.0.0.1:8080/metrics` works.
// In a cluster the operator serves it over HTTPS to authorized callers only (docs/operations.md).
process.env.METRICS_SECURE ??= "false";
process.exitCode = await run([], processIo);
