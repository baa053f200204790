/**
 * Sends gratuitous ARPs and unsolicited neighbour advertisements for VIPs over an `AF_PACKET`
 * socket (needs CAP_NET_RAW). Frames come from the pure builders in `arp_codec.ts` and
 * `ndisc_codec.ts`; the socket uses protocol 0, so it never receives anything.
 *
 * @module
 */
import { BROADCAST_MAC, buildGratuitousArp, ETH_P_ARP, type GarpOptions } from "./arp_codec.ts";
import { SysError } from "./errors.ts";
import { closeFd, ifNameToIndex, interfaceMac, openSocket, sendTo, SOCK_RAW } from "./libc.ts";
import { ALL_NODES_MAC, buildUnsolicitedNa, ETH_P_IPV6, type NaOptions } from "./ndisc_codec.ts";
import { AF_PACKET, encodeSockaddrLl, formatMac, parseMac } from "./sockaddr.ts";

/** Options for {@linkcode openAnnouncer}. */
export interface AnnouncerOptions {
  /** Source MAC to announce (e.g. a virtual MAC); default: the interface's own (`SIOCGIFHWADDR`). */
  mac?: string;
}

/** Sends GARP/NA frames on one interface. Create with {@linkcode openAnnouncer}. */
export class Announcer {
  /** Interface name. */
  readonly ifname: string;
  /** Interface index. */
  readonly ifindex: number;
  /** The MAC put in the frames, as text. */
  readonly mac: string;
  readonly #fd: number;
  readonly #arpTo: Uint8Array;
  readonly #ipv6To: Uint8Array;
  #closed = false;

  /** Wraps an open `AF_PACKET` fd (use {@linkcode openAnnouncer}). */
  constructor(fd: number, ifname: string, ifindex: number, mac: string) {
    this.#fd = fd;
    this.ifname = ifname;
    this.ifindex = ifindex;
    this.mac = mac;
    this.#arpTo = encodeSockaddrLl(ifindex, ETH_P_ARP, BROADCAST_MAC);
    this.#ipv6To = encodeSockaddrLl(ifindex, ETH_P_IPV6, ALL_NODES_MAC);
  }

  /** Sends one gratuitous ARP for an IPv4 VIP; false if the socket buffer was full. */
  sendGarp(vip: string, options: GarpOptions = {}): boolean {
    const built = buildGratuitousArp(this.mac, vip, options);
    if (!built.ok) throw new SysError("gratuitous ARP", 22, { detail: built.error });
    return sendTo(this.#fd, built.frame, this.#arpTo) !== null;
  }

  /** Sends one unsolicited neighbour advertisement for an IPv6 VIP; false if the buffer was full. */
  sendUnsolicitedNa(vip: string, options: NaOptions = {}): boolean {
    const built = buildUnsolicitedNa(this.mac, vip, options);
    if (!built.ok) throw new SysError("unsolicited NA", 22, { detail: built.error });
    return sendTo(this.#fd, built.frame, this.#ipv6To) !== null;
  }

  /** Closes the socket (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeFd(this.#fd);
  }
}

/** Opens an announcer on `ifname`; throws `SysError` (`EPERM`, `ENODEV`, …) or `FfiUnavailableError`. */
export function openAnnouncer(ifname: string, options: AnnouncerOptions = {}): Announcer {
  let mac: string;
  if (options.mac !== undefined) {
    const parsed = parseMac(options.mac);
    if (!parsed) {
      throw new SysError("announcer", 22, { detail: `MAC "${options.mac}" does not parse` });
    }
    mac = formatMac(parsed);
  } else {
    mac = formatMac(interfaceMac(ifname));
  }
  const ifindex = ifNameToIndex(ifname);
  return new Announcer(openSocket(AF_PACKET, SOCK_RAW, 0), ifname, ifindex, mac);
}
