/**
 * IP address helpers for the VRRP layer: literal text to network-order bytes and back, and the
 * unsigned bytewise comparison that VRRP uses to break priority ties. Pure, no I/O.
 *
 * @module
 */
import { formatIP, parseIP } from "../sys/sockaddr.ts";

/**
 * Parses an IPv4 or IPv6 literal (no prefix, no zone) into network-order bytes.
 *
 * @param text e.g. "192.0.2.1" or "fe80::1"
 * @returns 4 or 16 bytes, or null when the text is not an address literal
 * @example
 * ```ts
 * parseIp("192.0.2.1"); // Uint8Array [192, 0, 2, 1]
 * ```
 */
export function parseIp(text: string): Uint8Array | null {
  return parseIP(text)?.bytes ?? null;
}

/**
 * Formats 4 or 16 network-order bytes as an address literal (IPv6 in RFC 5952 form).
 *
 * @param bytes the address
 * @returns the literal, or `<N-byte address>` for any other length
 * @example
 * ```ts
 * formatIp(new Uint8Array([192, 0, 2, 1])); // "192.0.2.1"
 * ```
 */
export function formatIp(bytes: Uint8Array): string {
  return formatIP(bytes);
}

/**
 * Compares two addresses as unsigned big-endian integers (bytewise), as keepalived and FRR do for
 * the equal-priority tie-break.
 *
 * @param a first address
 * @param b second address (same length as `a`)
 * @returns negative when a < b, 0 when equal, positive when a > b
 * @example
 * ```ts
 * compareIp(new Uint8Array([192, 0, 2, 3]), new Uint8Array([192, 0, 2, 1])) > 0; // true
 * ```
 */
export function compareIp(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/**
 * Tells whether an address is multicast (224.0.0.0/4 or ff00::/8).
 *
 * @param bytes 4 or 16 bytes
 * @returns true for a multicast address
 * @example
 * ```ts
 * isMulticast(new Uint8Array([224, 0, 0, 18])); // true
 * ```
 */
export function isMulticast(bytes: Uint8Array): boolean {
  if (bytes.length === 4) return (bytes[0] & 0xf0) === 0xe0;
  return bytes.length === 16 && bytes[0] === 0xff;
}
