import assert from "node:assert/strict";
import {
  addressHash,
  fullHash,
  hashCrc32,
  hashDjb2,
  hashFunction,
  hashSdbm,
  hashWt6,
} from "./hash_fns.ts";

const enc = new TextEncoder();

Deno.test("hash functions match HAProxy 2.6.12's sdbm/djb2/wt6/crc32 converters", () => {
  // Values returned by `%[path,sdbm] %[path,djb2] %[path,wt6] %[path,crc32] %[path,sdbm(1)]`.
  const k = enc.encode("/abc");
  assert.equal(hashSdbm(k), 3135654771);
  assert.equal(hashDjb2(k), 2088271610);
  assert.equal(hashWt6(k), 4175322074);
  assert.equal(hashCrc32(k), 326170788);
  assert.equal(fullHash(hashSdbm(k)), 2611440265);
  assert.equal(hashCrc32(enc.encode("123456789")), 0xcbf43926);
  assert.equal(hashSdbm(new Uint8Array(0)), 0);
  assert.equal(hashDjb2(new Uint8Array(0)), 5381);
  assert.equal(hashFunction("wt6"), hashWt6);
});

Deno.test("addressHash: IPv4 is its u32, IPv6 XORs its four words", () => {
  assert.equal(addressHash(new Uint8Array([127, 0, 0, 2])), 0x7f000002);
  assert.equal(addressHash(new Uint8Array([192, 168, 1, 200])), 0xc0a801c8);
  const v6 = new Uint8Array(16);
  v6[0] = 0x20, v6[1] = 0x01, v6[2] = 0x0d, v6[3] = 0xb8, v6[15] = 1;
  assert.equal(addressHash(v6), (0x20010db8 ^ 1) >>> 0);
});
