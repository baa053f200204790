/**
 * Pure helpers for addresses as the kernel wants them: IPv4/IPv6 text ↔ bytes, MAC text ↔ bytes,
 * and the `sockaddr_in`, `sockaddr_in6`, `sockaddr_ll` and `sockaddr_nl` layouts (x86_64/aarch64,
 * little endian: family in host order, ports and ethertypes in network order).
 *
 * @module
 */

/** `AF_INET`. */
export const AF_INET = 2;
/** `AF_INET6`. */
export const AF_INET6 = 10;
/** `AF_NETLINK`. */
export const AF_NETLINK = 16;
/** `AF_PACKET`. */
export const AF_PACKET = 17;

/** Parses dotted-quad IPv4 text into 4 bytes; `null` when it is not exactly that. */
export function parseIPv4(text: string): Uint8Array | null {
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

function parseGroups(text: string): number[] | null {
  if (text === "") return [];
  const groups: number[] = [];
  for (const part of text.split(":")) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return null;
    groups.push(parseInt(part, 16));
  }
  return groups;
}

/** Parses IPv6 text (with `::` and an optional trailing dotted quad) into 16 bytes, or `null`. */
export function parseIPv6(text: string): Uint8Array | null {
  let body = text;
  const lastColon = body.lastIndexOf(":");
  if (lastColon >= 0 && body.includes(".", lastColon)) {
    const v4 = parseIPv4(body.slice(lastColon + 1));
    if (!v4) return null;
    const hi = ((v4[0] << 8) | v4[1]).toString(16);
    const lo = ((v4[2] << 8) | v4[3]).toString(16);
    body = `${body.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const halves = body.split("::");
  if (halves.length > 2) return null;
  let groups: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0]);
    const rest = parseGroups(halves[1]);
    if (!head || !rest) return null;
    const fill = 8 - head.length - rest.length;
    if (fill < 1) return null;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else {
    const all = parseGroups(body);
    if (!all || all.length !== 8) return null;
    groups = all;
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** Parses IPv4 or IPv6 text; `null` when it is neither. */
export function parseIP(text: string): { family: 4 | 6; bytes: Uint8Array } | null {
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIPv6(text);
  return v6 ? { family: 6, bytes: v6 } : null;
}

/** Formats 4 or 16 address bytes as text (IPv6 in RFC 5952 form: lower case, longest `::`). */
export function formatIP(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  if (bytes.length !== 16) return `<${bytes.length}-byte address>`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

/** Parses `aa:bb:cc:dd:ee:ff` (or `-` separated) into 6 bytes; `null` otherwise. */
export function parseMac(text: string): Uint8Array | null {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) return null;
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

/** Formats hardware-address bytes as lower-case `aa:bb:…`. */
export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Allocates a zeroed buffer backed by its own (off-heap, non-moving) `ArrayBuffer`. */
export function alloc(size: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(size));
}

/** Encodes a 16-byte `sockaddr_in` for an IPv4 address (4 bytes) and port. */
export function encodeSockaddrIn(addr: Uint8Array, port = 0): Uint8Array {
  const out = alloc(16);
  const view = new DataView(out.buffer);
  view.setUint16(0, AF_INET, true);
  view.setUint16(2, port, false);
  out.set(addr.subarray(0, 4), 4);
  return out;
}

/** Encodes a 28-byte `sockaddr_in6` for an IPv6 address (16 bytes), port and scope id. */
export function encodeSockaddrIn6(
  addr: Uint8Array,
  options: { port?: number; scopeId?: number } = {},
): Uint8Array {
  const out = alloc(28);
  const view = new DataView(out.buffer);
  view.setUint16(0, AF_INET6, true);
  view.setUint16(2, options.port ?? 0, false);
  out.set(addr.subarray(0, 16), 8);
  view.setUint32(24, options.scopeId ?? 0, true);
  return out;
}

/** A decoded `sockaddr_in`/`sockaddr_in6`. */
export interface InetAddress {
  family: 4 | 6;
  /** Address text. */
  address: string;
  port: number;
  /** IPv6 scope id (interface index), 0 for IPv4. */
  scopeId: number;
}

/** Decodes a `sockaddr_in` or `sockaddr_in6` of `length` bytes; `null` for other families. */
export function decodeSockaddr(buf: Uint8Array, length: number): InetAddress | null {
  if (length < 2) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const family = view.getUint16(0, true);
  if (family === AF_INET && length >= 8) {
    return {
      family: 4,
      address: formatIP(buf.slice(4, 8)),
      port: view.getUint16(2, false),
      scopeId: 0,
    };
  }
  if (family === AF_INET6 && length >= 28) {
    return {
      family: 6,
      address: formatIP(buf.slice(8, 24)),
      port: view.getUint16(2, false),
      scopeId: view.getUint32(24, true),
    };
  }
  return null;
}

/** Encodes a 20-byte `sockaddr_ll` (AF_PACKET) for sending `ethertype` frames on `ifindex`. */
export function encodeSockaddrLl(
  ifindex: number,
  ethertype: number,
  dstMac: Uint8Array,
): Uint8Array {
  const out = alloc(20);
  const view = new DataView(out.buffer);
  view.setUint16(0, AF_PACKET, true);
  view.setUint16(2, ethertype, false);
  view.setInt32(4, ifindex, true);
  out[11] = dstMac.length;
  out.set(dstMac.subarray(0, 8), 12);
  return out;
}

/** Encodes a 12-byte `sockaddr_nl` with a port id and multicast group mask. */
export function encodeSockaddrNl(pid = 0, groups = 0): Uint8Array {
  const out = alloc(12);
  const view = new DataView(out.buffer);
  view.setUint16(0, AF_NETLINK, true);
  view.setUint32(4, pid, true);
  view.setUint32(8, groups, true);
  return out;
}
