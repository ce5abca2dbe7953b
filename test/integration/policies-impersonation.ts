// A kubeconfig that acts as another user: the admin's credentials with `as` (kubectl --as), for
// tests that audit or report as a user holding only the rules they grant it.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { providedCluster } from "../support/cluster.ts";

/** The path of a kubeconfig impersonating `user`. */
export async function impersonatingKubeconfig(user: string): Promise<string> {
  const config = parse(await readFile(providedCluster().kubeconfig, "utf8")) as {
    users: { user: Record<string, unknown> }[];
  };
  for (const u of config.users) u.user.as = user;
  const path = join(await mkdtemp(join(tmpdir(), `as-${user}-`)), "kubeconfig");
  await writeFile(path, stringify(config), { mode: 0o600 });
  return path;
}
