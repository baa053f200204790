/**
 * HAProxy `bind` and `server` lines: address conversion to halb's forms and their parameters,
 * mapped where halb has them and warned about where it has not.
 *
 * @module
 */

import type { Directive, Word } from "./haproxy_parse.ts";
import type { HaCtx, ProxyState } from "./haproxy_proxy.ts";
import { toDuration } from "./source.ts";
import { elem, type InlineTable, type Notes, type Value } from "./toml_doc.ts";

function notesOf(d: Directive): Notes {
  return { comments: [...d.comments], trailing: d.trailing };
}

/** Bind parameters that take a value (skipped with a warning when unsupported). */
const BIND_ARG = new Set([
  "name",
  "maxconn",
  "process",
  "ciphers",
  "ciphersuites",
  "ssl-min-ver",
  "ssl-max-ver",
  "curves",
  "ecdhe",
  "ca-file",
  "crl-file",
  "verify",
  "npn",
  "crt-list",
  "interface",
  "namespace",
  "mss",
  "mode",
  "uid",
  "gid",
  "user",
  "group",
  "level",
  "severity-output",
  "backlog",
  "id",
  "nice",
  "tcp-ut",
  "thread",
  "tls-ticket-keys",
  "expose-fd",
  "proto",
  "label",
  "sigalgs",
  "client-sigalgs",
  "ca-verify-file",
  "crt-ignore-err",
  "ca-ignore-err",
  "accept-netscaler-cip",
]);

/** Converts an HAProxy bind address to halb's form, or explains why it cannot. */
export function bindAddress(text: string): string | { why: string } {
  let a = text;
  if (a.startsWith("unix@") || a.startsWith("/")) return a;
  if (/^(abns|fd|sockpair|udp[46]?|quic[46]?)@/.test(a)) {
    return { why: `halb cannot listen on "${a}"` };
  }
  const v6 = a.startsWith("ipv6@");
  a = a.replace(/^ipv[46]@/, "").replace(/^tcp[46]?@/, "");
  const colon = a.lastIndexOf(":");
  if (colon < 0) return { why: `missing port in "${text}"` };
  let host = a.slice(0, colon);
  const port = a.slice(colon + 1);
  if (!/^\d+$/.test(port)) return { why: `port range or bad port "${port}" in "${text}"` };
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (host === "localhost") host = "127.0.0.1";
  if (host === "" && !v6) return `:${port}`;
  if (host === "*" || host === "0.0.0.0") return `${host}:${port}`;
  if (host === "" || host.includes(":")) return `[${host === "" ? "::" : host}]:${port}`;
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(host)) {
    return { why: `"${host}" is not an IP address (halb binds literal IPs)` };
  }
  return `${host}:${port}`;
}

/** Maps a `bind` line into the proxy's binds. */
export function mapBind(ctx: HaCtx, p: ProxyState, d: Directive): void {
  const warn = (why: string) => ctx.ledger.warn(d.src, "bind", why);
  const addrs = (d.words[1]?.text ?? "").split(",").filter((a) => a !== "");
  const crt: string[] = [];
  let alpn: string[] | null = null;
  let ssl = false;
  const dropped: string[] = [];
  const w = d.words.map((x) => x.text);
  for (let i = 2; i < w.length; i++) {
    const k = w[i];
    if (k === "ssl") ssl = true;
    else if (k === "crt" && w[i + 1] !== undefined) {
      const path = w[++i];
      crt.push(ctx.crtBase !== null && !path.startsWith("/") ? `${ctx.crtBase}/${path}` : path);
    } else if (k === "alpn" && w[i + 1] !== undefined) alpn = w[++i].split(",");
    else if (BIND_ARG.has(k) && w[i + 1] !== undefined) dropped.push(`${k} ${w[++i]}`);
    else dropped.push(k);
  }
  if (addrs.length === 0) return warn("missing address");
  ctx.ledger.mapped(d.src);
  if (dropped.length > 0) warn(`halb has no bind parameter ${dropped.join(", ")}`);
  if (ssl && crt.length === 0) {
    return warn("ssl without crt (crt-list or default certificates) cannot be expressed");
  }
  if (!ssl && crt.length > 0) warn("crt without ssl: halb enables TLS whenever crt is given");
  let first = true;
  for (const a of addrs) {
    const addr = bindAddress(a);
    if (typeof addr !== "string") {
      warn(addr.why);
      continue;
    }
    const value: Value = crt.length === 0
      ? addr
      : { address: addr, crt, ...(alpn === null ? {} : { alpn }) };
    p.binds.push(elem(value, d.src, first ? notesOf(d) : {}));
    first = false;
  }
}

const SERVER_ARG = new Set([
  "port",
  "addr",
  "ca-file",
  "crt",
  "ciphers",
  "ciphersuites",
  "resolvers",
  "resolve-prefer",
  "resolve-opts",
  "resolve-net",
  "init-addr",
  "on-error",
  "on-marked-down",
  "on-marked-up",
  "observe",
  "error-limit",
  "track",
  "agent-port",
  "agent-inter",
  "agent-send",
  "agent-addr",
  "check-sni",
  "proto",
  "alpn",
  "check-alpn",
  "check-proto",
  "pool-max-conn",
  "pool-purge-delay",
  "pool-low-conn",
  "max-reuse",
  "source",
  "namespace",
  "usesrc",
  "ssl-min-ver",
  "ssl-max-ver",
  "crl-file",
  "socks4",
  "proxy-v2-options",
  "ws",
  "log-proto",
  "curves",
  "sigalgs",
  "minconn",
  "tcp-ut",
  "shard",
  "hash-key",
  "redir",
]);

const SERVER_TIME = new Set(["inter", "fastinter", "downinter", "slowstart"]);
const SERVER_INT = new Set(["rise", "fall", "weight", "maxconn", "maxqueue", "id"]);
const SERVER_FLAG: Record<string, [string, boolean]> = {
  check: ["check", true],
  "no-check": ["check", false],
  backup: ["backup", true],
  "no-backup": ["backup", false],
  disabled: ["disabled", true],
  enabled: ["disabled", false],
  ssl: ["ssl", true],
  "no-ssl": ["ssl", false],
  "check-ssl": ["check_ssl", true],
};

/** Parses server (or default-server) parameters into halb server keys, warning about the rest. */
export function serverParams(
  ctx: HaCtx,
  d: Directive,
  words: readonly Word[],
): Record<string, Value> {
  const out: Record<string, Value> = {};
  const dropped: string[] = [];
  const w = words.map((x) => x.text);
  for (let i = 0; i < w.length; i++) {
    const k = w[i];
    const v = w[i + 1];
    const flag = SERVER_FLAG[k];
    if (flag !== undefined) out[flag[0]] = flag[1];
    else if (SERVER_TIME.has(k) && v !== undefined) {
      i++;
      const dur = toDuration(v, "ms");
      if (dur === null) dropped.push(`${k} ${v}`);
      else out[k] = dur;
    } else if (SERVER_INT.has(k) && v !== undefined && /^\d+$/.test(v)) {
      i++;
      out[k] = Number(v);
    } else if (k === "cookie" && v !== undefined) {
      i++;
      out.cookie = v;
    } else if (k === "verify" && (v === "none" || v === "required")) {
      i++;
      out.verify = v;
    } else if (k === "sni" && v !== undefined) {
      i++;
      const m = /^str\((.*)\)$/.exec(v);
      if (m === null) dropped.push(`sni ${v} (only str(NAME))`);
      else out.sni = m[1];
    } else if (SERVER_ARG.has(k) && v !== undefined) {
      i++;
      dropped.push(`${k} ${v}`);
    } else dropped.push(k);
  }
  if (dropped.length > 0) {
    ctx.ledger.warn(d.src, d.words[0].text, `halb has no server parameter ${dropped.join(", ")}`);
  }
  return out;
}

/** Converts an HAProxy server address to halb's `host:port`, or explains why it cannot. */
export function serverAddress(text: string): string | { why: string } {
  const a = text.replace(/^ipv[46]@/, "");
  if (/^[a-z0-9]+@/.test(a)) return { why: `halb cannot connect to "${text}"` };
  if (a.startsWith("[")) return a;
  const colon = a.lastIndexOf(":");
  if (colon < 0) return { why: `no port in "${text}" (HAProxy would use the client's port)` };
  const host = a.slice(0, colon);
  const port = a.slice(colon + 1);
  if (!/^\d+$/.test(port)) return { why: `port "${port}" in "${text}" is not a fixed port` };
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Maps a `server` line into the proxy's servers. */
export function mapServer(ctx: HaCtx, p: ProxyState, d: Directive): void {
  const name = d.words[1]?.text;
  const addrText = d.words[2]?.text;
  if (name === undefined || addrText === undefined) {
    ctx.ledger.warn(d.src, "server", "expected NAME ADDRESS");
    return;
  }
  let addr = serverAddress(addrText);
  if (typeof addr !== "string" && !addrText.includes(":") && p.section.kind === "listen") {
    const port = listenPort(p);
    if (port !== null) addr = `${addrText}:${port}`;
  }
  if (typeof addr !== "string") {
    ctx.ledger.warn(d.src, "server", addr.why);
    return;
  }
  ctx.ledger.mapped(d.src);
  const fields = { name, address: addr, ...serverParams(ctx, d, d.words.slice(3)) };
  p.servers.push({ name, fields, src: d.src, notes: notesOf(d) });
}

/** The single port a listen section binds, which a server without a port connects to. */
function listenPort(p: ProxyState): number | null {
  const ports = new Set<string>();
  for (const b of p.binds) {
    const a = typeof b.value === "string" ? b.value : (b.value as InlineTable).address as string;
    ports.add(a.slice(a.lastIndexOf(":") + 1));
  }
  return ports.size === 1 ? Number([...ports][0]) : null;
}
