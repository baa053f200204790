/**
 * HAProxy's TCP traffic log lines: `option tcplog`
 * (`%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq`) and the "Connect
 * from" line HAProxy emits at accept time when no log option is set. Pure formatting: the TCP
 * engine fills a {@linkcode TcpLogRecord} and calls these.
 *
 * @module
 */
import { formatLogDate } from "./format.ts";
import type { LogFields } from "./logger.ts";

/** The fields of one tcplog line, named after HAProxy's log-format variables. */
export interface TcpLogRecord {
  /** `%ci:%cp`, already formatted (see `formatPeer`). */
  readonly clientPeer: string;
  /** Accept time, epoch milliseconds (`%t`). */
  readonly acceptDate: number;
  /** `%ft`. */
  readonly frontendName: string;
  /** `%b`. */
  readonly backendName: string;
  /** `%s`; null prints `<NOSRV>`. */
  readonly serverName: string | null;
  /** `%Tw`: ms spent in queues; -1 when the queue phase was never reached. */
  readonly tw: number;
  /** `%Tc`: ms to establish the server connection; -1 when never established. */
  readonly tc: number;
  /** `%Tt`: ms from accept to close. */
  readonly tt: number;
  /** `%B`: bytes sent to the client. */
  readonly bytesToClient: number;
  /** `%ts`: the two-letter termination state, e.g. `--`, `SC`, `sQ`, `cD`. */
  readonly termination: string;
  /** `%ac`: process-wide connections at log time. */
  readonly actconn: number;
  /** `%fc`: frontend connections at log time. */
  readonly feconn: number;
  /** `%bc`: backend connections at log time. */
  readonly beconn: number;
  /** `%sc`: server connections at log time. */
  readonly srvconn: number;
  /** `%rc`: connection retries. */
  readonly retries: number;
  /** Printed as a `+` before `%rc` when the session was redispatched. */
  readonly redispatched: boolean;
  /** `%sq`: position in the server queue (0 when not queued there). */
  readonly srvQueue: number;
  /** `%bq`: position in the backend queue (0 when not queued there). */
  readonly backendQueue: number;
}

/** Formats an `option tcplog` line, byte for byte as HAProxy 2.6 with `format raw`. */
export function formatTcpLog(r: TcpLogRecord): string {
  return r.clientPeer + " [" + formatLogDate(r.acceptDate) + "] " + r.frontendName + " " +
    r.backendName + "/" + (r.serverName ?? "<NOSRV>") + " " + r.tw + "/" + r.tc + "/" + r.tt +
    " " + r.bytesToClient + " " + r.termination + " " + r.actconn + "/" + r.feconn + "/" +
    r.beconn + "/" + r.srvconn + "/" + (r.redispatched ? "+" : "") + r.retries + " " +
    r.srvQueue + "/" + r.backendQueue;
}

/**
 * Formats the line HAProxy logs at accept time when neither tcplog nor httplog is set:
 * `Connect from 127.0.0.1:49684 to 127.0.0.1:8080 (fe_tcp/TCP)`.
 */
export function formatConnectLine(
  clientPeer: string,
  options: { localPeer: string; frontendName: string; mode: "tcp" | "http" },
): string {
  return "Connect from " + clientPeer + " to " + options.localPeer + " (" + options.frontendName +
    "/" + (options.mode === "tcp" ? "TCP" : "HTTP") + ")";
}

/** The record's fields as plain data (for JSON log output). */
export function tcpLogFields(r: TcpLogRecord): LogFields {
  return {
    clientPeer: r.clientPeer,
    acceptDate: r.acceptDate,
    frontendName: r.frontendName,
    backendName: r.backendName,
    serverName: r.serverName,
    tw: r.tw,
    tc: r.tc,
    tt: r.tt,
    bytesToClient: r.bytesToClient,
    termination: r.termination,
    actconn: r.actconn,
    feconn: r.feconn,
    beconn: r.beconn,
    srvconn: r.srvconn,
    retries: r.retries,
    redispatched: r.redispatched,
    srvQueue: r.srvQueue,
    backendQueue: r.backendQueue,
  };
}
