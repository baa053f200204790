/**
 * Raw IP sockets for VRRP (protocol 112, or 51 for AH) over libc FFI, set up as keepalived does:
 * IPv4 with `IP_HDRINCL` (the caller builds the IP header; received datagrams carry it), IPv6 with
 * the kernel computing the checksum (`IPV6_CHECKSUM` 6) and hop limit / destination delivered as
 * ancillary data. Multicast (224.0.0.18 / ff02::12, TTL 255, no loopback) or unicast to peers.
 *
 * Sockets are nonblocking: register `fd` with the poller and call `tryRecv()` until it returns null.
 *
 * @module
 */
import {
  addressOf,
  bindToDevice,
  closeFd,
  ifNameToIndex,
  MSG_TRUNC,
  openSocket,
  recvFrom,
  recvMsg,
  sendMsg,
  sendTo,
  setSockOpt,
  setSockOptInt,
  SO_RCVBUF,
  SOCK_RAW,
  SOL_SOCKET,
} from "./libc.ts";
import {
  AF_INET,
  AF_INET6,
  alloc,
  decodeSockaddr,
  encodeSockaddrIn,
  encodeSockaddrIn6,
  formatIP,
  parseIP,
} from "./sockaddr.ts";
import { SysError } from "./errors.ts";

/** IP protocol number of VRRP. */
export const IPPROTO_VRRP = 112;
/** IP protocol number of AH (VRRPv2 AH authentication). */
export const IPPROTO_AH = 51;
/** The IPv4 VRRP multicast group. */
export const VRRP_GROUP_V4 = "224.0.0.18";
/** The IPv6 VRRP multicast group. */
export const VRRP_GROUP_V6 = "ff02::12";

const IPPROTO_IP = 0;
const IP_TOS = 1;
const IP_TTL = 2;
const IP_HDRINCL = 3;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;
const IP_MULTICAST_ALL = 49;
const IPPROTO_IPV6 = 41;
const IPV6_CHECKSUM = 7;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_MULTICAST_LOOP = 19;
const IPV6_JOIN_GROUP = 20;
const IPV6_MULTICAST_ALL = 29;
const IPV6_RECVPKTINFO = 49;
const IPV6_PKTINFO = 50;
const IPV6_RECVHOPLIMIT = 51;
const IPV6_HOPLIMIT = 52;
const RECV_SIZE = 8192;
const CONTROL_SIZE = 128;

/** Options for {@linkcode openVrrpSocket}. */
export interface VrrpSocketOptions {
  /** 4 or 6. */
  family: 4 | 6;
  /** IP protocol: 112 (default) or 51 (AH, IPv4 only). */
  protocol?: 112 | 51;
  /** Multicast group to join (default 224.0.0.18 / ff02::12); `null` for unicast only. */
  group?: string | null;
  /** IPv4: the caller supplies the IP header on send (`IP_HDRINCL`); default true. */
  hdrIncl?: boolean;
  /** IPv6: source address put in `IPV6_PKTINFO` on every send (e.g. the link-local address). */
  source?: string;
}

/** One received datagram. */
export interface RawPacket {
  /** The IP payload (the VRRP or AH header onwards). */
  data: Uint8Array;
  /** Source address text. */
  from: string;
  /** TTL (IPv4, from the header) or hop limit (IPv6, from `IPV6_HOPLIMIT`). */
  hopLimit?: number;
  /** Destination address (IPv4 header, or IPv6 `IPV6_PKTINFO`). */
  dst?: string;
  /** IPv4 only: the IP header as received (needed for AH). */
  ipHeader?: Uint8Array;
}

/** A raw VRRP socket bound to one interface. Create with {@linkcode openVrrpSocket}. */
export class RawSocket {
  /** The nonblocking fd, for the poller. */
  readonly fd: number;
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** Interface index the socket is bound to. */
  readonly ifindex: number;
  readonly #source: Uint8Array | null;
  readonly #buf = alloc(RECV_SIZE);
  readonly #name = alloc(28);
  readonly #iov = alloc(16);
  readonly #control = alloc(CONTROL_SIZE);
  readonly #msghdr = alloc(56);
  #closed = false;

  /** Wraps a configured fd (use {@linkcode openVrrpSocket}). */
  constructor(fd: number, family: 4 | 6, ifindex: number, source: Uint8Array | null) {
    this.fd = fd;
    this.family = family;
    this.ifindex = ifindex;
    this.#source = source;
  }

  /**
   * Sends one datagram to `dest` (a group or a unicast peer). IPv4 with `hdrIncl`: `bytes` starts
   * with the IP header. Returns false when the socket buffer is full (dropped); throws `SysError`.
   */
  send(bytes: Uint8Array, dest: string): boolean {
    const ip = parseIP(dest);
    if (!ip || ip.family !== this.family) {
      throw new SysError("send", 22, { detail: `destination "${dest}" is not IPv${this.family}` });
    }
    if (this.family === 4) return sendTo(this.fd, bytes, encodeSockaddrIn(ip.bytes)) !== null;
    const name = encodeSockaddrIn6(ip.bytes, { scopeId: this.ifindex });
    const data = alloc(bytes.byteLength);
    data.set(bytes);
    const iov = alloc(16);
    const iovView = new DataView(iov.buffer);
    iovView.setBigUint64(0, addressOf(data), true);
    iovView.setBigUint64(8, BigInt(data.byteLength), true);
    const msg = alloc(56);
    const view = new DataView(msg.buffer);
    view.setBigUint64(0, addressOf(name), true);
    view.setUint32(8, name.byteLength, true);
    view.setBigUint64(16, addressOf(iov), true);
    view.setBigUint64(24, 1n, true);
    let control: Uint8Array | null = null;
    if (this.#source) {
      control = alloc(40);
      const cv = new DataView(control.buffer);
      cv.setBigUint64(0, 36n, true);
      cv.setInt32(8, IPPROTO_IPV6, true);
      cv.setInt32(12, IPV6_PKTINFO, true);
      control.set(this.#source, 16);
      cv.setUint32(32, this.ifindex, true);
      view.setBigUint64(32, addressOf(control), true);
      view.setBigUint64(40, 40n, true);
    }
    const sent = sendMsg(this.fd, msg);
    // Keep the buffers referenced by pointer alive until after the call.
    void [name, data, iov, control];
    return sent !== null;
  }

  /** Reads one datagram, or `null` when none is queued. Oversized (truncated) ones are skipped. */
  tryRecv(): RawPacket | null {
    for (;;) {
      const packet = this.family === 4 ? this.#recv4() : this.#recv6();
      if (packet !== "skip") return packet;
    }
  }

  #recv4(): RawPacket | null | "skip" {
    const got = recvFrom(this.fd, this.#buf, this.#name, MSG_TRUNC);
    if (got === null) return null;
    if (got.length > RECV_SIZE || got.length < 20) return "skip";
    const b = this.#buf;
    const ihl = (b[0] & 0x0f) * 4;
    const total = Math.min(got.length, (b[2] << 8) | b[3]);
    if (b[0] >> 4 !== 4 || ihl < 20 || ihl > total) return "skip";
    const from = decodeSockaddr(this.#name, got.addrLength);
    return {
      data: b.slice(ihl, total),
      from: from?.address ?? formatIP(b.slice(12, 16)),
      hopLimit: b[8],
      dst: formatIP(b.slice(16, 20)),
      ipHeader: b.slice(0, ihl),
    };
  }

  #recv6(): RawPacket | null | "skip" {
    const view = new DataView(this.#msghdr.buffer);
    view.setBigUint64(0, addressOf(this.#name), true);
    view.setUint32(8, this.#name.byteLength, true);
    const iovView = new DataView(this.#iov.buffer);
    iovView.setBigUint64(0, addressOf(this.#buf), true);
    iovView.setBigUint64(8, BigInt(RECV_SIZE), true);
    view.setBigUint64(16, addressOf(this.#iov), true);
    view.setBigUint64(24, 1n, true);
    view.setBigUint64(32, addressOf(this.#control), true);
    view.setBigUint64(40, BigInt(CONTROL_SIZE), true);
    view.setInt32(48, 0, true);
    const n = recvMsg(this.fd, this.#msghdr);
    if (n === null) return null;
    if (view.getInt32(48, true) & MSG_TRUNC) return "skip";
    const from = decodeSockaddr(this.#name, view.getUint32(8, true));
    const packet: RawPacket = { data: this.#buf.slice(0, n), from: from?.address ?? "" };
    const controlLen = Number(view.getBigUint64(40, true));
    const cv = new DataView(this.#control.buffer);
    for (let at = 0; at + 16 <= controlLen;) {
      const len = Number(cv.getBigUint64(at, true));
      if (len < 16 || at + len > controlLen) break;
      const level = cv.getInt32(at + 8, true);
      const type = cv.getInt32(at + 12, true);
      if (level === IPPROTO_IPV6 && type === IPV6_HOPLIMIT && len >= 20) {
        packet.hopLimit = cv.getInt32(at + 16, true);
      } else if (level === IPPROTO_IPV6 && type === IPV6_PKTINFO && len >= 36) {
        packet.dst = formatIP(this.#control.slice(at + 16, at + 32));
      }
      at += (len + 7) & ~7;
    }
    return packet;
  }

  /** Closes the socket (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeFd(this.fd);
  }
}

function mreqn(group: Uint8Array | null, ifindex: number): Uint8Array {
  const out = alloc(12);
  if (group) out.set(group, 0);
  new DataView(out.buffer).setInt32(8, ifindex, true);
  return out;
}

function configure4(fd: number, ifindex: number, options: VrrpSocketOptions): void {
  if (options.hdrIncl ?? true) {
    setSockOptInt(fd, IPPROTO_IP, IP_HDRINCL, 1, "IP_HDRINCL");
  } else {
    setSockOptInt(fd, IPPROTO_IP, IP_TOS, 0xc0, "IP_TOS");
    setSockOptInt(fd, IPPROTO_IP, IP_TTL, 255, "IP_TTL");
  }
  setSockOpt(fd, IPPROTO_IP, IP_MULTICAST_IF, mreqn(null, ifindex), "IP_MULTICAST_IF");
  setSockOptInt(fd, IPPROTO_IP, IP_MULTICAST_TTL, 255, "IP_MULTICAST_TTL");
  setSockOptInt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP");
  setSockOptInt(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0, "IP_MULTICAST_ALL");
  const group = options.group === undefined ? VRRP_GROUP_V4 : options.group;
  if (group !== null) {
    const ip = parseIP(group);
    if (!ip || ip.family !== 4) {
      throw new SysError("IP_ADD_MEMBERSHIP", 22, { detail: `group "${group}"` });
    }
    setSockOpt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, mreqn(ip.bytes, ifindex), "IP_ADD_MEMBERSHIP");
  }
}

function configure6(fd: number, ifindex: number, options: VrrpSocketOptions): void {
  setSockOptInt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, 6, "IPV6_CHECKSUM");
  setSockOptInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex, "IPV6_MULTICAST_IF");
  setSockOptInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255, "IPV6_MULTICAST_HOPS");
  setSockOptInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP");
  setSockOptInt(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0, "IPV6_MULTICAST_ALL");
  setSockOptInt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255, "IPV6_UNICAST_HOPS");
  setSockOptInt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT");
  setSockOptInt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
  const group = options.group === undefined ? VRRP_GROUP_V6 : options.group;
  if (group !== null) {
    const ip = parseIP(group);
    if (!ip || ip.family !== 6) {
      throw new SysError("IPV6_JOIN_GROUP", 22, { detail: `group "${group}"` });
    }
    const mreq = alloc(20);
    mreq.set(ip.bytes, 0);
    new DataView(mreq.buffer).setUint32(16, ifindex, true);
    setSockOpt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, mreq, "IPV6_JOIN_GROUP");
  }
}

/**
 * Opens a raw VRRP socket on `ifname` (needs CAP_NET_RAW). Throws `SysError` (e.g. `EPERM`,
 * `ENODEV`) or `FfiUnavailableError`.
 */
export function openVrrpSocket(ifname: string, options: VrrpSocketOptions): RawSocket {
  const protocol = options.protocol ?? IPPROTO_VRRP;
  if (options.family === 6 && protocol !== IPPROTO_VRRP) {
    throw new SysError("socket", 22, { detail: "AH (protocol 51) is IPv4 only" });
  }
  let source: Uint8Array | null = null;
  if (options.source !== undefined) {
    const ip = parseIP(options.source);
    if (!ip || ip.family !== 6 || options.family !== 6) {
      throw new SysError("socket", 22, {
        detail: `source "${options.source}" must be IPv6 on IPv6`,
      });
    }
    source = ip.bytes;
  }
  const ifindex = ifNameToIndex(ifname);
  const fd = openSocket(options.family === 4 ? AF_INET : AF_INET6, SOCK_RAW, protocol);
  try {
    bindToDevice(fd, ifname);
    setSockOptInt(fd, SOL_SOCKET, SO_RCVBUF, 1 << 18, "SO_RCVBUF");
    if (options.family === 4) configure4(fd, ifindex, options);
    else configure6(fd, ifindex, options);
  } catch (err) {
    closeFd(fd);
    throw err;
  }
  return new RawSocket(fd, options.family, ifindex, source);
}
