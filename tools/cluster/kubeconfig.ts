// Writes kubeconfig files with the credentials embedded, so they can be copied anywhere.

import { readFile, writeFile } from "node:fs/promises";
import { stringify } from "yaml";
import type { KeyPair } from "./certs.ts";

/** Everything a kubeconfig for one client-certificate user needs. */
export type KubeconfigSpec = {
  path: string;
  server: string;
  caCertPath: string;
  user: string;
  credentials: KeyPair;
  /** Context and cluster name. @default "stateless-operator-test" */
  contextName?: string;
};

/** Renders and writes a kubeconfig with one cluster, one user and a current context. */
export async function writeKubeconfig(spec: KubeconfigSpec): Promise<string> {
  const b64 = async (p: string) => (await readFile(p)).toString("base64");
  const name = spec.contextName ?? "stateless-operator-test";
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name,
        cluster: {
          server: spec.server,
          "certificate-authority-data": await b64(spec.caCertPath),
        },
      },
    ],
    users: [
      {
        name: spec.user,
        user: {
          "client-certificate-data": await b64(spec.credentials.certPath),
          "client-key-data": await b64(spec.credentials.keyPath),
        },
      },
    ],
    contexts: [{ name, context: { cluster: name, user: spec.user } }],
    "current-context": name,
  };
  await writeFile(spec.path, stringify(config), { mode: 0o600 });
  return spec.path;
}
