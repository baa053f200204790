/**
 * Pure rtnetlink codec: builds `RTM_NEWADDR`/`RTM_DELADDR`/dump requests and decodes replies,
 * errors (with the extended-ACK message) and monitor events. No I/O; see `netlink.ts` for sockets.
 *
 * Layouts (little endian, every attribute padded to 4 bytes):
 * `nlmsghdr` (16) len u32 | type u16 | flags u16 | seq u32 | pid u32;
 * `ifaddrmsg` (8) family u8 | prefixlen u8 | flags u8 | scope u8 | index u32;
 * `ifinfomsg` (16) family u8 | pad u8 | type u16 | index i32 | flags u32 | change u32;
 * `rtattr` (4) len u16 | type u16 | data….
 *
 * @module
 */
import { AF_INET, AF_INET6, formatIP, formatMac, parseIP } from "./sockaddr.ts";

/** Netlink and rtnetlink constants used by this project. */
export const NL = {
  NLMSG_NOOP: 1,
  NLMSG_ERROR: 2,
  NLMSG_DONE: 3,
  NLMSG_OVERRUN: 4,
  RTM_NEWLINK: 16,
  RTM_DELLINK: 17,
  RTM_GETLINK: 18,
  RTM_NEWADDR: 20,
  RTM_DELADDR: 21,
  RTM_GETADDR: 22,
  NLM_F_REQUEST: 0x1,
  NLM_F_MULTI: 0x2,
  NLM_F_ACK: 0x4,
  NLM_F_DUMP: 0x300,
  NLM_F_EXCL: 0x200,
  NLM_F_CREATE: 0x400,
  NLM_F_CAPPED: 0x100,
  NLM_F_ACK_TLVS: 0x200,
  NLMSGERR_ATTR_MSG: 1,
  IFA_ADDRESS: 1,
  IFA_LOCAL: 2,
  IFA_LABEL: 3,
  IFA_BROADCAST: 4,
  IFA_CACHEINFO: 6,
  IFA_FLAGS: 8,
  IFA_F_NODAD: 0x02,
  IFA_F_DEPRECATED: 0x20,
  IFA_F_TENTATIVE: 0x40,
  IFA_F_PERMANENT: 0x80,
  IFLA_ADDRESS: 1,
  IFLA_IFNAME: 3,
  IFLA_MTU: 4,
  IFLA_OPERSTATE: 16,
  IFF_UP: 0x1,
  IFF_RUNNING: 0x40,
  IFF_LOWER_UP: 0x10000,
  RTMGRP_LINK: 0x1,
  RTMGRP_IPV4_IFADDR: 0x10,
  RTMGRP_IPV6_IFADDR: 0x100,
  INFINITY_LIFE_TIME: 0xffffffff,
} as const;

/** A decoder outcome: a value, or an error saying what is wrong and where. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

/** One netlink message: header fields and the payload after the 16-byte header. */
export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Uint8Array;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** Encodes one rtattr (header + data, padded to 4 bytes). */
export function encodeAttr(type: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(align4(4 + data.byteLength));
  const view = new DataView(out.buffer);
  view.setUint16(0, 4 + data.byteLength, true);
  view.setUint16(2, type, true);
  out.set(data, 4);
  return out;
}

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, true);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(parts.reduce((n, p) => n + p.byteLength, 0)));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Encodes a complete netlink message: header, then the body parts (each already 4-aligned). */
export function encodeMessage(
  header: { type: number; flags: number; seq: number },
  ...body: Uint8Array[]
): Uint8Array {
  const out = concat([new Uint8Array(16), ...body]);
  const view = new DataView(out.buffer);
  view.setUint32(0, out.byteLength, true);
  view.setUint16(4, header.type, true);
  view.setUint16(6, header.flags, true);
  view.setUint32(8, header.seq >>> 0, true);
  return out;
}

/** Splits a received datagram into netlink messages, checking every length. */
export function decodeMessages(buf: Uint8Array): Decoded<NlMessage[]> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: NlMessage[] = [];
  let at = 0;
  while (at + 16 <= buf.byteLength) {
    const len = view.getUint32(at, true);
    if (len < 16 || at + len > buf.byteLength) {
      return { ok: false, error: `netlink message at offset ${at}: bad length ${len}` };
    }
    out.push({
      type: view.getUint16(at + 4, true),
      flags: view.getUint16(at + 6, true),
      seq: view.getUint32(at + 8, true),
      pid: view.getUint32(at + 12, true),
      payload: buf.subarray(at + 16, at + len),
    });
    at += align4(len);
  }
  if (at < buf.byteLength && buf.byteLength - at >= 4) {
    return { ok: false, error: `netlink datagram: ${buf.byteLength - at} trailing bytes at ${at}` };
  }
  return { ok: true, value: out };
}

/** Decodes rtattrs from `buf` starting at `offset` into a map type → data (later ones win). */
export function decodeAttrs(buf: Uint8Array, offset: number): Decoded<Map<number, Uint8Array>> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const attrs = new Map<number, Uint8Array>();
  let at = offset;
  while (at + 4 <= buf.byteLength) {
    const len = view.getUint16(at, true);
    if (len < 4 || at + len > buf.byteLength) {
      return { ok: false, error: `rtattr at offset ${at}: bad length ${len}` };
    }
    attrs.set(view.getUint16(at + 2, true) & 0x3fff, buf.subarray(at + 4, at + len));
    at += align4(len);
  }
  return { ok: true, value: attrs };
}

function cstr(data: Uint8Array): string {
  const end = data.indexOf(0);
  return new TextDecoder().decode(end >= 0 ? data.subarray(0, end) : data);
}

/** A decoded `NLMSG_ERROR`: errno 0 is an ACK; `message` is the extended-ACK text if any. */
export interface NlError {
  errno: number;
  /** Sequence number of the request this answers. */
  seq: number;
  message?: string;
}

/** Decodes an `NLMSG_ERROR` message (ACK or error, with extended-ACK TLVs). */
export function decodeError(msg: NlMessage): Decoded<NlError> {
  const p = msg.payload;
  if (p.byteLength < 20) return { ok: false, error: `NLMSG_ERROR: ${p.byteLength}-byte payload` };
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const errno = 0 - view.getInt32(0, true); // not unary minus: -0 would be an ACK too
  const origLen = view.getUint32(4, true);
  const result: NlError = { errno, seq: view.getUint32(12, true) };
  if (!(msg.flags & NL.NLM_F_ACK_TLVS)) return { ok: true, value: result };
  const tlvAt = 4 + (msg.flags & NL.NLM_F_CAPPED ? 16 : align4(origLen));
  if (tlvAt > p.byteLength) return { ok: false, error: `NLMSG_ERROR: TLVs at ${tlvAt} past end` };
  const attrs = decodeAttrs(p, tlvAt);
  if (!attrs.ok) return { ok: false, error: `NLMSG_ERROR: ${attrs.error}` };
  const text = attrs.value.get(NL.NLMSGERR_ATTR_MSG);
  if (text) result.message = cstr(text);
  return { ok: true, value: result };
}

/** What to add or delete: an address with prefix on an interface. */
export interface AddressSpec {
  /** Interface index. */
  ifindex: number;
  /** Address text (IPv4 or IPv6). */
  address: string;
  /** Prefix length (0–32 / 0–128). */
  prefixLen: number;
  /** IPv4 label (`IFA_LABEL`), e.g. `eth0:vip`; at most 15 bytes. */
  label?: string;
  /** IPv4 broadcast address (`IFA_BROADCAST`). */
  broadcast?: string;
  /** `ifa_scope` (0 universe, 253 link, 254 host); the kernel derives it itself for IPv6. */
  scope?: number;
  /** IPv6: mark deprecated (preferred lifetime 0) so it is never picked as a source; default: /128. */
  deprecated?: boolean;
}

/** Encodes `RTM_NEWADDR` (add, `CREATE|EXCL`) or `RTM_DELADDR` for `spec`, or says why not. */
export function encodeAddressRequest(
  action: "add" | "delete",
  spec: AddressSpec,
  seq: number,
): Decoded<Uint8Array> {
  const ip = parseIP(spec.address);
  if (!ip) return { ok: false, error: `address "${spec.address}" is not an IP address` };
  const max = ip.family === 4 ? 32 : 128;
  if (!Number.isInteger(spec.prefixLen) || spec.prefixLen < 0 || spec.prefixLen > max) {
    return { ok: false, error: `prefix length ${spec.prefixLen} out of range 0–${max}` };
  }
  const body = new Uint8Array(8);
  body[0] = ip.family === 4 ? AF_INET : AF_INET6;
  body[1] = spec.prefixLen;
  body[3] = spec.scope ?? 0;
  new DataView(body.buffer).setUint32(4, spec.ifindex, true);
  const attrs = [encodeAttr(NL.IFA_LOCAL, ip.bytes), encodeAttr(NL.IFA_ADDRESS, ip.bytes)];
  if (action === "add") {
    if (spec.label !== undefined) {
      const label = new TextEncoder().encode(spec.label);
      if (ip.family !== 4) return { ok: false, error: "IFA_LABEL is IPv4 only" };
      if (label.byteLength > 15) return { ok: false, error: `label "${spec.label}" over 15 bytes` };
      attrs.push(encodeAttr(NL.IFA_LABEL, concat([label, new Uint8Array(1)])));
    }
    if (spec.broadcast !== undefined) {
      const brd = parseIP(spec.broadcast);
      if (!brd || brd.family !== 4 || ip.family !== 4) {
        return {
          ok: false,
          error: `broadcast "${spec.broadcast}" is not an IPv4 address for IPv4`,
        };
      }
      attrs.push(encodeAttr(NL.IFA_BROADCAST, brd.bytes));
    }
    if (ip.family === 6) {
      attrs.push(encodeAttr(NL.IFA_FLAGS, u32(NL.IFA_F_NODAD)));
      if (spec.deprecated ?? spec.prefixLen === 128) {
        attrs.push(
          encodeAttr(
            NL.IFA_CACHEINFO,
            concat([u32(0), u32(NL.INFINITY_LIFE_TIME), u32(0), u32(0)]),
          ),
        );
      }
    }
  }
  const type = action === "add" ? NL.RTM_NEWADDR : NL.RTM_DELADDR;
  const flags = NL.NLM_F_REQUEST | NL.NLM_F_ACK |
    (action === "add" ? NL.NLM_F_CREATE | NL.NLM_F_EXCL : 0);
  return { ok: true, value: encodeMessage({ type, flags, seq }, body, ...attrs) };
}

/** Encodes an `RTM_GETADDR` dump request (family 0 = all). */
export function encodeAddressDump(seq: number, family: 0 | 4 | 6 = 0): Uint8Array {
  const body = new Uint8Array(8);
  body[0] = family === 4 ? AF_INET : family === 6 ? AF_INET6 : 0;
  return encodeMessage(
    { type: NL.RTM_GETADDR, flags: NL.NLM_F_REQUEST | NL.NLM_F_DUMP, seq },
    body,
  );
}

/** Encodes an `RTM_GETLINK` dump request. */
export function encodeLinkDump(seq: number): Uint8Array {
  return encodeMessage(
    { type: NL.RTM_GETLINK, flags: NL.NLM_F_REQUEST | NL.NLM_F_DUMP, seq },
    new Uint8Array(16),
  );
}

/** An interface address as reported by the kernel. */
export interface AddressInfo {
  family: 4 | 6;
  ifindex: number;
  /** The local address (`IFA_LOCAL`, else `IFA_ADDRESS`). */
  address: string;
  prefixLen: number;
  scope: number;
  /** `IFA_FLAGS` when present (32-bit), else the 8-bit header flags. */
  flags: number;
  label?: string;
  broadcast?: string;
  /** Preferred lifetime in seconds (`0xffffffff` = forever), from `IFA_CACHEINFO`. */
  preferredLft?: number;
  /** Valid lifetime in seconds, from `IFA_CACHEINFO`. */
  validLft?: number;
}

/** Decodes the payload of an `RTM_NEWADDR`/`RTM_DELADDR` message. */
export function decodeAddress(msg: NlMessage): Decoded<AddressInfo> {
  const p = msg.payload;
  if (p.byteLength < 8) return { ok: false, error: `ifaddrmsg: ${p.byteLength}-byte payload` };
  const family = p[0] === AF_INET ? 4 : p[0] === AF_INET6 ? 6 : null;
  if (family === null) return { ok: false, error: `ifaddrmsg: unknown family ${p[0]}` };
  const attrs = decodeAttrs(p, 8);
  if (!attrs.ok) return { ok: false, error: `ifaddrmsg: ${attrs.error}` };
  const a = attrs.value;
  const size = family === 4 ? 4 : 16;
  const raw = a.get(NL.IFA_LOCAL) ?? a.get(NL.IFA_ADDRESS);
  if (!raw || raw.byteLength !== size) {
    return { ok: false, error: "ifaddrmsg: no usable address attribute" };
  }
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const info: AddressInfo = {
    family,
    ifindex: view.getUint32(4, true),
    address: formatIP(raw),
    prefixLen: p[1],
    scope: p[3],
    flags: p[2],
  };
  const flags = a.get(NL.IFA_FLAGS);
  if (flags?.byteLength === 4) {
    info.flags = new DataView(flags.buffer, flags.byteOffset).getUint32(0, true);
  }
  const label = a.get(NL.IFA_LABEL);
  if (label) info.label = cstr(label);
  const brd = a.get(NL.IFA_BROADCAST);
  if (brd?.byteLength === 4) info.broadcast = formatIP(brd);
  const ci = a.get(NL.IFA_CACHEINFO);
  if (ci && ci.byteLength >= 8) {
    const cv = new DataView(ci.buffer, ci.byteOffset, ci.byteLength);
    info.preferredLft = cv.getUint32(0, true);
    info.validLft = cv.getUint32(4, true);
  }
  return { ok: true, value: info };
}

/** A network interface as reported by the kernel. */
export interface LinkInfo {
  ifindex: number;
  name: string;
  /** `IFF_*` flags. */
  flags: number;
  /** Administratively up (`IFF_UP`). */
  up: boolean;
  /** Carrier present (`IFF_LOWER_UP`). */
  lowerUp: boolean;
  /** Hardware address text, when the link has one. */
  mac?: string;
  mtu?: number;
  /** RFC 2863 operational state (`IF_OPER_*`: 2 down, 6 up). */
  operState?: number;
}

/** Decodes the payload of an `RTM_NEWLINK`/`RTM_DELLINK` message. */
export function decodeLink(msg: NlMessage): Decoded<LinkInfo> {
  const p = msg.payload;
  if (p.byteLength < 16) return { ok: false, error: `ifinfomsg: ${p.byteLength}-byte payload` };
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const attrs = decodeAttrs(p, 16);
  if (!attrs.ok) return { ok: false, error: `ifinfomsg: ${attrs.error}` };
  const a = attrs.value;
  const name = a.get(NL.IFLA_IFNAME);
  if (!name) return { ok: false, error: "ifinfomsg: no IFLA_IFNAME" };
  const flags = view.getUint32(8, true);
  const info: LinkInfo = {
    ifindex: view.getInt32(4, true),
    name: cstr(name),
    flags,
    up: (flags & NL.IFF_UP) !== 0,
    lowerUp: (flags & NL.IFF_LOWER_UP) !== 0,
  };
  const mac = a.get(NL.IFLA_ADDRESS);
  if (mac && mac.byteLength > 0) info.mac = formatMac(mac);
  const mtu = a.get(NL.IFLA_MTU);
  if (mtu?.byteLength === 4) info.mtu = new DataView(mtu.buffer, mtu.byteOffset).getUint32(0, true);
  const oper = a.get(NL.IFLA_OPERSTATE);
  if (oper?.byteLength === 1) info.operState = oper[0];
  return { ok: true, value: info };
}

/** A change reported on the monitor socket. */
export type NetlinkEvent =
  | { kind: "link"; action: "new" | "del"; link: LinkInfo }
  | { kind: "address"; action: "new" | "del"; address: AddressInfo }
  /** Events were lost (`ENOBUFS`): resynchronise with a dump. */
  | { kind: "overrun" };

/** Turns one monitor message into an event; `null` for message types that are not events. */
export function decodeEvent(msg: NlMessage): Decoded<NetlinkEvent | null> {
  switch (msg.type) {
    case NL.RTM_NEWLINK:
    case NL.RTM_DELLINK: {
      const link = decodeLink(msg);
      if (!link.ok) return link;
      const action = msg.type === NL.RTM_NEWLINK ? "new" : "del";
      return { ok: true, value: { kind: "link", action, link: link.value } };
    }
    case NL.RTM_NEWADDR:
    case NL.RTM_DELADDR: {
      const address = decodeAddress(msg);
      if (!address.ok) return address;
      const action = msg.type === NL.RTM_NEWADDR ? "new" : "del";
      return { ok: true, value: { kind: "address", action, address: address.value } };
    }
    case NL.NLMSG_OVERRUN:
      return { ok: true, value: { kind: "overrun" } };
    default:
      return { ok: true, value: null };
  }
}
