/**
 * One HTTP transaction as the L7 rules see it: the connection's facts, the request head (which
 * rules rewrite in place), the response head once the server answered, and the transaction
 * variables. The engine owns the I/O; ACLs, sample fetches, rules, redirects, forwardfor and
 * cookie persistence are pure functions over this object.
 *
 * @module
 */
import type { RequestHead, ResponseHead } from "../http1/types.ts";
import { addrHost, addrPort, type ClientConn } from "../io.ts";

/** Facts of the client connection, fixed for its lifetime. */
export interface ConnInfo {
  /** Client address (IPv4 dotted or IPv6 text, no brackets); "" for unix sockets. */
  readonly src: string;
  readonly srcPort: number;
  /** Local address the client connected to. */
  readonly dst: string;
  readonly dstPort: number;
  /** True when the connection came in on a TLS bind. */
  readonly ssl: boolean;
  /** SNI the client sent (TLS only), else null. */
  readonly sni: string | null;
  /** Negotiated ALPN protocol (TLS only), else null. */
  readonly alpn: string | null;
  /** TLS protocol version such as "TLSv1.3" (TLS only), else null. */
  readonly tlsVersion: string | null;
}

/** One request/response exchange on a client connection. */
export interface HttpTxn {
  readonly conn: ConnInfo;
  /** The request head; rules mutate `headers`/`lowerNames` (kept parallel) and `target`. */
  req: RequestHead;
  /** The response head once received (response rules mutate it); null before. */
  res: ResponseHead | null;
  /** `set-var(txn.NAME)` values, keyed by the full name ("txn.NAME"). */
  readonly vars: Map<string, string>;
  /** Name of the frontend handling the request. */
  readonly frontend: string;
  /** The backend once selected, else null. */
  backend: string | null;
  /** The server once assigned, else null. */
  server: string | null;
}

/** The facts of a client connection, as the rules see them. */
export function connInfo(conn: ClientConn): ConnInfo {
  return {
    src: addrHost(conn.remoteAddr),
    srcPort: addrPort(conn.remoteAddr),
    dst: addrHost(conn.localAddr),
    dstPort: addrPort(conn.localAddr),
    ssl: conn.tls !== undefined,
    sni: conn.tls?.sni ?? null,
    alpn: conn.tls?.alpn ?? null,
    tlsVersion: conn.tls?.version ?? null,
  };
}
