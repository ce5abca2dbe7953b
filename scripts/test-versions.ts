// `npm run test:versions`: the integration tier against every supported Kubernetes minor but the default (which `npm test` runs).
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { defaultKubernetesMinor, supportedKubernetes } from "../tools/cluster/versions.ts";

const root = resolve(import.meta.dirname, "..");
const minors = Object.keys(supportedKubernetes).filter((m) => m !== defaultKubernetesMinor);
const results: string[] = [];
let failed = false;
for (const minor of minors) {
  const env = { ...process.env, KUBERNETES_VERSION: minor };
  const started = Date.now();
  const steps: [string, string[]][] = [
    ["build", [resolve(root, "tools/cluster/build.ts"), "--tier", "integration"]],
    ["test", [resolve(root, "node_modules/vitest/vitest.mjs"), "run", "--project", "integration"]],
  ];
  for (const [step, args] of steps) {
    console.log(
      `test:versions: Kubernetes ${supportedKubernetes[minor as keyof typeof supportedKubernetes]}: ${step}`,
    );
    const r = spawnSync(process.execPath, args, { cwd: root, env, stdio: "inherit" });
    if (r.status !== 0) {
      failed = true;
      results.push(`${minor}: ${step} failed (exit ${r.status})`);
      break;
    }
  }
  results.push(`${minor}: done in ${Math.round((Date.now() - started) / 1000)} s`);
}
for (const line of results) console.log(`test:versions: ${line}`);
process.exitCode = failed ? 1 : 0;
