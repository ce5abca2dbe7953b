// TLS material for a test cluster: one CA, the apiserver's serving cert, client certs, SA keys.
//
// Keys come from node:crypto (ECDSA P-256: fast to generate, accepted by every component);
// certificates from the openssl CLI, since node:crypto cannot issue X.509 certificates.

import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { systemCommand } from "../provision/provision.ts";

const execFileAsync = promisify(execFile);

/** A certificate and its private key, as PEM files. */
export type KeyPair = { certPath: string; keyPath: string };

/** What a leaf certificate is for. */
export type CertificateRequest = {
  /** File name stem in the pki directory. */
  name: string;
  /** CN: the user name for client certs. */
  commonName: string;
  /** O: the groups for client certs (`system:masters` is cluster-admin). */
  organizations?: string[];
  /** DNS names and IP addresses for serving certs. */
  hosts?: string[];
  usage: "server" | "client";
};

function writePrivateKey(path: string): Promise<string> {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  return writeFile(path, pem, { mode: 0o600 }).then(() => pem);
}

/** openssl subject syntax; `/` and `\` in a value would need escaping, so refuse them. */
function subject(commonName: string, organizations: string[] = []): string {
  for (const v of [commonName, ...organizations]) {
    if (/[/\\]/.test(v)) throw new Error(`unsupported character in certificate subject: ${v}`);
  }
  return `${organizations.map((o) => `/O=${o}`).join("")}/CN=${commonName}`;
}

async function openssl(args: string[]): Promise<void> {
  const command = systemCommand("openssl"); // throws, naming the package, when it is missing
  try {
    await execFileAsync(command, args);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

/** Creates a self-signed CA in `dir` (ca.crt, ca.key). */
export async function createCertificateAuthority(dir: string): Promise<KeyPair> {
  const pair = { certPath: join(dir, "ca.crt"), keyPath: join(dir, "ca.key") };
  await writePrivateKey(pair.keyPath);
  // An explicit config: the system openssl.cnf would add its own (possibly duplicate) extensions.
  const config = join(dir, "ca.cnf");
  await writeFile(
    config,
    [
      "[req]",
      "distinguished_name = dn",
      "x509_extensions = ext",
      "prompt = no",
      "[dn]",
      "[ext]",
      "basicConstraints = critical, CA:TRUE",
      "keyUsage = critical, keyCertSign, cRLSign, digitalSignature",
      "subjectKeyIdentifier = hash",
      "",
    ].join("\n"),
  );
  await openssl([
    "req",
    "-x509",
    "-new",
    "-config",
    config,
    "-key",
    pair.keyPath,
    "-subj",
    subject("stateless-operator-test-ca"),
    "-days",
    "3650",
    "-out",
    pair.certPath,
  ]);
  return pair;
}

/** Issues a leaf certificate signed by `ca` into `dir`. */
export async function issueCertificate(
  ca: KeyPair,
  dir: string,
  req: CertificateRequest,
): Promise<KeyPair> {
  const pair = { certPath: join(dir, `${req.name}.crt`), keyPath: join(dir, `${req.name}.key`) };
  const csr = join(dir, `${req.name}.csr`);
  const ext = join(dir, `${req.name}.ext`);
  await writePrivateKey(pair.keyPath);
  const sans = (req.hosts ?? []).map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`));
  await writeFile(
    ext,
    [
      "basicConstraints = critical, CA:FALSE",
      "keyUsage = critical, digitalSignature, keyEncipherment",
      `extendedKeyUsage = ${req.usage === "server" ? "serverAuth" : "clientAuth"}`,
      "authorityKeyIdentifier = keyid",
      ...(sans.length > 0 ? [`subjectAltName = ${sans.join(", ")}`] : []),
      "",
    ].join("\n"),
  );
  await openssl([
    "req",
    "-new",
    "-key",
    pair.keyPath,
    "-subj",
    subject(req.commonName, req.organizations),
    "-out",
    csr,
  ]);
  await openssl([
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca.certPath,
    "-CAkey",
    ca.keyPath,
    "-set_serial",
    `0x${Date.now().toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`,
    "-days",
    "365",
    "-extfile",
    ext,
    "-out",
    pair.certPath,
  ]);
  return pair;
}

/** The key pair that signs and verifies ServiceAccount tokens. */
export async function createServiceAccountKeys(
  dir: string,
): Promise<{ publicKeyPath: string; privateKeyPath: string }> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const paths = { publicKeyPath: join(dir, "sa.pub"), privateKeyPath: join(dir, "sa.key") };
  await writeFile(paths.privateKeyPath, privateKey.export({ type: "pkcs8", format: "pem" }), {
    mode: 0o600,
  });
  await writeFile(paths.publicKeyPath, publicKey.export({ type: "spki", format: "pem" }));
  return paths;
}
