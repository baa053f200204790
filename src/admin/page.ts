/**
 * The HTML stats page: HAProxy's layout (a process block, a colour legend, one table per proxy
 * with the Queue, Session rate, Sessions, Bytes, Denied, Errors, Warnings and Server column
 * groups, a Frontend row, server rows and a Backend row) plus a VRRP table and, when changes are
 * allowed, per-server READY/DRAIN/MAINT buttons and a weight form (HAProxy's admin form POST).
 * The tables are one fragment ({@linkcode renderStats}) that the page's small embedded script
 * replaces when the server pushes a new one over SSE.
 *
 * @module
 */
import type { BackendRow, FrontendRow, ServerRow, StatsModel, VrrpRow } from "./model.ts";
import { formatUptime } from "./report.ts";

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

const h = escapeHtml;

/** Options of the renderers. */
export interface PageOptions {
  /** The stats URI (form action, export links). */
  statsUri: string;
  /** Where the page's script listens for pushed fragments. */
  eventsUri: string;
  allowChanges: boolean;
  /** The `st=` result of an admin action to announce, if any. */
  status?: string | null;
}

/** A duration in seconds as HAProxy's page prints it: `1d2h`, `3h4m`, `5m6s`, `7s`. */
export function shortDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s >= 86400) return `${Math.floor(s / 86400)}d${Math.floor(s % 86400 / 3600)}h`;
  if (s >= 3600) return `${Math.floor(s / 3600)}h${Math.floor(s % 3600 / 60)}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${s}s`;
}

/** The CSS class of a server row from its status (HAProxy's colour legend). */
export function serverClass(s: Pick<ServerRow, "status" | "backup">): string {
  const word = s.status.split(" ")[0];
  const transitional = s.status.includes("/");
  if (word === "MAINT") return "maint";
  if (word === "DRAIN" || word === "NOLB") return "draining";
  if (word === "DOWN") return transitional ? "going_up" : "down";
  if (word === "no") return "nocheck";
  if (transitional) return "going_down";
  return s.backup ? "backup_up" : "up";
}

const STATUS_MESSAGES: Readonly<Record<string, string>> = {
  DONE: "Action processed successfully.",
  NONE: "Nothing has changed.",
  PART: "Action not processed for every server.",
  ERRP: "Action not processed: a parameter is invalid.",
  DENY: "Action denied.",
};

function num(n: number | null | undefined): string {
  return n === null || n === undefined ? "" : String(n);
}

const HEAD = `<thead><tr class="groups"><th rowspan="2"></th><th colspan="3">Queue</th>` +
  `<th colspan="2">Session rate</th><th colspan="5">Sessions</th><th colspan="2">Bytes</th>` +
  `<th colspan="2">Denied</th><th colspan="3">Errors</th><th colspan="2">Warnings</th>` +
  `<th colspan="9">Server</th>`;

const SUBHEAD = `<tr class="cols"><th>Cur</th><th>Max</th><th>Limit</th><th>Cur</th>` +
  `<th>Max</th><th>Cur</th><th>Max</th><th>Limit</th><th>Total</th><th>LbTot</th><th>In</th>` +
  `<th>Out</th><th>Req</th><th>Resp</th><th>Req</th><th>Conn</th><th>Resp</th><th>Retr</th>` +
  `<th>Redis</th><th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th>` +
  `<th>Chk</th><th>Dwn</th><th>Dwntme</th><th>Thrtle</th>`;

function cells(values: readonly string[]): string {
  return values.map((v) => `<td>${v}</td>`).join("");
}

function frontendRow(fe: FrontendRow, colspanActions: boolean): string {
  return `<tr class="frontend ${fe.status === "OPEN" ? "open" : "stop"}" data-name="${
    h(fe.name)
  }"><td class="name">Frontend</td>` +
    cells([
      "",
      "",
      "",
      num(fe.rate),
      num(fe.rateMax),
      num(fe.cur),
      num(fe.max),
      fe.limit > 0 ? num(fe.limit) : "",
      num(fe.total),
      "",
      num(fe.bytesIn),
      num(fe.bytesOut),
      num(fe.deniedReq),
      num(fe.deniedResp),
      num(fe.errorsReq),
      "",
      "",
      "",
      "",
      fe.status,
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
    ]) + (colspanActions ? "<td></td>" : "") + "</tr>";
}

function lastCheck(s: ServerRow): string {
  const c = s.check;
  if (c === null) return "";
  const status = `${c.inProgress ? "* " : ""}${c.status}${c.code !== null ? `/${c.code}` : ""}`;
  const duration = c.durationMs !== null ? ` in ${c.durationMs}ms` : "";
  const title = c.info !== "" ? `${c.description}: ${c.info}` : c.description;
  return `<span title="${h(title)}">${h(status + duration)}</span>`;
}

function actions(be: BackendRow, s: ServerRow, statsUri: string): string {
  const hidden = `<input type="hidden" name="b" value="${h(be.name)}">` +
    `<input type="hidden" name="s" value="${h(s.name)}">`;
  const button = (action: string, label: string) =>
    `<button type="submit" name="action" value="${action}" data-action="${action}">${label}</button>`;
  return `<td class="actions"><form method="post" action="${h(statsUri)}">${hidden}` +
    button("ready", "READY") + button("drain", "DRAIN") + button("maint", "MAINT") +
    `</form><form method="post" action="${h(statsUri)}" class="weight">${hidden}` +
    `<input type="hidden" name="action" value="weight">` +
    `<input type="number" name="w" min="0" max="256" value="${s.uweight}" aria-label="weight">` +
    `<button type="submit">Set</button></form></td>`;
}

function serverRow(be: BackendRow, s: ServerRow, options: PageOptions): string {
  const c = s.check;
  return `<tr class="server ${serverClass(s)}" data-server="${h(s.name)}">` +
    `<td class="name">${h(s.name)}</td>` +
    cells([
      num(s.queueCur),
      num(s.queueMax),
      s.queueLimit > 0 ? num(s.queueLimit) : "",
      num(s.rate),
      num(s.rateMax),
      num(s.cur),
      num(s.max),
      s.limit > 0 ? num(s.limit) : "",
      num(s.total),
      num(s.total),
      num(s.bytesIn),
      num(s.bytesOut),
      "",
      "0",
      "",
      num(s.connectErrors),
      num(s.responseErrors),
      num(s.retries),
      num(s.redispatches),
      `<span class="status">${shortDuration(s.lastChangeSec)} ${h(s.status)}</span>`,
      lastCheck(s),
      `${s.weight}/${s.uweight}`,
      s.backup ? "-" : "Y",
      s.backup ? "Y" : "-",
      c ? num(s.chkfail) : "",
      c ? num(s.chkdown) : "",
      c || s.checked ? shortDuration(s.downtimeSec) : "",
      s.throttle !== null ? `${s.throttle}%` : "-",
    ]) + (options.allowChanges ? actions(be, s, options.statsUri) : "") + "</tr>";
}

function backendRow(be: BackendRow, allowChanges: boolean): string {
  return `<tr class="backend ${be.status === "UP" ? "up" : "down"}"><td class="name">Backend</td>` +
    cells([
      num(be.queueCur),
      num(be.queueMax),
      "",
      num(be.rate),
      num(be.rateMax),
      num(be.cur),
      num(be.max),
      "",
      num(be.total),
      num(be.total),
      num(be.bytesIn),
      num(be.bytesOut),
      "0",
      "0",
      "",
      num(be.connectErrors),
      num(be.responseErrors),
      num(be.retries),
      num(be.redispatches),
      be.status,
      "",
      `${be.weight}/${be.uweight}`,
      num(be.activeServers),
      num(be.backupServers),
      "",
      "",
      "",
      "",
    ]) + (allowChanges ? "<td></td>" : "") + "</tr>";
}

function proxyTable(
  name: string,
  parts: { fe?: FrontendRow; be?: BackendRow },
  options: PageOptions,
): string {
  const { fe, be } = parts;
  const mode = fe?.mode ?? be?.mode ?? "tcp";
  const rows = [
    fe ? frontendRow(fe, options.allowChanges) : "",
    ...(be ? be.servers.map((s) => serverRow(be, s, options)) : []),
    be ? backendRow(be, options.allowChanges) : "",
  ].join("");
  const actionsHead = options.allowChanges ? `<th rowspan="2">Actions</th>` : "";
  return `<table class="proxy" data-proxy="${h(name)}"><caption>${h(name)} <small>(${mode}${
    be ? `, ${h(be.algo)}` : ""
  })</small></caption>${HEAD}${actionsHead}</tr>${SUBHEAD}</tr></thead><tbody>${rows}</tbody></table>`;
}

function vrrpTable(rows: readonly VrrpRow[], now: number): string {
  if (rows.length === 0) return `<p class="novrrp">No VRRP instance runs.</p>`;
  const body = rows.map((v) => {
    const since = v.lastTransition === null
      ? "-"
      : `${new Date(v.lastTransition).toISOString()} (${
        shortDuration((now - v.lastTransition) / 1000)
      } ago)`;
    return `<tr class="vrrp ${h(v.state)}" data-instance="${h(v.name)}">` +
      `<td class="name">${h(v.name)}</td>` +
      cells([
        h(v.state.toUpperCase()),
        num(v.priority),
        num(v.effectivePriority),
        h(v.master ?? (v.state === "master" ? "(this node)" : "-")),
        v.vips.length > 0 ? v.vips.map(h).join("<br>") : "-",
        h(since),
      ]) + "</tr>";
  }).join("");
  return `<table class="vrrp"><caption>VRRP instances</caption><thead><tr><th>Instance</th>` +
    `<th>State</th><th>Priority</th><th>Effective</th><th>Master</th><th>VIPs</th>` +
    `<th>Last transition</th></tr></thead><tbody>${body}</tbody></table>`;
}

function processBlock(model: StatsModel): string {
  const p = model.process;
  const uptime = formatUptime(Math.max(0, Math.floor((p.now - p.startedAt) / 1000)));
  const reload = p.lastReload === null
    ? "none"
    : `${new Date(p.lastReload.at).toISOString()} ${p.lastReload.ok ? "ok" : "failed"}` +
      (p.lastReload.errors.length > 0 ? `: ${p.lastReload.errors.map(h).join("; ")}` : "");
  return `<div class="process"><b>General process information</b><br>` +
    `pid = ${p.pid}; version = ${h(p.version)}; uptime = ${uptime}<br>` +
    `current conns = ${p.actconn}; maxconn = ${p.maxconn}; total conns = ${p.cumConns}<br>` +
    `config = ${h(p.configFile)}; last reload = ${reload}</div>`;
}

/** The live part of the page: process block, proxy tables and the VRRP table. */
export function renderStats(model: StatsModel, options: PageOptions): string {
  const names: string[] = [];
  for (const p of [...model.frontends, ...model.backends]) {
    if (!names.includes(p.name)) names.push(p.name);
  }
  const tables = names.map((name) =>
    proxyTable(name, {
      fe: model.frontends.find((f) => f.name === name),
      be: model.backends.find((b) => b.name === name),
    }, options)
  ).join("");
  return processBlock(model) + tables + vrrpTable(model.vrrp, model.process.now);
}

const STYLE = `body{font-family:Arial,Helvetica,sans-serif;font-size:12px;margin:8px;color:#000}
h1{font-size:18px;color:#fff;background:#20507a;padding:6px 8px;margin:0 0 8px}
.process{background:#f0f4ff;border:1px solid #9ab;padding:6px;margin-bottom:8px}
.legend span{display:inline-block;padding:1px 6px;margin:1px;border:1px solid #999}
.links a{margin-right:12px}
.banner{background:#c0ffc0;border:1px solid #080;padding:4px;margin:6px 0}
table{border-collapse:collapse;margin:10px 0;font-size:11px}
caption{text-align:left;font-weight:bold;background:#20507a;color:#fff;padding:3px 6px}
th,td{border:1px solid #999;padding:1px 4px;text-align:right;white-space:nowrap}
th{background:#b0c4de}
td.name{text-align:left;font-weight:bold}
tr.frontend td,tr.backend td{background:#e8e8f0}
tr.frontend.stop td,tr.backend.down td{background:#ff9090}
.up td,.legend .up{background:#c0ffc0}.backup_up td,.legend .backup_up{background:#b0d0ff}
.going_down td,.legend .going_down{background:#ffffa0}.going_up td,.legend .going_up{background:#ffd020}
.down td,.legend .down{background:#ff9090}.nocheck td,.legend .nocheck{background:#e0e0e0}
.maint td,.legend .maint{background:#c07820}.draining td,.legend .draining{background:#20a0ff}
tr.vrrp.master td{background:#c0ffc0}tr.vrrp.backup td{background:#e0e0e0}
tr.vrrp.fault td{background:#ff9090}tr.vrrp.stopped td,tr.vrrp.initialize td{background:#ffd020}
td.actions form{display:inline;margin:0 2px}td.actions input[type=number]{width:4em}
#live{color:#080;font-weight:bold}`;

const SCRIPT = `(function(){
var el=document.getElementById("stats");var live=document.getElementById("live");
if(!window.EventSource){live.textContent="no live updates";return;}
var es=new EventSource(el.getAttribute("data-events"));
es.addEventListener("html",function(e){
var a=document.activeElement;
if(a&&a.tagName==="INPUT"&&el.contains(a))return;
el.innerHTML=e.data;live.textContent="live "+new Date().toLocaleTimeString();});
es.onerror=function(){live.textContent="reconnecting";};
})();`;

const LEGEND = [
  ["up", "active UP"],
  ["backup_up", "backup UP"],
  ["going_down", "UP, going down"],
  ["going_up", "DOWN, going up"],
  ["down", "DOWN"],
  ["nocheck", "not checked"],
  ["draining", "DRAIN / NOLB (UP, load balancing off)"],
  ["maint", "MAINT"],
];

/** The whole stats page. */
export function renderPage(model: StatsModel, options: PageOptions): string {
  const u = options.statsUri;
  const banner = options.status
    ? `<div class="banner" id="banner">${
      h(STATUS_MESSAGES[options.status] ?? `Action status: ${options.status}`)
    }</div>`
    : "";
  const legend = LEGEND.map(([c, t]) => `<span class="${c}">${h(t)}</span>`).join("");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Statistics Report for halb</title>
<style>${STYLE}</style></head><body>
<h1>Statistics Report for halb (pid ${model.process.pid})</h1>
<div class="legend">${legend}</div>
<div class="links"><a href="${h(u)};csv">CSV export</a><a href="${h(u)};json">JSON export</a>` +
    `<a href="/metrics">Prometheus metrics</a><span id="live">static</span></div>
${banner}<div id="stats" data-events="${h(options.eventsUri)}">${renderStats(model, options)}</div>
<script>${SCRIPT}</script></body></html>
`;
}
