/**
 * Loads TLS certificates for `bind ... crt`: a PEM bundle with the certificate chain and the
 * private key (or the key in `<file>.key`, as HAProxy), and the names the leaf covers.
 *
 * @module
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import type { TlsCertificate } from "./types.ts";

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const KEY_BLOCK =
  /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]*?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

/** A load result: the certificate, or an error message. */
export type CertResult = { readonly ok: true; readonly value: TlsCertificate } | {
  readonly ok: false;
  readonly error: string;
};

/** Describes a file-read error without machine-specific paths. */
export function readErrorReason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "is a directory";
  return e instanceof Error ? e.message : String(e);
}

/** DNS names and IPs of a certificate: its subjectAltName entries, else its CN. */
export function certificateNames(cert: X509Certificate): string[] {
  const names: string[] = [];
  for (const part of (cert.subjectAltName ?? "").split(/,\s*/)) {
    const m = /^(DNS|IP Address):(.+)$/.exec(part.trim());
    if (m !== null) names.push(m[2].trim());
  }
  if (names.length > 0) return names;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject);
  return cn === null ? [] : [cn[1].trim()];
}

/**
 * Reads a PEM bundle. `file` is the resolved path, `shown` the name written in the config (for
 * messages); `readTextFile` reads files.
 */
export function loadCertificate(
  file: string,
  options: { shown: string; readTextFile: (path: string) => string },
): CertResult {
  const { shown, readTextFile } = options;
  let pem: string;
  try {
    pem = readTextFile(file);
  } catch (e) {
    return { ok: false, error: `cannot read certificate "${shown}": ${readErrorReason(e)}` };
  }
  const certs: string[] = pem.match(CERT_BLOCK) ?? [];
  const first = certs[0];
  if (first === undefined) return { ok: false, error: `no certificate found in "${shown}"` };
  let keyPem = KEY_BLOCK.exec(pem)?.[0] ?? null;
  if (keyPem === null) {
    let keyText: string;
    try {
      keyText = readTextFile(`${file}.key`);
    } catch {
      return { ok: false, error: `no private key found in "${shown}" nor in "${shown}.key"` };
    }
    keyPem = KEY_BLOCK.exec(keyText)?.[0] ?? null;
    if (keyPem === null) return { ok: false, error: `no private key found in "${shown}.key"` };
  }
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(first);
  } catch (e) {
    return { ok: false, error: `invalid certificate in "${shown}": ${(e as Error).message}` };
  }
  try {
    if (!leaf.checkPrivateKey(createPrivateKey(keyPem))) {
      return { ok: false, error: `the private key does not match the certificate in "${shown}"` };
    }
  } catch (e) {
    return { ok: false, error: `invalid private key for "${shown}": ${(e as Error).message}` };
  }
  return {
    ok: true,
    value: {
      file,
      certPem: certs.join("\n") + "\n",
      keyPem: keyPem + "\n",
      names: certificateNames(leaf),
    },
  };
}
