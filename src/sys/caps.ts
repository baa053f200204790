/**
 * Which network capabilities this process holds, from the `CapEff` line of `/proc/self/status`,
 * so halb can say "VRRP is off because CAP_NET_RAW is missing" instead of failing later.
 *
 * @module
 */

/** Capability number of CAP_NET_ADMIN (addresses, links). */
export const CAP_NET_ADMIN = 12;
/** Capability number of CAP_NET_RAW (raw and packet sockets). */
export const CAP_NET_RAW = 13;

/** The network capabilities halb cares about. */
export interface NetCapabilities {
  /** CAP_NET_RAW: VRRP raw sockets, GARP/NA packet sockets. */
  netRaw: boolean;
  /** CAP_NET_ADMIN: adding and deleting VIPs. */
  netAdmin: boolean;
}

/** Parses the `CapEff:` hex mask out of `/proc/<pid>/status` text; `null` when missing or bad. */
export function parseCapEff(status: string): bigint | null {
  const match = /^CapEff:\s*([0-9a-fA-F]{1,16})\s*$/m.exec(status);
  return match ? BigInt(`0x${match[1]}`) : null;
}

/** Decodes the network capabilities from an effective capability mask. */
export function capabilitiesFromMask(mask: bigint): NetCapabilities {
  return {
    netRaw: ((mask >> BigInt(CAP_NET_RAW)) & 1n) === 1n,
    netAdmin: ((mask >> BigInt(CAP_NET_ADMIN)) & 1n) === 1n,
  };
}

/**
 * The effective network capabilities of this process. Reads `/proc/self/status` (needs read
 * permission); when it cannot be read or parsed, both are reported missing.
 */
export function netCapabilities(): NetCapabilities {
  let mask: bigint | null = null;
  try {
    mask = parseCapEff(Deno.readTextFileSync("/proc/self/status"));
  } catch {
    mask = null;
  }
  return capabilitiesFromMask(mask ?? 0n);
}
