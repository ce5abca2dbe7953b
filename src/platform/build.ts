// Which build this process is: the package's version and the source commit the image was built from.
import { readFileSync } from "node:fs";

export interface BuildInfo {
  readonly version: string;
  /** The git commit, or "unknown" outside an image built with `--build-arg COMMIT=…`. */
  readonly commit: string;
}

/**
 * package.json sits two levels above this module both in a checkout (src/platform/) and in the
 * image (dist/platform/, package.json copied beside dist/). The commit is written into
 * dist/build-info.json by the Dockerfile; a checkout has no such file.
 */
export function readBuildInfo(base: URL = new URL(".", import.meta.url)): BuildInfo {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", base), "utf8")) as {
    version: string;
  };
  let commit = "unknown";
  try {
    const info = JSON.parse(readFileSync(new URL("../build-info.json", base), "utf8")) as {
      commit?: unknown;
    };
    if (typeof info.commit === "string" && /^[0-9a-f]{7,40}$/.test(info.commit))
      commit = info.commit;
  } catch {
    // no build-info.json: not an image build
  }
  return { version: pkg.version, commit };
}
