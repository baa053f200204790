/**
 * Pure builder for gratuitous ARP frames exactly as keepalived sends them (vrrp.md §3.7, vector
 * V9): Ethernet broadcast, ARP request, sender = target = VIP, target MAC ff:ff:ff:ff:ff:ff.
 *
 * @module
 */
import { parseIPv4, parseMac } from "./sockaddr.ts";

/** The ARP ethertype. */
export const ETH_P_ARP = 0x0806;
/** The Ethernet broadcast address. */
export const BROADCAST_MAC: Uint8Array = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** Options for {@linkcode buildGratuitousArp}. */
export interface GarpOptions {
  /** ARP operation: `"request"` (default, as keepalived) or `"reply"`. */
  op?: "request" | "reply";
}

/**
 * Builds the 42-byte Ethernet frame of a gratuitous ARP for `vip` from `mac` (text or 6 bytes).
 * Returns an error string when an address does not parse.
 */
export function buildGratuitousArp(
  mac: string | Uint8Array,
  vip: string,
  options: GarpOptions = {},
): { ok: true; frame: Uint8Array } | { ok: false; error: string } {
  const hw = typeof mac === "string" ? parseMac(mac) : mac.byteLength === 6 ? mac : null;
  if (!hw) return { ok: false, error: `MAC "${String(mac)}" is not 6 bytes` };
  const ip = parseIPv4(vip);
  if (!ip) return { ok: false, error: `VIP "${vip}" is not an IPv4 address` };
  const frame = new Uint8Array(new ArrayBuffer(42));
  const view = new DataView(frame.buffer);
  frame.set(BROADCAST_MAC, 0);
  frame.set(hw, 6);
  view.setUint16(12, ETH_P_ARP);
  view.setUint16(14, 1); // htype Ethernet
  view.setUint16(16, 0x0800); // ptype IPv4
  frame[18] = 6;
  frame[19] = 4;
  view.setUint16(20, options.op === "reply" ? 2 : 1);
  frame.set(hw, 22);
  frame.set(ip, 28);
  frame.set(BROADCAST_MAC, 32);
  frame.set(ip, 38);
  return { ok: true, frame };
}
