/**
 * IP address helpers for the VRRP layer: literal text to network-order bytes and back, and the
 * unsigned bytewise comparison that VRRP uses to break priority ties. Pure, no I/O.
 *
 * @module
 */

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
  return text.includes(":") ? parseIpv6(text) : parseIpv4(text);
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(parts[i])) return null;
    const n = Number(parts[i]);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] === "" ? [] : halves[0].split(":");
  const tail = halves.length === 2 ? (halves[1] === "" ? [] : halves[1].split(":")) : [];
  const words: number[] = [];
  const groups = [...head, ...tail];
  const parsed: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (i === groups.length - 1 && g.includes(".")) {
      const v4 = parseIpv4(g);
      if (!v4) return null;
      parsed.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    parsed.push(parseInt(g, 16));
  }
  const headWords = parsed.slice(0, head.length);
  const tailWords = parsed.slice(head.length);
  if (halves.length === 1) {
    if (parsed.length !== 8) return null;
    words.push(...parsed);
  } else {
    const fill = 8 - parsed.length;
    if (fill < 1) return null;
    words.push(...headWords, ...new Array<number>(fill).fill(0), ...tailWords);
  }
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/**
 * Formats 4 or 16 network-order bytes as an address literal (IPv6 in RFC 5952 form).
 *
 * @param bytes the address
 * @returns the literal, or a hex dump for any other length
 * @example
 * ```ts
 * formatIp(new Uint8Array([192, 0, 2, 1])); // "192.0.2.1"
 * ```
 */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  if (bytes.length !== 16) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i] << 8) | bytes[i + 1]);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(":");
  const left = hex.slice(0, bestStart).join(":");
  const right = hex.slice(bestStart + bestLen).join(":");
  return `${left}::${right}`;
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
