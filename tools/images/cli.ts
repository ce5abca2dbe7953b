// `npm run image:build [-- --docker|--buildah] [name…]`: builds the repository's images.
//
// With a Docker engine: `docker build` of the Dockerfiles (operator, session-counter), as any
// Docker user would. Without one (these machines): buildah on the local base image (tools/images),
// cached by content hash; when this checkout's node tier runs (`npm run cluster:up -- --tier
// node`), the images are also imported into its containerd, ready for pods.

import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  dockerAvailable,
  dockerBuild,
  ensureImages,
  type ImageName,
  imageRef,
  images,
  importIntoContainerd,
} from "./images.ts";

const repoRoot = resolve(import.meta.dirname, "../..");
const defaults: ImageName[] = ["operator", "session-counter"];

/** The containerd socket of this checkout's running node tier, if one runs. */
function runningNodeSocket(): string | undefined {
  try {
    const state = JSON.parse(readFileSync(join(repoRoot, ".cluster/state.json"), "utf8")) as {
      tier?: string;
      containerdSocket?: string;
    };
    return state.tier === "node" ? state.containerdSocket : undefined;
  } catch {
    return undefined;
  }
}

async function main(argv: string[]): Promise<void> {
  const names = argv.filter((a) => !a.startsWith("--")) as ImageName[];
  for (const name of names) {
    if (!(name in images))
      throw new Error(`unknown image ${name} (one of ${Object.keys(images).join(", ")})`);
  }
  const useDocker = argv.includes("--docker") || (!argv.includes("--buildah") && dockerAvailable());
  const log = (line: string) => console.log(line);
  if (useDocker) {
    const wanted = (names.length > 0 ? names : defaults).filter(
      (n): n is "operator" | "session-counter" => n === "operator" || n === "session-counter",
    );
    await dockerBuild(wanted, log);
    return;
  }
  const archives = await ensureImages(names.length > 0 ? names : [...defaults, "redis"], { log });
  for (const [name, archive] of Object.entries(archives)) {
    console.log(`images: ${imageRef(name as ImageName).padEnd(56)} ${archive}`);
  }
  const socket = runningNodeSocket();
  if (socket) {
    importIntoContainerd(socket, Object.values(archives), log);
    console.log("images: imported into the running node tier's containerd");
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`images: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
