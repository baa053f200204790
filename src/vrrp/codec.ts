/**
 * VRRP message codec: VRRPv2 (RFC 3768, with RFC 2338 PASS/AH auth types as keepalived keeps
 * them) and VRRPv3 (RFC 5798 / RFC 9568) for IPv4 and IPv6, with their checksums. This module
 * covers the VRRP message only (what follows the IP header, or the AH header); the IPv4 datagram
 * and AH live in `ipv4.ts`. Pure: no I/O.
 *
 * Checksums:
 * - v2: Internet checksum over the message (auth bytes included), no pseudo-header.
 * - v3 IPv4: `"pseudo"` (keepalived/FRR default: 12-byte pseudo-header src, dst, 0, 112, length)
 *   or `"message"` (RFC 9568 / Cisco: message only). Decoding accepts both and reports which one
 *   matched.
 * - v3 IPv6: IPv6 pseudo-header (src, dst, 32-bit length, 3 zero bytes, next header 112).
 *
 * @module
 */

/** IP protocol number of VRRP. */
export const IPPROTO_VRRP = 112;
/** Size of the fixed VRRP header (both versions). */
export const VRRP_HEADER_LEN = 8;
/** Size of the v2 authentication data. */
export const VRRP_AUTH_LEN = 8;

/** Address family of a VRRP instance. */
export type Family = 4 | 6;

/** v3 IPv4 checksum algorithm: with the IPv4 pseudo-header, or over the message only. */
export type V3Ipv4Checksum = "pseudo" | "message";

/**
 * Which checksum verified on decode: `"v2"` (message only, v2), `"pseudo"` / `"message"` (v3 IPv4),
 * `"pseudo-mcast"` (v3 IPv4 unicast packet whose pseudo-header used the multicast group instead of
 * the real destination: keepalived ≤ 1.3.6 peers), `"ipv6"` (v3 IPv6 pseudo-header).
 */
export type ChecksumKind = "v2" | "pseudo" | "message" | "pseudo-mcast" | "ipv6";

/** A VRRPv2 advertisement (IPv4 only). */
export interface V2Advert {
  readonly version: 2;
  readonly family: 4;
  /** 0..255 on the wire (1..255 valid). */
  readonly vrid: number;
  /** 0 = master stopping, 1..254, 255 = address owner. */
  readonly priority: number;
  /** Adver Int in whole seconds (0..255 on the wire). */
  readonly adverInt: number;
  /** 0 none, 1 simple password, 2 IP AH (any byte value decodes). */
  readonly authType: number;
  /** The 8 authentication bytes (password zero-padded for type 1, zeros otherwise). */
  readonly authData: Uint8Array;
  /** The IPv4 addresses, 4 bytes each. */
  readonly addresses: readonly Uint8Array[];
}

/** A VRRPv3 advertisement. */
export interface V3Advert {
  readonly version: 3;
  readonly family: Family;
  readonly vrid: number;
  readonly priority: number;
  /** Max Adver Int in centiseconds (12 bits, 0..4095; reserved bits are masked on decode). */
  readonly maxAdverInt: number;
  /** IPv4 (4-byte) or IPv6 (16-byte) addresses, never mixed. */
  readonly addresses: readonly Uint8Array[];
}

/** Any VRRP advertisement. */
export type VrrpAdvert = V2Advert | V3Advert;

/** Why a VRRP message could not be decoded. */
export type DecodeReason =
  | "truncated"
  | "bad-version"
  | "bad-type"
  | "bad-family"
  | "bad-length"
  | "bad-checksum";

/** A decoder result: never thrown, always returned. */
export type DecodeResult<T, R extends string = DecodeReason> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: R; readonly detail: string };

/** A successfully decoded message with the checksum form that verified. */
export interface DecodedAdvert {
  readonly advert: VrrpAdvert;
  readonly checksum: ChecksumKind;
}

/** Addresses for the checksum pseudo-header (network-order bytes). */
export interface ChecksumAddresses {
  /** Source address of the IP packet. */
  readonly src: Uint8Array;
  /** Destination address of the IP packet (the group, or the unicast peer). */
  readonly dst: Uint8Array;
}

/** Options for {@linkcode encodeAdvert}. */
export interface EncodeAdvertOptions extends Partial<ChecksumAddresses> {
  /** v3 IPv4 only; default "pseudo" (keepalived 2.2.7 / FRR). */
  readonly v3Ipv4Checksum?: V3Ipv4Checksum;
}

/** Options for {@linkcode decodeAdvert}. */
export interface DecodeAdvertOptions extends ChecksumAddresses {
  /** The family of the socket the message arrived on. */
  readonly family: Family;
  /** v3 IPv4: the form tried first (both are accepted); default "pseudo". */
  readonly v3Ipv4Checksum?: V3Ipv4Checksum;
  /**
   * v3 IPv4 unicast: also accept a pseudo-header built with this group instead of `dst`
   * (keepalived's old unicast checksum, reported as "pseudo-mcast"). Usually 224.0.0.18.
   */
  readonly legacyGroup?: Uint8Array;
}

/**
 * Adds 16-bit big-endian words of `data` to a running one's complement sum (not folded).
 *
 * @param data bytes (an odd trailing byte is padded with zero)
 * @param sum the running sum
 * @returns the new running sum
 * @example
 * ```ts
 * finishChecksum(sumWords(new Uint8Array([0x45, 0x00]), 0)); // 0xbaff
 * ```
 */
export function sumWords(data: Uint8Array, sum: number): number {
  let s = sum;
  const even = data.length & ~1;
  for (let i = 0; i < even; i += 2) s += (data[i] << 8) | data[i + 1];
  if (even !== data.length) s += data[even] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/**
 * Folds a running sum and complements it: the Internet checksum value.
 *
 * @param sum a value from {@linkcode sumWords}
 * @returns the 16-bit checksum
 * @example
 * ```ts
 * finishChecksum(0xffff); // 0
 * ```
 */
export function finishChecksum(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function pseudoSum(message: Uint8Array, src: Uint8Array, dst: Uint8Array): number {
  if (src.length === 16) {
    const ph = new Uint8Array(40);
    ph.set(src, 0);
    ph.set(dst, 16);
    new DataView(ph.buffer).setUint32(32, message.length);
    ph[39] = IPPROTO_VRRP;
    return sumWords(ph, 0);
  }
  const ph = new Uint8Array(12);
  ph.set(src, 0);
  ph.set(dst, 4);
  ph[9] = IPPROTO_VRRP;
  ph[10] = message.length >> 8;
  ph[11] = message.length & 0xff;
  return sumWords(ph, 0);
}

/**
 * Computes the checksum a message must carry (its checksum field is taken as zero).
 *
 * @param message the whole VRRP message
 * @param options `pseudo` addresses (IPv4 or IPv6 by their length), or none for message-only
 * @returns the 16-bit checksum value
 * @example
 * ```ts
 * const msg = new Uint8Array([0x31, 0x33, 0x96, 1, 0, 10, 0, 0, 192, 0, 2, 100]);
 * const v = computeChecksum(msg, {
 *   pseudo: { src: new Uint8Array([192, 0, 2, 1]), dst: new Uint8Array([224, 0, 0, 18]) },
 * });
 * v === 0xd3cb; // true
 * ```
 */
export function computeChecksum(
  message: Uint8Array,
  options: { readonly pseudo?: ChecksumAddresses } = {},
): number {
  const copy = message.slice();
  if (copy.length >= 8) {
    copy[6] = 0;
    copy[7] = 0;
  }
  const base = options.pseudo ? pseudoSum(copy, options.pseudo.src, options.pseudo.dst) : 0;
  return finishChecksum(sumWords(copy, base));
}

/**
 * Makes the 8-byte v2 authentication key from a password: its first 8 bytes (UTF-8),
 * zero-padded, as keepalived does for both PASS and AH.
 *
 * @param password the configured password
 * @returns 8 bytes
 * @example
 * ```ts
 * authKey("secret"); // Uint8Array [115, 101, 99, 114, 101, 116, 0, 0]
 * ```
 */
export function authKey(password: string): Uint8Array {
  const out = new Uint8Array(VRRP_AUTH_LEN);
  out.set(new TextEncoder().encode(password).subarray(0, VRRP_AUTH_LEN));
  return out;
}

function checkByte(name: string, value: number, max = 255): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`Cannot encode VRRP ${name}: ${value} is not an integer in 0..${max}`);
  }
}

/**
 * Encodes a VRRP advertisement with its checksum.
 *
 * Throws (programming errors only): RangeError for a field that does not fit; TypeError when a
 * v3 message needs pseudo-header addresses that were not given.
 *
 * @param advert the message
 * @param options pseudo-header addresses (v3) and the v3 IPv4 checksum form
 * @returns the message bytes
 * @example
 * ```ts
 * const bytes = encodeAdvert({
 *   version: 3, family: 4, vrid: 51, priority: 150, maxAdverInt: 10,
 *   addresses: [new Uint8Array([192, 0, 2, 100])],
 * }, { src: new Uint8Array([192, 0, 2, 1]), dst: new Uint8Array([224, 0, 0, 18]) });
 * bytes.length; // 12
 * ```
 */
export function encodeAdvert(advert: VrrpAdvert, options: EncodeAdvertOptions = {}): Uint8Array {
  checkByte("vrid", advert.vrid);
  checkByte("priority", advert.priority);
  checkByte("address count", advert.addresses.length);
  const alen = advert.family === 4 ? 4 : 16;
  if (advert.version === 2 && advert.family !== 4) {
    throw new RangeError("Cannot encode VRRPv2 message: VRRPv2 is IPv4 only");
  }
  for (const a of advert.addresses) {
    if (a.length !== alen) {
      throw new RangeError(`Cannot encode VRRP address: expected ${alen} bytes, got ${a.length}`);
    }
  }
  const auth = advert.version === 2 ? VRRP_AUTH_LEN : 0;
  const out = new Uint8Array(VRRP_HEADER_LEN + alen * advert.addresses.length + auth);
  out[0] = (advert.version << 4) | 1;
  out[1] = advert.vrid;
  out[2] = advert.priority;
  out[3] = advert.addresses.length;
  if (advert.version === 2) {
    checkByte("auth type", advert.authType);
    checkByte("adver int", advert.adverInt);
    if (advert.authData.length !== VRRP_AUTH_LEN) {
      throw new RangeError(`Cannot encode VRRPv2 auth data: expected 8 bytes`);
    }
    out[4] = advert.authType;
    out[5] = advert.adverInt;
    out.set(advert.authData, out.length - VRRP_AUTH_LEN);
  } else {
    checkByte("max adver int", advert.maxAdverInt, 0xfff);
    out[4] = advert.maxAdverInt >> 8;
    out[5] = advert.maxAdverInt & 0xff;
  }
  advert.addresses.forEach((a, i) => out.set(a, VRRP_HEADER_LEN + i * alen));
  let sum: number;
  if (advert.version === 2) {
    sum = computeChecksum(out);
  } else if (advert.family === 4 && options.v3Ipv4Checksum === "message") {
    sum = computeChecksum(out);
  } else {
    if (!options.src || !options.dst) {
      throw new TypeError("Cannot encode VRRPv3 message: pseudo-header src and dst are required");
    }
    sum = computeChecksum(out, { pseudo: { src: options.src, dst: options.dst } });
  }
  out[6] = sum >> 8;
  out[7] = sum & 0xff;
  return out;
}

/**
 * Reads the VRID of a message without validating anything (for demultiplexing).
 *
 * @param message VRRP message bytes
 * @returns the VRID, or null when the message is shorter than 2 bytes
 * @example
 * ```ts
 * peekVrid(new Uint8Array([0x21, 51])); // 51
 * ```
 */
export function peekVrid(message: Uint8Array): number | null {
  return message.length >= 2 ? message[1] : null;
}

/**
 * Expected message length for a header (by version, family and count), or null for an
 * unknown version.
 *
 * @param message at least the first 4 bytes of a VRRP message
 * @param family the socket's family
 * @returns the length the whole message must have
 * @example
 * ```ts
 * expectedLength(new Uint8Array([0x21, 51, 150, 1]), 4); // 20
 * ```
 */
export function expectedLength(message: Uint8Array, family: Family): number | null {
  const version = message[0] >> 4;
  if (version !== 2 && version !== 3) return null;
  const alen = family === 4 ? 4 : 16;
  return VRRP_HEADER_LEN + message[3] * alen + (version === 2 ? VRRP_AUTH_LEN : 0);
}

/**
 * Verifies a message's checksum and names the form that matched.
 *
 * @param message the whole VRRP message (its length already checked)
 * @param options the family, pseudo-header addresses and v3 IPv4 preferences
 * @returns the matching form, or null when none verifies
 * @example
 * ```ts
 * const msg = new Uint8Array([0x31, 0x33, 0x96, 1, 0, 10, 0x76, 0x5c, 192, 0, 2, 100]);
 * verifyChecksum(msg, {
 *   family: 4, src: new Uint8Array([192, 0, 2, 1]), dst: new Uint8Array([224, 0, 0, 18]),
 * }); // "message"
 * ```
 */
export function verifyChecksum(
  message: Uint8Array,
  options: DecodeAdvertOptions,
): ChecksumKind | null {
  const carried = (message[6] << 8) | message[7];
  const version = message[0] >> 4;
  if (version === 2) return computeChecksum(message) === carried ? "v2" : null;
  const pseudo = { src: options.src, dst: options.dst };
  if (options.family === 6) {
    return computeChecksum(message, { pseudo }) === carried ? "ipv6" : null;
  }
  const order: V3Ipv4Checksum[] = options.v3Ipv4Checksum === "message"
    ? ["message", "pseudo"]
    : ["pseudo", "message"];
  for (const kind of order) {
    const value = kind === "pseudo"
      ? computeChecksum(message, { pseudo })
      : computeChecksum(message);
    if (value === carried) return kind;
  }
  const group = options.legacyGroup;
  if (group && !sameBytes(group, options.dst)) {
    if (computeChecksum(message, { pseudo: { src: options.src, dst: group } }) === carried) {
      return "pseudo-mcast";
    }
  }
  return null;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function hex(n: number): string {
  return "0x" + n.toString(16).padStart(4, "0");
}

/**
 * Decodes a VRRP message (the bytes after the IP header, or after AH). Checks, in order: at least
 * the 8-byte header, version 2 or 3, type 1 (advertisement), v2 only on IPv4, length equal to
 * what the count implies, checksum. Config-dependent checks (TTL, VRID, auth, interval, VIPs)
 * are `validate.ts`'s job. Never throws.
 *
 * @param message the VRRP message bytes
 * @param options family, pseudo-header addresses, v3 IPv4 checksum preference
 * @returns the advert and the checksum form that matched, or a typed reason
 * @example
 * ```ts
 * const r = decodeAdvert(new Uint8Array(3), {
 *   family: 4, src: new Uint8Array(4), dst: new Uint8Array(4),
 * });
 * r.ok; // false ("truncated")
 * ```
 */
export function decodeAdvert(
  message: Uint8Array,
  options: DecodeAdvertOptions,
): DecodeResult<DecodedAdvert> {
  if (message.length < VRRP_HEADER_LEN) {
    return {
      ok: false,
      reason: "truncated",
      detail: `VRRP message is ${message.length} bytes, the header needs ${VRRP_HEADER_LEN}`,
    };
  }
  const version = message[0] >> 4;
  const type = message[0] & 0x0f;
  if (version !== 2 && version !== 3) {
    return { ok: false, reason: "bad-version", detail: `VRRP version ${version} (byte 0)` };
  }
  if (type !== 1) {
    return { ok: false, reason: "bad-type", detail: `VRRP packet type ${type}, expected 1` };
  }
  if (version === 2 && options.family !== 4) {
    return { ok: false, reason: "bad-family", detail: "VRRPv2 message on an IPv6 socket" };
  }
  const expected = expectedLength(message, options.family) as number;
  if (message.length !== expected) {
    return {
      ok: false,
      reason: "bad-length",
      detail: `VRRP message is ${message.length} bytes, count ${message[3]} implies ${expected}`,
    };
  }
  const checksum = verifyChecksum(message, options);
  if (checksum === null) {
    return {
      ok: false,
      reason: "bad-checksum",
      detail: `invalid VRRPv${version} checksum ${hex((message[6] << 8) | message[7])}`,
    };
  }
  const alen = options.family === 4 ? 4 : 16;
  const addresses: Uint8Array[] = [];
  for (let i = 0; i < message[3]; i++) {
    const at = VRRP_HEADER_LEN + i * alen;
    addresses.push(message.slice(at, at + alen));
  }
  const advert: VrrpAdvert = version === 2
    ? {
      version: 2,
      family: 4,
      vrid: message[1],
      priority: message[2],
      adverInt: message[5],
      authType: message[4],
      authData: message.slice(message.length - VRRP_AUTH_LEN),
      addresses,
    }
    : {
      version: 3,
      family: options.family,
      vrid: message[1],
      priority: message[2],
      maxAdverInt: ((message[4] << 8) | message[5]) & 0x0fff,
      addresses,
    };
  return { ok: true, value: { advert, checksum } };
}
