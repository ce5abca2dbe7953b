// The metrics server's TLS key and certificate: from a directory (tls.crt, tls.key) that is re-read as it rotates, or self-signed at start.
import {
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  X509Certificate,
} from "node:crypto";
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";

export interface KeyPair {
  /** PEM. */
  readonly cert: string;
  /** PEM. */
  readonly key: string;
}

// --- A minimal DER writer: just what a self-signed X.509 v3 certificate needs. ---------------

const der = (tag: number, content: Buffer): Buffer => {
  const n = content.length;
  const length =
    n < 0x80
      ? Buffer.from([n])
      : n < 0x100
        ? Buffer.from([0x81, n])
        : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
};
const seq = (...items: Buffer[]) => der(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => der(0x31, Buffer.concat(items));
const explicit = (n: number, item: Buffer) => der(0xa0 + n, item);
const octets = (content: Buffer) => der(0x04, content);
const bits = (content: Buffer, unused = 0) =>
  der(0x03, Buffer.concat([Buffer.from([unused]), content]));
const utf8 = (text: string) => der(0x0c, Buffer.from(text, "utf8"));
const bool = (value: boolean) => der(0x01, Buffer.from([value ? 0xff : 0]));
const integer = (bytes: Buffer) =>
  der(0x02, (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split(".").map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return der(0x06, Buffer.from(out));
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5). */
function time(at: Date): Buffer {
  const iso = at.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return at.getUTCFullYear() < 2050
    ? der(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : der(0x18, Buffer.from(`${iso}Z`));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split(".").map(Number));
  const [head = "", tail = ""] = ip.split("::");
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const h = groups(head);
  const t = groups(tail);
  const all = ip.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  return Buffer.from(all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  serverAuth: "1.3.6.1.5.5.7.3.1",
} as const;

const extension = (id: string, critical: boolean, value: Buffer) =>
  seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

/**
 * A self-signed ECDSA P-256 server certificate for `hosts` (DNS names or IP addresses), valid
 * for a year from `now`: what controller-runtime's metrics server makes when it is given none.
 * Scrapers then skip verification (or pin this certificate); a real one comes from a directory.
 */
export function selfSignedCertificate(
  commonName: string,
  hosts: readonly string[],
  now: Date = new Date(),
): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const name = seq(set(seq(oid(OID.commonName), utf8(commonName))));
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const notBefore = new Date(now.getTime() - 5 * 60_000); // clock skew between replicas and scrapers
  const notAfter = new Date(now.getTime() + 365 * 24 * 3600_000);
  const altNames = hosts.map((h) =>
    isIP(h) === 0 ? der(0x82, Buffer.from(h, "ascii")) : der(0x87, ipBytes(h)),
  );
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    algorithm,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    explicit(
      3,
      seq(
        extension(OID.basicConstraints, true, seq()),
        extension(OID.keyUsage, true, bits(Buffer.from([0x80]), 7)), // digitalSignature
        extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
        extension(OID.subjectAltName, false, seq(...altNames)),
      ),
    ),
  );
  const certificate = seq(tbs, algorithm, bits(sign("sha256", tbs, privateKey)));
  const body = certificate.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

/** Reads `tls.crt` and `tls.key` (a kubernetes.io/tls Secret's keys); throws when they do not match. */
export async function readKeyPair(dir: string): Promise<KeyPair> {
  const [cert, key] = await Promise.all([
    readFile(join(dir, "tls.crt"), "utf8"),
    readFile(join(dir, "tls.key"), "utf8"),
  ]);
  let matches: boolean;
  try {
    matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
  } catch (error) {
    throw new Error(`${dir}: tls.crt and tls.key do not parse: ${(error as Error).message}`);
  }
  if (!matches) throw new Error(`${dir}: tls.key is not the key of tls.crt`);
  return { cert, key };
}

export interface KeyPairWatch {
  stop(): void;
}

/**
 * Re-reads the directory every `intervalMs` and hands over a changed pair once it is whole and
 * matching: a Secret volume swaps both files at once, but a reader may see the swap half done.
 * A bad pair is reported and the previous one kept.
 */
export function watchKeyPair(
  dir: string,
  current: KeyPair,
  onChange: (pair: KeyPair) => void,
  onError: (error: Error) => void,
  intervalMs = 10_000,
): KeyPairWatch {
  let last = current;
  let failed = "";
  const timer = setInterval(() => {
    readKeyPair(dir).then(
      (pair) => {
        failed = "";
        if (pair.cert === last.cert && pair.key === last.key) return;
        last = pair;
        onChange(pair);
      },
      (error: Error) => {
        // Once per distinct problem, not every interval.
        if (error.message !== failed) onError(error);
        failed = error.message;
      },
    );
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
