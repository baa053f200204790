/**
 * IPv4 datagrams carrying VRRP, as keepalived sends them with IP_HDRINCL: a 20-byte IPv4 header
 * (TOS 0xC0, TTL 255, DF clear, ID counting up, protocol 112, or 51 with AH), then for VRRPv2
 * `auth_type AH` keepalived's IPsec AH header (next header 112, payload length 4, SPI = source
 * address, 32-bit sequence number, 12-byte HMAC-MD5-96 ICV), then the VRRP message.
 *
 * The AH ICV is HMAC-MD5 keyed with the 8-byte zero-padded password over the IP header with TOS,
 * flags/fragment offset and header checksum zeroed (TTL kept for multicast, zeroed in unicast
 * mode), the AH header with the ICV zeroed, and the VRRP message; the first 12 bytes are kept.
 *
 * Pure: no I/O (HMAC from `node:crypto`).
 *
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import {
  encodeAdvert,
  finishChecksum,
  IPPROTO_VRRP,
  sumWords,
  type V3Ipv4Checksum,
  type VrrpAdvert,
} from "./codec.ts";
import type { DecodeResult } from "./codec.ts";

/** IP protocol number of IPsec AH. */
export const IPPROTO_AH = 51;
/** Size of keepalived's AH header (12 fixed bytes + 12-byte ICV). */
export const AH_LEN = 24;
/** Size of the IPv4 header that keepalived sends (no options). */
export const IPV4_HEADER_LEN = 20;

/** A parsed IPv4 header. Addresses are network-order bytes. */
export interface Ipv4Header {
  /** Header length in bytes (IHL × 4). */
  readonly headerLength: number;
  readonly tos: number;
  readonly totalLength: number;
  readonly id: number;
  /** Flags and fragment offset, the raw 16 bits. */
  readonly fragment: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly checksum: number;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
}

/** keepalived's AH header. */
export interface AhHeader {
  readonly nextHeader: number;
  /** AH length in 32-bit words minus 2 (4 for keepalived's 24-byte header). */
  readonly payloadLength: number;
  /** Security parameters index: keepalived puts the sender's IPv4 address here. */
  readonly spi: number;
  readonly seq: number;
  /** The 12-byte integrity check value. */
  readonly icv: Uint8Array;
}

/** A received IPv4 datagram split into its layers. */
export interface Ipv4Packet {
  readonly ip: Ipv4Header;
  /** Present when the protocol is 51. */
  readonly ah: AhHeader | null;
  /** The VRRP message: everything after the IP header (and AH) up to the end of the buffer. */
  readonly message: Uint8Array;
}

/** Why an IPv4 datagram could not be split. */
export type Ipv4DecodeReason = "truncated" | "not-ipv4" | "bad-ip-checksum" | "bad-protocol";

/** AH parameters for {@linkcode encodeIpv4Packet}. */
export interface AhOptions {
  /** The 8-byte key, see `authKey()` in codec.ts. */
  readonly key: Uint8Array;
  /** Sequence number for this packet (keepalived starts at 1 and adds 1 per advert). */
  readonly seq: number;
  /** Unicast mode: the TTL is zeroed in the ICV input too (keepalived). */
  readonly unicast?: boolean;
}

/** Options for {@linkcode encodeIpv4Packet}. */
export interface EncodeIpv4Options {
  /** Source address: the instance's primary address. */
  readonly src: Uint8Array;
  /** Destination: 224.0.0.18 (or the configured group) or a unicast peer. */
  readonly dst: Uint8Array;
  /** IP identification, 1..65535 (keepalived counts 1, 2, 3… and skips 0). */
  readonly id: number;
  /** Default 255. */
  readonly ttl?: number;
  /** Default 0xC0 (internetwork control). */
  readonly tos?: number;
  /** v3 only; default "pseudo". */
  readonly v3Ipv4Checksum?: V3Ipv4Checksum;
  /** v2 AH authentication; the advert's authType should then be 2. */
  readonly ah?: AhOptions;
}

function writeU16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

function readU16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
}

/**
 * Computes keepalived's AH ICV for a whole IPv4 datagram (IP header + AH + VRRP).
 *
 * @param packet the datagram; its ICV bytes are ignored (taken as zero)
 * @param options the key and whether the instance is in unicast mode
 * @returns the 12-byte ICV
 * @example
 * ```ts
 * import { authKey } from "./codec.ts";
 * const key = authKey("secret12");
 * const pkt = encodeIpv4Packet({
 *   version: 2, family: 4, vrid: 51, priority: 150, adverInt: 1, authType: 2,
 *   authData: new Uint8Array(8), addresses: [new Uint8Array([192, 0, 2, 100])],
 * }, { src: new Uint8Array([192, 0, 2, 1]), dst: new Uint8Array([224, 0, 0, 18]), id: 1, ah: { key, seq: 1 } });
 * computeAhIcv(pkt, { key }); // 35 79 13 b0 5e 26 6b c7 cf fd f4 b5 (keepalived capture V6)
 * ```
 */
export function computeAhIcv(
  packet: Uint8Array,
  options: { readonly key: Uint8Array; readonly unicast?: boolean },
): Uint8Array {
  const hl = (packet[0] & 0x0f) * 4;
  const data = packet.slice();
  data[1] = 0;
  data[6] = 0;
  data[7] = 0;
  data[10] = 0;
  data[11] = 0;
  if (options.unicast) data[8] = 0;
  data.fill(0, hl + 12, hl + AH_LEN);
  const mac = createHmac("md5", options.key).update(data).digest();
  return new Uint8Array(mac.buffer, mac.byteOffset, 12).slice();
}

/**
 * Verifies the AH ICV of a received datagram in constant time.
 *
 * @param packet the whole datagram as received (IP header first)
 * @param options the key and unicast mode
 * @returns true when the ICV matches
 * @example
 * ```ts
 * import { authKey } from "./codec.ts";
 * const key = authKey("secret12");
 * const pkt = encodeIpv4Packet({
 *   version: 2, family: 4, vrid: 51, priority: 150, adverInt: 1, authType: 2,
 *   authData: new Uint8Array(8), addresses: [new Uint8Array([192, 0, 2, 100])],
 * }, { src: new Uint8Array([192, 0, 2, 1]), dst: new Uint8Array([224, 0, 0, 18]), id: 1, ah: { key, seq: 1 } });
 * verifyAhIcv(pkt, { key }); // true
 * ```
 */
export function verifyAhIcv(
  packet: Uint8Array,
  options: { readonly key: Uint8Array; readonly unicast?: boolean },
): boolean {
  const hl = (packet[0] & 0x0f) * 4;
  if (packet.length < hl + AH_LEN) return false;
  const want = computeAhIcv(packet, options);
  return timingSafeEqual(want, packet.subarray(hl + 12, hl + AH_LEN));
}

/**
 * Builds a complete IPv4 datagram: header (valid checksum), optional AH, VRRP message.
 *
 * @param advert the VRRP message (v2 or v3 IPv4)
 * @param options addresses, IP id, TTL/TOS, checksum form, AH
 * @returns the datagram bytes, ready for a raw IP_HDRINCL socket
 * @example
 * ```ts
 * const pkt = encodeIpv4Packet({
 *   version: 3, family: 4, vrid: 51, priority: 150, maxAdverInt: 100,
 *   addresses: [new Uint8Array([192, 0, 2, 100])],
 * }, { src: new Uint8Array([192, 0, 2, 1]), dst: new Uint8Array([224, 0, 0, 18]), id: 1 });
 * pkt.length; // 32
 * ```
 */
export function encodeIpv4Packet(advert: VrrpAdvert, options: EncodeIpv4Options): Uint8Array {
  if (advert.family !== 4) throw new RangeError("Cannot encode IPv4 packet: the advert is IPv6");
  if (!Number.isInteger(options.id) || options.id < 0 || options.id > 0xffff) {
    throw new RangeError(`Cannot encode IPv4 packet: id ${options.id} is not in 0..65535`);
  }
  const message = encodeAdvert(advert, {
    src: options.src,
    dst: options.dst,
    v3Ipv4Checksum: options.v3Ipv4Checksum,
  });
  const ahLen = options.ah ? AH_LEN : 0;
  const out = new Uint8Array(IPV4_HEADER_LEN + ahLen + message.length);
  out[0] = 0x45;
  out[1] = options.tos ?? 0xc0;
  writeU16(out, 2, out.length);
  writeU16(out, 4, options.id);
  out[8] = options.ttl ?? 255;
  out[9] = options.ah ? IPPROTO_AH : IPPROTO_VRRP;
  out.set(options.src, 12);
  out.set(options.dst, 16);
  out.set(message, IPV4_HEADER_LEN + ahLen);
  if (options.ah) {
    const at = IPV4_HEADER_LEN;
    out[at] = IPPROTO_VRRP;
    out[at + 1] = 4;
    out.set(options.src, at + 4);
    const seq = options.ah.seq >>> 0;
    writeU16(out, at + 8, seq >>> 16);
    writeU16(out, at + 10, seq & 0xffff);
    out.set(computeAhIcv(out, options.ah), at + 12);
  }
  writeU16(out, 10, finishChecksum(sumWords(out.subarray(0, IPV4_HEADER_LEN), 0)));
  return out;
}

/**
 * Splits a received IPv4 datagram (raw socket receive gives the IP header) into header, AH and
 * VRRP message. Checks: at least a full header, version 4, a valid header checksum, protocol 112
 * or 51, a complete AH header. The IP total length is reported, not enforced (validation
 * compares it with the received length in keepalived's order). Never throws.
 *
 * @param bytes the datagram
 * @returns the layers, or a typed reason
 * @example
 * ```ts
 * decodeIpv4Packet(new Uint8Array(5)).ok; // false
 * ```
 */
export function decodeIpv4Packet(
  bytes: Uint8Array,
): DecodeResult<Ipv4Packet, Ipv4DecodeReason> {
  if (bytes.length < IPV4_HEADER_LEN) {
    return { ok: false, reason: "truncated", detail: `IPv4 datagram is ${bytes.length} bytes` };
  }
  if (bytes[0] >> 4 !== 4) {
    return { ok: false, reason: "not-ipv4", detail: `IP version ${bytes[0] >> 4}` };
  }
  const hl = (bytes[0] & 0x0f) * 4;
  if (hl < IPV4_HEADER_LEN || bytes.length < hl) {
    return {
      ok: false,
      reason: "truncated",
      detail: `IPv4 header length ${hl} with ${bytes.length} bytes received`,
    };
  }
  if (finishChecksum(sumWords(bytes.subarray(0, hl), 0)) !== 0) {
    return { ok: false, reason: "bad-ip-checksum", detail: "invalid IPv4 header checksum" };
  }
  const ip: Ipv4Header = {
    headerLength: hl,
    tos: bytes[1],
    totalLength: readU16(bytes, 2),
    id: readU16(bytes, 4),
    fragment: readU16(bytes, 6),
    ttl: bytes[8],
    protocol: bytes[9],
    checksum: readU16(bytes, 10),
    src: bytes.slice(12, 16),
    dst: bytes.slice(16, 20),
  };
  if (ip.protocol === IPPROTO_VRRP) {
    return { ok: true, value: { ip, ah: null, message: bytes.slice(hl) } };
  }
  if (ip.protocol !== IPPROTO_AH) {
    return { ok: false, reason: "bad-protocol", detail: `IP protocol ${ip.protocol}` };
  }
  if (bytes.length < hl + AH_LEN) {
    return {
      ok: false,
      reason: "truncated",
      detail: `AH header needs ${AH_LEN} bytes, ${bytes.length - hl} received`,
    };
  }
  const ah: AhHeader = {
    nextHeader: bytes[hl],
    payloadLength: bytes[hl + 1],
    spi: readU32(bytes, hl + 4),
    seq: readU32(bytes, hl + 8),
    icv: bytes.slice(hl + 12, hl + AH_LEN),
  };
  return { ok: true, value: { ip, ah, message: bytes.slice(hl + AH_LEN) } };
}
