/**
 * Whether this process can run the config's VRRP instances: VRRP needs CAP_NET_RAW (raw
 * protocol-112 sockets, ARP) and CAP_NET_ADMIN (adding VIPs). Without them halb says so in one
 * log line and the proxy serves anyway.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import { netCapabilities } from "../sys/caps.ts";

/** Null when VRRP can run; otherwise the one line that says why it is off. */
export function vrrpBlocker(
  config: Config,
  caps: { netRaw: boolean; netAdmin: boolean } = netCapabilities(),
): string | null {
  const n = config.vrrp?.instances.length ?? 0;
  const missing = [caps.netRaw ? null : "CAP_NET_RAW", caps.netAdmin ? null : "CAP_NET_ADMIN"]
    .filter((c) => c !== null);
  if (n === 0 || missing.length === 0) return null;
  return `VRRP is off: ${n} VRRP instance${n === 1 ? "" : "s"} configured but the process ` +
    `lacks ${missing.join(" and ")} (run as root or grant the capabilities); ` +
    `the proxy serves without VIPs`;
}
