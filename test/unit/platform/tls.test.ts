// The metrics server's certificates: a self-signed one Node's X.509 parser accepts, and a directory that rotates.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { readKeyPair, selfSignedCertificate, watchKeyPair } from "../../../src/platform/tls.ts";

describe("selfSignedCertificate", () => {
  const now = new Date("2026-12-01T12:00:00Z");
  const pair = selfSignedCertificate(
    "stateless-operator-metrics",
    ["localhost", "127.0.0.1", "::1"],
    now,
  );
  const cert = new X509Certificate(pair.cert);

  test("is a v3 server certificate for the names and addresses asked, signed by its own key", () => {
    expect(cert.subject).toBe("CN=stateless-operator-metrics");
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.subjectAltName).toBe(
      "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
    );
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.checkHost("example.com")).toBeUndefined();
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(pair.key))).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
  });

  test("is valid for a year from a little before now", () => {
    expect(new Date(cert.validFrom).getTime()).toBe(now.getTime() - 5 * 60_000);
    expect(new Date(cert.validTo).getTime()).toBe(now.getTime() + 365 * 24 * 3600_000);
  });

  test("a new serial number and key every time", () => {
    const other = new X509Certificate(selfSignedCertificate("x", ["localhost"], now).cert);
    expect(other.serialNumber).not.toBe(cert.serialNumber);
    expect(other.publicKey.export({ type: "spki", format: "der" })).not.toEqual(
      cert.publicKey.export({ type: "spki", format: "der" }),
    );
  });

  test("after 2049 the validity is a GeneralizedTime (RFC 5280)", () => {
    const late = new X509Certificate(
      selfSignedCertificate("x", ["localhost"], new Date("2049-12-31T00:00:00Z")).cert,
    );
    expect(new Date(late.validTo).getUTCFullYear()).toBe(2050);
  });
});

describe("a certificate directory", () => {
  const dir = mkdtempSync(join(tmpdir(), "metrics-tls-"));
  const write = (p: { cert: string; key: string }) => {
    writeFileSync(join(dir, "tls.crt"), p.cert);
    writeFileSync(join(dir, "tls.key"), p.key);
  };

  test("is read as tls.crt and tls.key, and a key of another certificate is refused", async () => {
    const a = selfSignedCertificate("a", ["localhost"]);
    const b = selfSignedCertificate("b", ["localhost"]);
    write(a);
    expect(await readKeyPair(dir)).toEqual(a);
    write({ cert: a.cert, key: b.key });
    await expect(readKeyPair(dir)).rejects.toThrow(/tls\.key is not the key of tls\.crt/);
    writeFileSync(join(dir, "tls.crt"), "garbage");
    await expect(readKeyPair(dir)).rejects.toThrow(/do not parse/);
  });

  test("hands over a rotated pair once, and reports a broken one without dropping the old", async () => {
    const a = selfSignedCertificate("a", ["localhost"]);
    const b = selfSignedCertificate("b", ["localhost"]);
    write(a);
    const changes: string[] = [];
    const errors: string[] = [];
    const watch = watchKeyPair(
      dir,
      a,
      (p) => changes.push(new X509Certificate(p.cert).subject),
      (e) => errors.push(e.message),
      20,
    );
    const wait = () => new Promise((r) => setTimeout(r, 120));
    await wait();
    expect(changes).toEqual([]);
    writeFileSync(join(dir, "tls.crt"), b.cert); // half a rotation: b's certificate, a's key
    await wait();
    expect(changes).toEqual([]);
    expect(errors).toHaveLength(1);
    writeFileSync(join(dir, "tls.key"), b.key);
    await wait();
    watch.stop();
    expect(changes).toEqual(["CN=b"]);
    expect(errors).toHaveLength(1);
  });
});
