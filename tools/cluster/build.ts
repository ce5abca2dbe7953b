// CLI: builds or reuses the cached control-plane binaries (`npm run cluster:build`, run by pretest).
//
//   node tools/cluster/build.ts [--tier integration|e2e|node]   default: every binary of every tier
//
// Before building it checks that the committed wrapper go.mod files still match upstream.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter } from "node:path";
import { buildableBinaries, ensureBinaries, formatDuration } from "./binaries.ts";
import { checkWrappers } from "./gomod.ts";
import { parseTier, tierBinaries } from "./tiers.ts";
import { type BinaryName, binaryNames, selectedKubernetesVersion } from "./versions.ts";

/** Finds Go where the official tarball installs it when PATH lacks it (non-login shells). */
function addGoToPath(): void {
  const dir = "/usr/local/go/bin";
  if (!hasGo() && existsSync(`${dir}/go`))
    process.env.PATH = `${process.env.PATH}${delimiter}${dir}`;
}

function hasGo(): boolean {
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

async function main(argv: string[]): Promise<void> {
  const tierIndex = argv.indexOf("--tier");
  // Another Kubernetes minor (KUBERNETES_VERSION) builds what runs on it: the integration tier's
  // binaries and the version-independent tools.
  const names: readonly BinaryName[] = buildableBinaries(
    tierIndex >= 0 ? tierBinaries[parseTier(argv[tierIndex + 1], "integration")] : binaryNames,
  );
  console.log(`cluster: Kubernetes ${selectedKubernetesVersion()}`);
  const started = Date.now();
  addGoToPath();
  if (hasGo()) {
    const problems = checkWrappers();
    if (problems.length > 0) {
      throw new Error(
        `wrapper modules out of date (run \`node tools/cluster/gomod.ts\`):\n  ${problems.join("\n  ")}`,
      );
    }
  }
  const { paths, built } = await ensureBinaries(names);
  if (built.length === 0) {
    console.log(`cluster: binaries ready (${formatDuration(Date.now() - started)}):`);
  }
  for (const name of names) console.log(`cluster:   ${name.padEnd(24)} ${paths[name]}`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`cluster: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
