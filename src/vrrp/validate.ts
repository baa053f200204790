/**
 * Receive validation of VRRP adverts for one instance, in keepalived 2.2.7's order
 * (`vrrp_check_packet`, shared/reference/vrrp.md §1.7), with a typed drop reason and keepalived's
 * log text as the detail:
 *
 *  1. the headers are complete (IP, AH, 8-byte VRRP header)          → "malformed"
 *  2. VRID is this instance's (sockets are demultiplexed by VRID)    → "not-ours"
 *  3. AH present iff auth AH is configured (IPv4)                     → "ah-mismatch"
 *  4. length = IP header (+AH) + 8 + n·addr (+8 for v2)               → "length"
 *  5. TTL / hop limit 255, multicast mode only                        → "ttl"
 *  6. version equals ours                                             → "version"
 *  7. v2: auth type known / equal to ours / password / AH ICV, SPI,
 *     sequence (AH for another protocol is ignored silently)          → "auth-type-invalid",
 *     "auth-type-mismatch", "auth-password", "ah-foreign", "ah-icv", "ah-spi", "ah-replay"
 *  8. v2: Adver Int equals ours (keepalived drops: dual masters)      → "adver-int"
 *  9. type is ADVERTISEMENT                                           → "type"
 * 10. address count equals our VIP count                              → "addr-count"
 * 11. IPv4 total length equals the bytes received                     → "ip-length"
 * 12. checksum (v3 IPv4: both forms, plus keepalived's old unicast
 *     form when unicast; IPv6 re-checked although the kernel does)    → "checksum"
 * 13. multicast destination iff no unicast peers                      → "cast-mismatch"
 * 14. every local VIP is present in the advert (order-free)           → "vip-missing"
 *
 * keepalived neither drops adverts when it is the owner (255) nor checks the unicast source by
 * default; neither does this. Pure: no I/O.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import type { VrrpInstanceConfig } from "../config/types.ts";
import {
  authKey,
  type ChecksumKind,
  decodeAdvert,
  type Family,
  verifyChecksum,
  VRRP_AUTH_LEN,
  VRRP_HEADER_LEN,
  type VrrpAdvert,
} from "./codec.ts";
import { AH_LEN, decodeIpv4Packet, verifyAhIcv } from "./ipv4.ts";
import { formatIp, isMulticast, parseIp } from "./address.ts";
import { intervalField } from "./timers.ts";

/** Why an advert was dropped. */
export type DropReason =
  | "malformed"
  | "not-ours"
  | "ah-mismatch"
  | "length"
  | "ttl"
  | "version"
  | "auth-type-invalid"
  | "auth-type-mismatch"
  | "auth-password"
  | "ah-foreign"
  | "ah-icv"
  | "ah-spi"
  | "ah-replay"
  | "adver-int"
  | "type"
  | "addr-count"
  | "ip-length"
  | "checksum"
  | "cast-mismatch"
  | "vip-missing";

/** What validation needs to know about an instance (build it with {@linkcode validationContext}). */
export interface ValidationContext {
  readonly name: string;
  readonly vrid: number;
  readonly version: 2 | 3;
  readonly family: Family;
  /** The interval field we send (v2: seconds; v3: centiseconds). */
  readonly adverIntField: number;
  /** v2 authentication with its 8-byte key; null = none. */
  readonly auth: { readonly type: "PASS" | "AH"; readonly key: Uint8Array } | null;
  /** Our VIPs as bytes (4 or 16 each). */
  readonly vips: readonly Uint8Array[];
  /** Unicast mode (unicast peers configured). */
  readonly unicast: boolean;
  readonly v3Ipv4Checksum: "pseudo" | "message";
  /** The IPv4 multicast group (keepalived's old unicast checksum compat uses it). */
  readonly mcastGroup4: Uint8Array;
}

/** Options for {@linkcode validationContext}. */
export interface ValidationContextOptions {
  /** `[vrrp] mcast_group4`; default "224.0.0.18". */
  readonly mcastGroup4?: string;
}

/**
 * Derives the validation context of an instance from its config.
 *
 * @param config the instance
 * @param options the IPv4 multicast group
 * @returns the context for {@linkcode validateAdvert}
 * @example
 * ```ts
 * import { instanceConfig } from "./testdata/instance_config.ts";
 * const ctx = validationContext(instanceConfig(), { mcastGroup4: "224.0.0.18" });
 * ctx.vips.length; // 1
 * ```
 */
export function validationContext(
  config: VrrpInstanceConfig,
  options: ValidationContextOptions = {},
): ValidationContext {
  const vips: Uint8Array[] = [];
  for (const v of config.virtualIpaddress) {
    const b = parseIp(v.address);
    if (b && b.length === (config.family === 4 ? 4 : 16)) vips.push(b);
  }
  return {
    name: config.name,
    vrid: config.virtualRouterId,
    version: config.version,
    family: config.family,
    adverIntField: intervalField(config.version, config.advertInt),
    auth: config.authentication
      ? { type: config.authentication.type, key: authKey(config.authentication.password) }
      : null,
    vips,
    unicast: config.unicastPeer.length > 0,
    v3Ipv4Checksum: config.v3Ipv4Checksum,
    mcastGroup4: parseIp(options.mcastGroup4 ?? "224.0.0.18") ?? new Uint8Array([224, 0, 0, 18]),
  };
}

/**
 * A received packet: a whole IPv4 datagram (the raw socket gives the header), or an IPv6 VRRP
 * message with the hop limit (IPV6_HOPLIMIT cmsg; null when unknown) and addresses
 * (source from recvfrom, destination from IPV6_PKTINFO).
 */
export type ReceivedPacket =
  | { readonly family: 4; readonly packet: Uint8Array }
  | {
    readonly family: 6;
    readonly message: Uint8Array;
    readonly hopLimit: number | null;
    readonly src: Uint8Array;
    readonly dst: Uint8Array;
  };

/** An accepted advert. */
export interface AcceptedAdvert {
  readonly advert: VrrpAdvert;
  /** The IP source address (the sender's primary address). */
  readonly source: Uint8Array;
  readonly checksum: ChecksumKind;
}

/** Options for {@linkcode validateAdvert}. */
export interface ValidateOptions {
  /** The instance's AH sequence counter (keepalived shares one for tx and rx); default 0. */
  readonly ahSeq?: number;
}

/**
 * Validation outcome. `ahSeq` is the instance's AH counter afterwards (keepalived updates it as
 * soon as the AH checks pass, even if a later check drops the packet); store it back.
 */
export type ValidationResult =
  | { readonly ok: true; readonly value: AcceptedAdvert; readonly ahSeq: number }
  | {
    readonly ok: false;
    readonly reason: DropReason;
    readonly detail: string;
    readonly ahSeq: number;
    /** True when keepalived drops without a log line (AH for another protocol). */
    readonly silent?: boolean;
  };

const AUTH_CODE = { PASS: 1, AH: 2 } as const;

/**
 * Validates a received packet for one instance, in keepalived's order. Never throws.
 *
 * @param rx the packet and its receive metadata
 * @param ctx the instance
 * @param options the AH sequence counter
 * @returns the accepted advert, or the first failing check
 * @example
 * ```ts
 * import { instanceConfig } from "./testdata/instance_config.ts";
 * const ctx = validationContext(instanceConfig());
 * const r = validateAdvert({ family: 4, packet: new Uint8Array(10) }, ctx);
 * r.ok; // false (reason "malformed")
 * // on success: step(state, { type: "advert", advert: r.value.advert, source: r.value.source }, now)
 * // and keep r.ahSeq as the instance's AH counter.
 * ```
 */
export function validateAdvert(
  rx: ReceivedPacket,
  ctx: ValidationContext,
  options: ValidateOptions = {},
): ValidationResult {
  let ahSeq = options.ahSeq ?? 0;
  const drop = (reason: DropReason, detail: string, silent?: boolean): ValidationResult => ({
    ok: false,
    reason,
    detail: `(${ctx.name}) ${detail}`,
    ahSeq,
    ...(silent ? { silent } : {}),
  });

  let message: Uint8Array;
  let src: Uint8Array;
  let dst: Uint8Array;
  let ttl: number | null;
  let headerBytes = 0;
  let received: number;
  let ipv4: ReturnType<typeof decodeIpv4Packet> | null = null;
  if (rx.family === 4) {
    ipv4 = decodeIpv4Packet(rx.packet);
    if (!ipv4.ok) return drop("malformed", ipv4.detail);
    ({ message } = ipv4.value);
    ({ src, dst, ttl } = ipv4.value.ip);
    headerBytes = ipv4.value.ip.headerLength + (ipv4.value.ah ? AH_LEN : 0);
    received = rx.packet.length;
  } else {
    ({ message, src, dst } = rx);
    ttl = rx.hopLimit;
    received = message.length;
  }
  if (rx.family !== ctx.family) {
    return drop("malformed", `IPv${rx.family} packet for an IPv${ctx.family} instance`);
  }
  if (message.length < VRRP_HEADER_LEN) {
    return drop("malformed", `VRRP header truncated: ${message.length} bytes`);
  }
  if (message[1] !== ctx.vrid) return drop("not-ours", `advert for VRID ${message[1]}`);

  const ah = ipv4?.ok ? ipv4.value.ah : null;
  const wantAh = ctx.auth?.type === "AH";
  if (rx.family === 4 && (ah !== null) !== wantAh) {
    return drop(
      "ah-mismatch",
      ah ? "Received AH header but auth type not AH" : "No AH header but auth type is AH",
    );
  }

  const version = message[0] >> 4;
  const alen = ctx.family === 4 ? 4 : 16;
  const expected = headerBytes + VRRP_HEADER_LEN + message[3] * alen +
    (version === 2 ? VRRP_AUTH_LEN : 0);
  if (received !== expected) {
    return drop(
      "length",
      `vrrp packet too ${
        received > expected ? "long" : "short"
      }, length ${received} and expect ${expected}`,
    );
  }
  if (!ctx.unicast && ttl !== null && ttl !== 255) {
    return drop("ttl", `invalid TTL/HL. Received ${ttl} and expect 255`);
  }
  if (version !== ctx.version) {
    return drop("version", `wrong version. Received ${version} and expect ${ctx.version}`);
  }

  if (version === 2) {
    const authType = message[4];
    if (authType > 2) return drop("auth-type-invalid", `Invalid auth type: ${authType}`);
    const mine = ctx.auth ? AUTH_CODE[ctx.auth.type] : 0;
    if (authType !== mine) {
      return drop("auth-type-mismatch", `received a ${authType} auth, expecting ${mine}!`);
    }
    if (ctx.auth?.type === "PASS") {
      const pw = message.subarray(message.length - VRRP_AUTH_LEN);
      if (!timingSafeEqual(pw, ctx.auth.key)) {
        return drop("auth-password", "received an invalid passwd!");
      }
    } else if (ctx.auth?.type === "AH" && ah && rx.family === 4) {
      if (ah.nextHeader !== 112) {
        return drop("ah-foreign", `AH for protocol ${ah.nextHeader}`, true);
      }
      if (!verifyAhIcv(rx.packet, { key: ctx.auth.key, unicast: ctx.unicast })) {
        return drop(
          "ah-icv",
          "IPSEC-AH : invalid IPSEC HMAC-MD5 value. Due to fields mutation or bad password !",
        );
      }
      const spi = ((src[0] << 24) >>> 0) + ((src[1] << 16) | (src[2] << 8) | src[3]);
      if (ah.spi !== spi) {
        return drop("ah-spi", `IPSEC AH : invalid IPSEC SPI value. ${spi} and expect ${ah.spi}`);
      }
      if (ah.seq <= ahSeq) {
        return drop(
          "ah-replay",
          `IPSEC-AH : sequence number ${ah.seq} already processed. Packet dropped. Local(${ahSeq})`,
        );
      }
      ahSeq = ah.seq;
    }
    if (message[5] !== ctx.adverIntField) {
      return drop(
        "adver-int",
        `advertisement interval mismatch mine=${ctx.adverIntField} sec rcv'd=${message[5]} sec`,
      );
    }
  }

  const type = message[0] & 0x0f;
  if (type !== 1) return drop("type", `Invalid packet type. ${type} and expect 1`);
  if (message[3] !== ctx.vips.length) {
    return drop(
      "addr-count",
      `received an unexpected ip number count ${message[3]}, expected ${ctx.vips.length}!`,
    );
  }
  if (ipv4?.ok && ipv4.value.ip.totalLength !== received) {
    return drop(
      "ip-length",
      `ip_tot_len mismatch against received length. ${ipv4.value.ip.totalLength} and received ${received}`,
    );
  }
  const checksum = verifyChecksum(message, {
    family: ctx.family,
    src,
    dst,
    v3Ipv4Checksum: ctx.v3Ipv4Checksum,
    legacyGroup: ctx.unicast ? ctx.mcastGroup4 : undefined,
  });
  if (checksum === null) return drop("checksum", `Invalid VRRPv${version} checksum`);
  if (isMulticast(dst) === ctx.unicast) {
    const want = ctx.unicast ? "un" : "mult";
    const got = ctx.unicast ? "mult" : "un";
    return drop("cast-mismatch", `Expected ${want}icast packet but received ${got}icast packet`);
  }
  for (const vip of ctx.vips) {
    let found = false;
    for (let i = 0; i < message[3] && !found; i++) {
      const at = VRRP_HEADER_LEN + i * alen;
      found = vip.every((b, j) => message[at + j] === b);
    }
    if (!found) {
      return drop(
        "vip-missing",
        `ip address associated with VRID ${ctx.vrid} not present in MASTER advert : ${
          formatIp(vip)
        }`,
      );
    }
  }
  const decoded = decodeAdvert(message, {
    family: ctx.family,
    src,
    dst,
    v3Ipv4Checksum: ctx.v3Ipv4Checksum,
    legacyGroup: ctx.unicast ? ctx.mcastGroup4 : undefined,
  });
  if (!decoded.ok) return drop("malformed", decoded.detail);
  return { ok: true, value: { advert: decoded.value.advert, source: src, checksum }, ahSeq };
}
