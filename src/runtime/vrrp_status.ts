/**
 * What halb can do about the config's VRRP instances on this host, said in one log line: VRRP
 * needs CAP_NET_RAW (raw protocol-112 sockets, ARP) and CAP_NET_ADMIN (adding VIPs); without
 * them the proxy still serves.
 *
 * @module
 */
import type { Config, LogLevel } from "../config/types.ts";
import { netCapabilities } from "../sys/caps.ts";

/** The one line to log about VRRP, or null when the config has no VRRP instance. */
export function vrrpStatus(
  config: Config,
  caps: { netRaw: boolean; netAdmin: boolean } = netCapabilities(),
): { level: LogLevel; message: string } | null {
  const n = config.vrrp?.instances.length ?? 0;
  if (n === 0) return null;
  const missing = [caps.netRaw ? null : "CAP_NET_RAW", caps.netAdmin ? null : "CAP_NET_ADMIN"]
    .filter((c) => c !== null);
  const what = `${n} VRRP instance${n === 1 ? "" : "s"}`;
  if (missing.length > 0) {
    return {
      level: "warning",
      message: `VRRP is off: ${what} configured but the process lacks ${missing.join(" and ")} ` +
        `(run as root or grant the capabilities); the proxy serves without VIPs`,
    };
  }
  return {
    level: "warning",
    message: `VRRP is off: ${what} configured but the VRRP driver is not built yet ` +
      `(codec and state machine only); VIPs are not managed`,
  };
}
