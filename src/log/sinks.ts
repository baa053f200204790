/**
 * Log sinks: the console (stdout/stderr) and syslog over a unix datagram socket (`/dev/log`) or
 * UDP, in RFC 3164 framing as HAProxy and keepalived send it. Writes never throw: a syslog
 * daemon that is down costs the line, not the process.
 *
 * @module
 */
import type { LogLevel, LogTarget } from "../config/types.ts";
import { LOG_LEVELS } from "../config/types.ts";
import type { LogEntry, LogSink } from "./logger.ts";

/** Syslog facility names and their codes (RFC 5424 §6.2.1). */
export const FACILITIES: Readonly<Record<string, number>> = Object.freeze({
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
});

/** Options for {@linkcode createSink}. */
export interface SinkOptions {
  format: "text" | "json";
  facility: string;
  /** Program name in syslog headers; default "halb". */
  tag?: string;
  /** Clock for timestamps (tests); default `Date.now`. */
  now?: () => number;
}

const encoder = new TextEncoder();
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * Formats an entry's text. Text mode: traffic lines as they are (HAProxy's raw format), events as
 * `[LEVEL] message`. JSON mode: one object per line with time, level, kind and msg, plus a
 * traffic line's fields (client, frontend, backend, server, timers, status, bytes, ...).
 */
export function formatEntry(
  entry: LogEntry,
  options: { format: "text" | "json"; now: number },
): string {
  if (options.format === "json") {
    return JSON.stringify({
      time: new Date(options.now).toISOString(),
      level: entry.level,
      kind: entry.kind,
      msg: entry.line,
      ...entry.fields,
    });
  }
  return entry.kind === "traffic" ? entry.line : `[${entry.level.toUpperCase()}] ${entry.line}`;
}

/** RFC 3164 header: `<PRI>Mmm dd hh:mm:ss TAG[PID]: `. */
export function syslogHeader(
  level: LogLevel,
  options: { facility: number; tag: string; pid: number; now: number },
): string {
  const pri = options.facility * 8 + LOG_LEVELS.indexOf(level);
  const d = new Date(options.now);
  const day = String(d.getDate()).padStart(2, " ");
  const time = [d.getHours(), d.getMinutes(), d.getSeconds()]
    .map((n) => String(n).padStart(2, "0"))
    .join(":");
  return `<${pri}>${MONTHS[d.getMonth()]} ${day} ${time} ${options.tag}[${options.pid}]: `;
}

/** Creates the sink for a configured target. */
export function createSink(target: LogTarget, options: SinkOptions): LogSink {
  const now = options.now ?? Date.now;
  if (target.kind === "stdout" || target.kind === "stderr") {
    const file = target.kind === "stdout" ? Deno.stdout : Deno.stderr;
    return {
      write(entry) {
        const text = formatEntry(entry, { format: options.format, now: now() });
        try {
          file.writeSync(encoder.encode(text + "\n"));
        } catch {
          // A closed console must not stop the proxy.
        }
      },
      close() {},
    };
  }
  return syslogSink(target, options);
}

function syslogSink(
  target: Extract<LogTarget, { kind: "syslog-unix" | "syslog-udp" }>,
  options: SinkOptions,
): LogSink {
  const facility = FACILITIES[options.facility] ?? FACILITIES.local0;
  const tag = options.tag ?? "halb";
  const now = options.now ?? Date.now;
  let conn: Deno.DatagramConn | null = null;
  let dest: Deno.Addr;
  if (target.kind === "syslog-udp") {
    dest = { transport: "udp", hostname: target.host, port: target.port };
  } else {
    dest = { transport: "unixpacket", path: target.path } as Deno.Addr;
  }
  function open(): Deno.DatagramConn {
    if (conn) return conn;
    if (target.kind === "syslog-udp") {
      const any = target.host.includes(":") ? "::" : "0.0.0.0";
      conn = Deno.listenDatagram({ transport: "udp", hostname: any, port: 0 });
    } else {
      // An abstract name: nothing is written to the file system (works under ProtectSystem).
      conn = Deno.listenDatagram({
        transport: "unixpacket",
        path: `\0halb-log/${Deno.pid}/${crypto.randomUUID()}`,
      });
    }
    return conn;
  }
  return {
    write(entry) {
      const t = now();
      const body = entry.kind === "traffic" && options.format === "text"
        ? entry.line
        : formatEntry(entry, { format: options.format, now: t });
      const header = syslogHeader(entry.level, { facility, tag, pid: Deno.pid, now: t });
      try {
        open().send(encoder.encode(header + body), dest).catch(() => {});
      } catch {
        // The syslog daemon is unreachable: drop the line, keep serving.
      }
    },
    close() {
      conn?.close();
      conn = null;
    },
  };
}
