/**
 * Small formatting helpers shared by HAProxy-style traffic log lines (tcplog, httplog): the
 * accept date with milliseconds in local time and client addresses as HAProxy prints them.
 *
 * @module
 */

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function pad2(n: number): string {
  return n < 10 ? "0" + n : String(n);
}

function pad3(n: number): string {
  return n < 10 ? "00" + n : n < 100 ? "0" + n : String(n);
}

/**
 * Formats an epoch-milliseconds time as HAProxy's `%t`/`%tr` in local time:
 * `25/Nov/2026:02:50:18.274`.
 */
export function formatLogDate(epochMs: number): string {
  const d = new Date(epochMs);
  return pad2(d.getDate()) + "/" + MONTHS[d.getMonth()] + "/" + d.getFullYear() + ":" +
    pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds()) + "." +
    pad3(d.getMilliseconds());
}

/**
 * The `%ci:%cp` pair of a socket address: `ip:port`, IPv6 without brackets as HAProxy prints it.
 * Unix-socket peers have no address: HAProxy prints `unix:<listener id>`, given as `unixId`.
 */
export function formatPeer(address: Deno.Addr, unixId = 1): string {
  if (address.transport === "tcp" || address.transport === "udp") {
    return address.hostname + ":" + address.port;
  }
  return "unix:" + unixId;
}
