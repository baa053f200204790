/**
 * HAProxy's HTTP traffic log line, `option httplog`:
 * `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq
 * %{+Q}r` (no captures, so `%hr`/`%hs` print nothing and `%CC`/`%CS` print `-`). Pure
 * formatting: the HTTP engine fills an {@linkcode HttpLogRecord}.
 *
 * @module
 */
import { formatLogDate } from "./format.ts";

/** The fields of one httplog line, named after HAProxy's log-format variables (a type alias of
 * plain fields, so it serves as JSON log fields as it is). */
export type HttpLogRecord = {
  /** `%ci:%cp`, already formatted. */
  readonly clientPeer: string;
  /** `%tr`: when the first byte of the request arrived (epoch ms). */
  readonly requestDate: number;
  /** `%ft`: frontend name, with `~` appended for a TLS connection. */
  readonly frontendName: string;
  /** `%b`; the frontend name when no backend was selected. */
  readonly backendName: string;
  /** `%s`; null prints `<NOSRV>`. */
  readonly serverName: string | null;
  /** `%TR`: ms to receive the full request head (-1 if never complete). */
  readonly treq: number;
  /** `%Tw`: ms in queues (-1 if never reached). */
  readonly tw: number;
  /** `%Tc`: ms to connect to the server (-1 if never connected). */
  readonly tc: number;
  /** `%Tr`: ms for the server to send the response head (-1 if none). */
  readonly tr: number;
  /** `%Ta`: ms from the request's first byte to the end of the response. */
  readonly ta: number;
  /** `%ST`: status sent to the client (-1 when none). */
  readonly status: number;
  /** `%B`: bytes sent to the client. */
  readonly bytesToClient: number;
  /** `%tsc`: four-character termination state, e.g. `----`, `LR--`, `sH--`. */
  readonly termination: string;
  readonly actconn: number;
  readonly feconn: number;
  readonly beconn: number;
  readonly srvconn: number;
  readonly retries: number;
  readonly redispatched: boolean;
  readonly srvQueue: number;
  readonly backendQueue: number;
  /** `%r`: the request line as received, or null for `<BADREQ>`. */
  readonly requestLine: string | null;
};

/** Formats an `option httplog` line, byte for byte as HAProxy 2.6 with `format raw`. */
export function formatHttpLog(r: HttpLogRecord): string {
  return r.clientPeer + " [" + formatLogDate(r.requestDate) + "] " + r.frontendName + " " +
    r.backendName + "/" + (r.serverName ?? "<NOSRV>") + " " + r.treq + "/" + r.tw + "/" + r.tc +
    "/" + r.tr + "/" + r.ta + " " + r.status + " " + r.bytesToClient + " - - " + r.termination +
    " " + r.actconn + "/" + r.feconn + "/" + r.beconn + "/" + r.srvconn + "/" +
    (r.redispatched ? "+" : "") + r.retries + " " + r.srvQueue + "/" + r.backendQueue + ' "' +
    (r.requestLine ?? "<BADREQ>") + '"';
}
