import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadCertificate } from "./tls.ts";

const CERTS = fileURLToPath(new URL("../../tests/testdata/valid/certs/", import.meta.url));
const read = (p: string) => Deno.readTextFileSync(p);

Deno.test("loadCertificate reads a bundle: chain, key and SAN names", () => {
  const r = loadCertificate(`${CERTS}web.pem`, { shown: "web.pem", readTextFile: read });
  assert.ok(r.ok, r.ok ? "" : r.error);
  assert.deepEqual(r.value.names, ["www.test1.com", "www.test2.com", "localhost", "127.0.0.1"]);
  assert.equal(r.value.certPem.match(/BEGIN CERTIFICATE/g)?.length, 2);
  assert.match(r.value.keyPem, /^-----BEGIN PRIVATE KEY-----/);
});

Deno.test("loadCertificate finds the key in <file>.key, and reports what is missing", () => {
  const bundle = read(`${CERTS}web.pem`);
  const key = /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----\n/.exec(bundle)![0];
  const files: Record<string, string> = {
    "/x/split.pem": bundle.replace(key, ""),
    "/x/split.pem.key": key,
    "/x/nokey.pem": bundle.replace(key, ""),
    "/x/ca.pem": read(`${CERTS}ca.pem`),
    "/x/ca.pem.key": key,
    "/x/empty.pem": "hello",
  };
  const readTextFile = (p: string) => {
    if (p in files) return files[p];
    throw new Deno.errors.NotFound(p);
  };
  const split = loadCertificate("/x/split.pem", { shown: "split.pem", readTextFile });
  assert.ok(split.ok);
  const err = (file: string) => {
    const r = loadCertificate(file, { shown: file, readTextFile });
    return r.ok ? "" : r.error;
  };
  assert.equal(
    err("/x/nokey.pem"),
    'no private key found in "/x/nokey.pem" nor in "/x/nokey.pem.key"',
  );
  assert.equal(err("/x/missing.pem"), 'cannot read certificate "/x/missing.pem": no such file');
  assert.equal(err("/x/empty.pem"), 'no certificate found in "/x/empty.pem"');
  assert.equal(err("/x/ca.pem"), 'the private key does not match the certificate in "/x/ca.pem"');
});
