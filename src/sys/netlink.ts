/**
 * rtnetlink over `AF_NETLINK` via libc FFI: interface lookup, address add/delete/list (idempotent
 * helpers as keepalived uses them) and a link/address monitor socket to drive from the poller.
 *
 * Requests are synchronous: rtnetlink handles a request inside `sendto` and produces dump parts
 * inside `recvfrom`, so the replies are always queued by the time we read them.
 *
 * @module
 */
import { SysError } from "./errors.ts";
import {
  bindSocket,
  closeFd,
  ifNameToIndex,
  interfaceMac,
  openSocket,
  recvFrom,
  sendTo,
  setSockOptInt,
  SO_RCVBUF,
  SOCK_RAW,
  SOL_SOCKET,
  sysError,
} from "./libc.ts";
import {
  type AddressInfo,
  type AddressSpec,
  decodeAddress,
  decodeError,
  decodeEvent,
  decodeLink,
  decodeMessages,
  encodeAddressDump,
  encodeAddressRequest,
  encodeLinkDump,
  type LinkInfo,
  type NetlinkEvent,
  NL,
  type NlMessage,
} from "./netlink_codec.ts";
import { AF_NETLINK, alloc, encodeSockaddrNl, formatMac } from "./sockaddr.ts";

export type { AddressInfo, AddressSpec, LinkInfo, NetlinkEvent } from "./netlink_codec.ts";

const NETLINK_ROUTE = 0;
const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const RECV_SIZE = 65536;
const ENOBUFS = 105;

function openNetlink(groups: number, rcvbuf: number): number {
  const fd = openSocket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  try {
    setSockOptInt(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf, "SO_RCVBUF");
    setSockOptInt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1, "NETLINK_EXT_ACK");
    setSockOptInt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1, "NETLINK_CAP_ACK");
    bindSocket(fd, encodeSockaddrNl(0, groups));
    return fd;
  } catch (err) {
    closeFd(fd);
    throw err;
  }
}

/** Result of {@linkcode Rtnetlink.addAddress}. */
export type AddResult = "added" | "exists";
/** Result of {@linkcode Rtnetlink.deleteAddress}. */
export type DeleteResult = "deleted" | "absent";

/** A request/response rtnetlink socket. Open with {@linkcode openRtnetlink}; `close()` when done. */
export class Rtnetlink {
  readonly #fd: number;
  readonly #buf = alloc(RECV_SIZE);
  #seq = Math.floor(Math.random() * 0x7fffffff);

  /** Wraps an open, bound netlink fd (use {@linkcode openRtnetlink}). */
  constructor(fd: number) {
    this.#fd = fd;
  }

  /** Sends one request and collects its replies up to the ACK or `NLMSG_DONE`. */
  #request(op: string, message: Uint8Array, seq: number): NlMessage[] {
    if (sendTo(this.#fd, message, encodeSockaddrNl()) === null) throw sysError(op, 11);
    const replies: NlMessage[] = [];
    for (;;) {
      const got = recvFrom(this.#fd, this.#buf, null);
      if (got === null) {
        throw new SysError(op, 11, { detail: "reply not queued by the kernel" });
      }
      if (got.length > this.#buf.byteLength) {
        throw new SysError(op, 90, { detail: "reply truncated" });
      }
      const msgs = decodeMessages(this.#buf.subarray(0, got.length));
      if (!msgs.ok) throw new SysError(op, 5, { detail: msgs.error });
      for (const msg of msgs.value) {
        if (msg.seq !== seq) continue;
        if (msg.type === NL.NLMSG_DONE) return replies;
        if (msg.type === NL.NLMSG_ERROR) {
          const err = decodeError(msg);
          if (!err.ok) throw new SysError(op, 5, { detail: err.error });
          if (err.value.errno === 0) return replies;
          throw sysError(op, err.value.errno, err.value.message);
        }
        replies.push(msg);
      }
    }
  }

  #nextSeq(): number {
    this.#seq = (this.#seq + 1) >>> 0;
    return this.#seq;
  }

  /** All interfaces (`RTM_GETLINK` dump). */
  listLinks(): LinkInfo[] {
    const seq = this.#nextSeq();
    const out: LinkInfo[] = [];
    for (const msg of this.#request("RTM_GETLINK", encodeLinkDump(seq), seq)) {
      if (msg.type !== NL.RTM_NEWLINK) continue;
      const link = decodeLink(msg);
      if (link.ok) out.push(link.value);
    }
    return out;
  }

  /** One interface by name, or `null` when there is none. */
  getLink(name: string): LinkInfo | null {
    return this.listLinks().find((l) => l.name === name) ?? null;
  }

  /** Addresses (`RTM_GETADDR` dump), optionally only one family and/or one interface. */
  listAddresses(filter: { ifindex?: number; family?: 4 | 6 } = {}): AddressInfo[] {
    const seq = this.#nextSeq();
    const out: AddressInfo[] = [];
    for (
      const msg of this.#request("RTM_GETADDR", encodeAddressDump(seq, filter.family ?? 0), seq)
    ) {
      if (msg.type !== NL.RTM_NEWADDR) continue;
      const addr = decodeAddress(msg);
      if (!addr.ok) continue;
      if (filter.ifindex !== undefined && addr.value.ifindex !== filter.ifindex) continue;
      if (filter.family !== undefined && addr.value.family !== filter.family) continue;
      out.push(addr.value);
    }
    return out;
  }

  /** Adds an address (`RTM_NEWADDR`, IPv6 with `IFA_F_NODAD`); `"exists"` when already there. */
  addAddress(spec: AddressSpec): AddResult {
    const seq = this.#nextSeq();
    const msg = encodeAddressRequest("add", spec, seq);
    if (!msg.ok) throw new SysError("RTM_NEWADDR", 22, { detail: msg.error });
    try {
      this.#request("RTM_NEWADDR", msg.value, seq);
      return "added";
    } catch (err) {
      if (err instanceof SysError && err.code === "EEXIST") return "exists";
      throw err;
    }
  }

  /** Deletes an address (`RTM_DELADDR`); `"absent"` when it is not there or the interface is gone. */
  deleteAddress(spec: AddressSpec): DeleteResult {
    const seq = this.#nextSeq();
    const msg = encodeAddressRequest("delete", spec, seq);
    if (!msg.ok) throw new SysError("RTM_DELADDR", 22, { detail: msg.error });
    try {
      this.#request("RTM_DELADDR", msg.value, seq);
      return "deleted";
    } catch (err) {
      if (err instanceof SysError && (err.code === "EADDRNOTAVAIL" || err.code === "ENODEV")) {
        return "absent";
      }
      throw err;
    }
  }

  /** Closes the socket. */
  close(): void {
    closeFd(this.#fd);
  }
}

/** Opens a request/response rtnetlink socket (extended ACKs on). */
export function openRtnetlink(): Rtnetlink {
  return new Rtnetlink(openNetlink(0, 1 << 16));
}

/** Options for {@linkcode openLinkMonitor}. */
export interface LinkMonitorOptions {
  /** Multicast groups; default `RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR`. */
  groups?: number;
  /** Socket receive buffer in bytes; default 256 KiB. */
  receiveBuffer?: number;
}

/**
 * A netlink socket subscribed to link and address changes. Register `fd` with the poller and call
 * `drain()` when it is readable.
 */
export class LinkMonitor {
  /** The nonblocking socket, for the poller. */
  readonly fd: number;
  readonly #buf = alloc(RECV_SIZE);

  /** Wraps an open, bound monitor fd (use {@linkcode openLinkMonitor}). */
  constructor(fd: number) {
    this.fd = fd;
  }

  /** Reads every queued event; an `overrun` event means some were lost (resync with a dump). */
  drain(): NetlinkEvent[] {
    const events: NetlinkEvent[] = [];
    for (;;) {
      let got;
      try {
        got = recvFrom(this.fd, this.#buf, null);
      } catch (err) {
        if (err instanceof SysError && err.errno === ENOBUFS) {
          events.push({ kind: "overrun" });
          continue;
        }
        throw err;
      }
      if (got === null) return events;
      const msgs = decodeMessages(this.#buf.subarray(0, Math.min(got.length, RECV_SIZE)));
      if (!msgs.ok) continue;
      for (const msg of msgs.value) {
        const event = decodeEvent(msg);
        if (event.ok && event.value) events.push(event.value);
      }
    }
  }

  /** Closes the socket. */
  close(): void {
    closeFd(this.fd);
  }
}

/** Opens a monitor socket for link up/down and IPv4/IPv6 address changes. */
export function openLinkMonitor(options: LinkMonitorOptions = {}): LinkMonitor {
  const groups = options.groups ?? (NL.RTMGRP_LINK | NL.RTMGRP_IPV4_IFADDR | NL.RTMGRP_IPV6_IFADDR);
  return new LinkMonitor(openNetlink(groups, options.receiveBuffer ?? 1 << 18));
}

/** Interface index by name (`if_nametoindex`); throws a `SysError` (ENODEV) when missing. */
export function linkIndex(name: string): number {
  return ifNameToIndex(name);
}

/** Interface MAC address text by name (`SIOCGIFHWADDR`). */
export function linkMac(name: string): string {
  return formatMac(interfaceMac(name));
}
