/**
 * HAProxy's hash functions (src/hash.c) and its integer avalanche `full_hash`, bit-exact on
 * unsigned 32-bit values. Inputs are bytes; results are unsigned 32-bit numbers.
 *
 * @module
 */

/** A hash function over bytes returning an unsigned 32-bit number. */
export type HashFn = (key: Uint8Array) => number;

/** sdbm: `h = c + (h << 6) + (h << 16) - h` (HAProxy's default). */
export function hashSdbm(key: Uint8Array): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) {
    h = (key[i] + (h << 6) + (h << 16) - h) >>> 0;
  }
  return h;
}

/** djb2: `h = h * 33 + c`, starting at 5381. */
export function hashDjb2(key: Uint8Array): number {
  let h = 5381;
  for (let i = 0; i < key.length; i++) {
    h = ((h << 5) + h + key[i]) >>> 0;
  }
  return h;
}

/** wt6: Willy Tarreau's 6-rotation hash. */
export function hashWt6(key: Uint8Array): number {
  let h0 = 0xa53c965a;
  let h1 = 0x5ca6953a;
  let step0 = 6;
  let step1 = 18;
  for (let i = 0; i < key.length; i++) {
    const c = key[i];
    h0 = ~(h0 ^ c) >>> 0;
    h1 = ~(h1 + c) >>> 0;
    // x86 masks shift counts to 5 bits, as JavaScript does: a rotation by 0 keeps the value.
    const t = ((h1 << step0) | (h1 >>> (32 - step0))) >>> 0;
    h1 = ((h0 << step1) | (h0 >>> (32 - step1))) >>> 0;
    h0 = t;
    const u = ((h0 >>> 16) ^ h1) & 0xffff;
    step0 = u & 0x1f;
    step1 = u >>> 11;
  }
  return (h0 ^ h1) >>> 0;
}

/** CRC-32 (IEEE 802.3, reflected polynomial 0xedb88320), bitwise like HAProxy's. */
export function hashCrc32(key: Uint8Array): number {
  let h = 0xffffffff;
  for (let i = 0; i < key.length; i++) {
    h ^= key[i];
    for (let bit = 0; bit < 8; bit++) {
      h = (h >>> 1) ^ ((h & 1) ? 0xedb88320 : 0);
    }
  }
  return ~h >>> 0;
}

/**
 * HAProxy's `full_hash`: one of Bob Jenkins' full-avalanche integer hashes followed by a
 * multiplication by 3221225473 (mod 2^32). Used for `avalanche` and consistent-hash points.
 */
export function fullHash(a: number): number {
  a = (a + 0x7ed55d16 + (a << 12)) >>> 0;
  a = ((a ^ 0xc761c23c) ^ (a >>> 19)) >>> 0;
  a = (a + 0x165667b1 + (a << 5)) >>> 0;
  a = ((a + 0xd3a2646c) ^ (a << 9)) >>> 0;
  a = (a + 0xfd7046c5 + (a << 3)) >>> 0;
  a = ((a ^ 0xb55a4f09) ^ (a >>> 16)) >>> 0;
  return Math.imul(a, 3221225473 | 0) >>> 0;
}

/** The hash function for a `hash_type` function name. */
export function hashFunction(name: "sdbm" | "djb2" | "wt6" | "crc32"): HashFn {
  switch (name) {
    case "djb2":
      return hashDjb2;
    case "wt6":
      return hashWt6;
    case "crc32":
      return hashCrc32;
    default:
      return hashSdbm;
  }
}

/**
 * The source-address hash of `balance source` (backend.c get_server_sh): the address bytes
 * read as big-endian 32-bit words XORed together (an IPv4 address is its own u32). HAProxy does
 * not apply the `hash_type` function here, only `avalanche`.
 */
export function addressHash(addr: Uint8Array): number {
  let h = 0;
  for (let l = 0; l + 4 <= addr.length; l += 4) {
    h ^= (addr[l] << 24) | (addr[l + 1] << 16) | (addr[l + 2] << 8) | addr[l + 3];
  }
  return h >>> 0;
}
