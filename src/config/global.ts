/**
 * Compiles `[global]`, `[global.notify]` and `[admin]`.
 *
 * @module
 */

import { isLocalOnly, parseListenAddress, parseServerAddress } from "./address.ts";
import type { Table } from "./table.ts";
import type { AdminConfig, GlobalConfig, LogLevel, LogTarget, NotifyConfig } from "./types.ts";

/** Parses `log`: "stdout" | "stderr" | "syslog:/dev/log" | "syslog:udp://host:port". */
export function parseLogTarget(text: string): LogTarget | string {
  if (text === "stdout" || text === "stderr") return { kind: text };
  if (text.startsWith("syslog:udp://")) {
    const r = parseServerAddress(text.slice("syslog:udp://".length), { defaultPort: 514 });
    if (!r.ok) return r.error;
    return { kind: "syslog-udp", host: r.value.host, port: r.value.port };
  }
  if (text.startsWith("syslog:")) {
    const path = text.slice("syslog:".length);
    if (!path.startsWith("/")) {
      return `syslog needs an absolute socket path, e.g. "syslog:/dev/log"`;
    }
    return { kind: "syslog-unix", path };
  }
  return `invalid log target "${text}" (expected "stdout", "stderr", "syslog:/dev/log" or ` +
    `"syslog:udp://host:port")`;
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;

function compileNotify(t: Table): NotifyConfig | null {
  const emailTo = t.strings("email_to");
  emailTo.forEach((e, i) => {
    if (!EMAIL.test(e)) t.error("email_to", `"${e}" is not an email address`, i);
  });
  if (t.has("email_to") && emailTo.length === 0) t.error("email_to", "no recipient given");
  const emailFrom = t.text("email_from");
  if (!EMAIL.test(emailFrom)) t.error("email_from", `"${emailFrom}" is not an email address`);
  if (!t.has("smtp_server")) return null;
  const server = parseServerAddress(t.text("smtp_server"), { defaultPort: 25 });
  if (!server.ok) {
    t.error("smtp_server", server.error);
    return null;
  }
  return {
    emailTo,
    emailFrom,
    smtpServer: server.value,
    smtpConnectTimeout: t.duration("smtp_connect_timeout"),
  };
}

/** Compiles `[global]` (a null table gives every default). */
export function compileGlobal(t: Table | null): GlobalConfig {
  const probe = t?.ctx.probe;
  for (const key of ["user", "group"] as const) {
    const name = t?.optText(key) ?? null;
    if (t === null || probe === undefined || name === null) continue;
    const exists = key === "user" ? probe.userExists(name) : probe.groupExists(name);
    if (!exists) t.warn(key, `${key} "${name}" does not exist on this machine`);
  }
  let log: LogTarget = { kind: "stdout" };
  if (t !== null && t.has("log")) {
    const r = parseLogTarget(t.text("log"));
    if (typeof r === "string") t.error("log", r);
    else log = r;
  }
  const notifyTable = t?.table("notify") ?? null;
  return {
    maxconn: t?.int("maxconn") ?? 4096,
    nbthread: t?.int("nbthread") ?? 1,
    user: t?.optText("user") ?? null,
    group: t?.optText("group") ?? null,
    pidfile: t?.optText("pidfile") ?? null,
    log,
    logFacility: t?.text("log_facility") ?? "daemon",
    logLevel: (t?.text("log_level") ?? "info") as LogLevel,
    logFormat: (t?.text("log_format") ?? "text") as "text" | "json",
    gracePeriod: t?.duration("grace") ?? 10_000,
    notify: notifyTable === null ? null : compileNotify(notifyTable),
  };
}

/** Compiles `[admin]`. */
export function compileAdmin(t: Table): AdminConfig | null {
  if (!t.has("bind")) return null;
  const bind = parseListenAddress(t.text("bind"));
  if (!bind.ok) t.error("bind", bind.error);
  const auth: { user: string; password: string }[] = [];
  t.strings("auth").forEach((entry, i) => {
    const colon = entry.indexOf(":");
    if (colon <= 0) t.error("auth", `expected "user:password", found "${entry}"`, i);
    else auth.push({ user: entry.slice(0, colon), password: entry.slice(colon + 1) });
  });
  if (bind.ok && !isLocalOnly(bind.value) && !t.has("auth")) {
    t.ctx.diags.error(
      t.at("bind"),
      `admin.auth is required when the admin endpoint listens on "${bind.value.text}" ` +
        `(only a loopback address or unix socket may go without it)`,
    );
  }
  const statsUri = t.text("stats_uri");
  if (!statsUri.startsWith("/")) t.error("stats_uri", `stats_uri must start with "/"`);
  const realm = t.text("realm");
  if (realm.includes('"')) t.error("realm", "realm must not contain a double quote");
  const socket = t.optText("socket");
  if (socket !== null && socket === "") t.error("socket", "empty socket path");
  if (!bind.ok) return null;
  return {
    bind: bind.value,
    statsUri,
    realm,
    auth,
    refresh: t.optDuration("refresh"),
    allowChanges: t.bool("allow_changes"),
    socket,
  };
}
