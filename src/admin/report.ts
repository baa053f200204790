/**
 * Text reports of the runtime API: `show info` (HAProxy's `Key: value` lines), `show servers
 * state` (HAProxy's version-1 server-state format, numeric fields as HAProxy 2.6 prints them) and
 * halb's `show vrrp` table. Pure functions of a {@linkcode StatsModel}.
 *
 * @module
 */
import type { ServerRow, StatsModel } from "./model.ts";

/** HAProxy's `HCHK_STATUS_*` numbers, as `show servers state` prints them. */
const CHECK_STATUS_CODES: Readonly<Record<string, number>> = {
  UNK: 0,
  INI: 1,
  SOCKERR: 5,
  L4OK: 6,
  L4TOUT: 7,
  L4CON: 8,
  L6OK: 9,
  L6TOUT: 10,
  L6RSP: 11,
  L7TOUT: 12,
  L7RSP: 13,
  L7OK: 15,
  L7OKC: 16,
  L7STS: 17,
};

/** HAProxy's `CHK_RES_*` numbers by check status. */
function checkResult(status: string): number {
  if (status === "L4OK" || status === "L6OK" || status === "L7OK") return 3;
  if (status === "L7OKC") return 4;
  if (status === "UNK" || status === "INI") return 0;
  return 2;
}

const OP_STATES: Readonly<Record<string, number>> = {
  stopped: 0,
  starting: 1,
  running: 2,
  stopping: 3,
};

/** `Uptime` as HAProxy prints it: `0d 0h00m08s`. */
export function formatUptime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor(seconds % 86400 / 3600);
  const m = Math.floor(seconds % 3600 / 60);
  const s = Math.floor(seconds % 60);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d}d ${h}h${pad(m)}m${pad(s)}s`;
}

/** `show info`: HAProxy's keys that halb knows, then halb's reload keys; ends with a newline. */
export function showInfo(model: StatsModel): string {
  const p = model.process;
  const uptime = Math.max(0, Math.floor((p.now - p.startedAt) / 1000));
  const lines = [
    "Name: halb",
    `Version: ${p.version}`,
    `Pid: ${p.pid}`,
    `Uptime: ${formatUptime(uptime)}`,
    `Uptime_sec: ${uptime}`,
    `Maxconn: ${p.maxconn}`,
    `CurrConns: ${p.actconn}`,
    `CumConns: ${p.cumConns}`,
    `Start_time_sec: ${Math.floor(p.startedAt / 1000)}`,
    `Config_file: ${p.configFile}`,
  ];
  if (p.lastReload !== null) {
    lines.push(`Last_reload_sec: ${Math.floor(p.lastReload.at / 1000)}`);
    lines.push(`Last_reload_result: ${p.lastReload.ok ? "ok" : "failed"}`);
  }
  return lines.join("\n") + "\n";
}

/** The header of `show servers state`, version 1. */
export const SERVERS_STATE_HEADER = "# be_id be_name srv_id srv_name srv_addr srv_op_state " +
  "srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status " +
  "srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id " +
  "srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr " +
  "srv_agent_addr srv_agent_port";

function splitAddress(address: string): { host: string; port: string } {
  const i = address.lastIndexOf(":");
  if (i < 0) return { host: address, port: "0" };
  return { host: address.slice(0, i).replace(/^\[(.*)\]$/, "$1"), port: address.slice(i + 1) };
}

function serverStateLine(beId: number, beName: string, s: ServerRow): string {
  const { host, port } = splitAddress(s.address);
  const admin = (s.maint ? 0x01 : 0) | (s.drain ? 0x08 : 0);
  const c = s.check;
  const status = c ? CHECK_STATUS_CODES[c.status] ?? 0 : 1;
  const fields = [
    beId,
    beName,
    s.id,
    s.name,
    host,
    OP_STATES[s.op] ?? 2,
    admin,
    s.uweight,
    s.iweight,
    s.lastChangeSec,
    status,
    c ? checkResult(c.status) : 0,
    c ? c.health : 0,
    s.checked ? 6 : 0,
    0,
    0,
    0,
    "-",
    port,
    "-",
    0,
    0,
    "-",
    "-",
    0,
  ];
  return fields.join(" ");
}

/**
 * `show servers state [<backend>]`: `1`, the header, one line per server. Null when `backend`
 * names no backend.
 */
export function serversState(model: StatsModel, backend?: string): string | null {
  const backends = backend === undefined
    ? model.backends
    : model.backends.filter((b) => b.name === backend || `#${b.id}` === backend);
  if (backend !== undefined && backends.length === 0) return null;
  const lines = ["1", SERVERS_STATE_HEADER];
  for (const be of backends) {
    for (const s of be.servers) lines.push(serverStateLine(be.id, be.name, s));
  }
  return lines.join("\n") + "\n";
}

/** `show vrrp`: a header and one line per instance (space separated, `-` for none). */
export function showVrrp(model: StatsModel): string {
  const lines = ["# name state priority effective_priority master vips last_transition"];
  for (const v of model.vrrp) {
    lines.push([
      v.name,
      v.state,
      v.priority,
      v.effectivePriority,
      v.master ?? "-",
      v.vips.length > 0 ? v.vips.join(",") : "-",
      v.lastTransition === null ? "-" : new Date(v.lastTransition).toISOString(),
    ].join(" "));
  }
  return lines.join("\n") + "\n";
}
