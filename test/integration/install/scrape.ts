// Scrapes the operator's /metrics as Prometheus would: HTTPS (its self-signed certificate unverified) with a bearer token.
import { mkdtempSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NAMESPACE } from "../../../scripts/install/index.ts";
import { renderMetricsRbac } from "../../../scripts/install/rbac.ts";
import { toYamlDocuments } from "../../../src/cli/yaml.ts";
import { uniqueName } from "../../support/cluster.ts";
import { kubectlOk } from "./kubectl.ts";

export interface Scrape {
  readonly status: number;
  readonly body: string;
  /** Whether the answer came over TLS. */
  readonly tls: boolean;
}

export function scrape(url: string, token?: string): Promise<Scrape> {
  const u = new URL(url);
  const tls = u.protocol === "https:";
  const request = tls ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        agent: false,
        ...(tls ? { rejectUnauthorized: false } : {}),
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        timeout: 10_000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, tls }));
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer in 10 s`)));
    req.end();
  });
}

/**
 * A ServiceAccount in `namespace` and a TokenRequest token for it; with `reader`, bound to the
 * shipped stateless-operator-metrics-reader ClusterRole, as an admin binds Prometheus.
 */
export async function metricsToken(namespace: string, reader: boolean): Promise<string> {
  const name = uniqueName(reader ? "prometheus" : "someone");
  await kubectlOk(["create", "serviceaccount", name, "-n", namespace]);
  if (reader) {
    // The shipped reader role, as the install applies it (this file may run before the install's).
    const role = renderMetricsRbac(NAMESPACE).find(
      (o) => (o.metadata as { name: string }).name === "stateless-operator-metrics-reader",
    );
    const file = join(mkdtempSync(join(tmpdir(), "reader-role-")), "role.yaml");
    writeFileSync(file, toYamlDocuments([role]));
    await kubectlOk(["apply", "--server-side", "-f", file]);
    await kubectlOk([
      "create",
      "clusterrolebinding",
      name,
      "--clusterrole=stateless-operator-metrics-reader",
      `--serviceaccount=${namespace}:${name}`,
    ]);
  }
  return (await kubectlOk(["create", "token", name, "-n", namespace, "--duration=1h"])).trim();
}
