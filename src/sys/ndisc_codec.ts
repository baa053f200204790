/**
 * Pure builder for unsolicited IPv6 neighbour advertisements as keepalived sends them (vrrp.md
 * §3.7, vector V8): to 33:33:00:00:00:01 / ff02::1 from the VIP, hop limit 255, ICMPv6 type 136
 * with the Override flag (Router only when forwarding), option 2 = the interface MAC.
 *
 * @module
 */
import { parseIPv6, parseMac } from "./sockaddr.ts";

/** The IPv6 ethertype. */
export const ETH_P_IPV6 = 0x86dd;
/** The Ethernet address of ff02::1. */
export const ALL_NODES_MAC: Uint8Array = new Uint8Array([0x33, 0x33, 0, 0, 0, 1]);
/** ff02::1 as bytes. */
export const ALL_NODES: Uint8Array = parseIPv6("ff02::1")!;

/**
 * The ICMPv6 checksum of `icmp` (checksum field zeroed or not, it is skipped) over the IPv6
 * pseudo-header (source, destination, upper-layer length, next header 58).
 */
export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, icmp: Uint8Array): number {
  let sum = sum16(src, -1) + sum16(dst, -1) + (icmp.length >>> 16) + (icmp.length & 0xffff) + 58;
  sum += sum16(icmp, 2);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Sum of big-endian 16-bit words (odd tail padded with 0), skipping the word at `skipAt`. */
function sum16(bytes: Uint8Array, skipAt: number): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    if (i !== skipAt) sum += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  }
  return sum;
}

/** Options for {@linkcode buildUnsolicitedNa}. */
export interface NaOptions {
  /** Set the Router flag (the node forwards IPv6); default false. */
  router?: boolean;
}

/**
 * Builds the 86-byte Ethernet frame of an unsolicited NA for `vip` from `mac` (text or 6 bytes).
 * Returns an error string when an address does not parse.
 */
export function buildUnsolicitedNa(
  mac: string | Uint8Array,
  vip: string,
  options: NaOptions = {},
): { ok: true; frame: Uint8Array } | { ok: false; error: string } {
  const hw = typeof mac === "string" ? parseMac(mac) : mac.byteLength === 6 ? mac : null;
  if (!hw) return { ok: false, error: `MAC "${String(mac)}" is not 6 bytes` };
  const ip = parseIPv6(vip);
  if (!ip) return { ok: false, error: `VIP "${vip}" is not an IPv6 address` };
  const frame = new Uint8Array(new ArrayBuffer(86));
  const view = new DataView(frame.buffer);
  frame.set(ALL_NODES_MAC, 0);
  frame.set(hw, 6);
  view.setUint16(12, ETH_P_IPV6);
  view.setUint32(14, 0x60000000); // version 6, traffic class 0, flow 0
  view.setUint16(18, 32); // payload length
  frame[20] = 58; // next header ICMPv6
  frame[21] = 255; // hop limit
  frame.set(ip, 22);
  frame.set(ALL_NODES, 38);
  const icmp = frame.subarray(54);
  icmp[0] = 136;
  view.setUint32(58, (options.router ? 0x80000000 : 0) | 0x20000000);
  icmp.set(ip, 8);
  icmp[24] = 2; // option: target link-layer address
  icmp[25] = 1; // length in units of 8 bytes
  icmp.set(hw, 26);
  view.setUint16(56, icmpv6Checksum(ip, ALL_NODES, icmp));
  return { ok: true, frame };
}
