/**
 * Test helper of the L7 logic tests: a transaction built with the real parsers from readable
 * text (`\n` line ends), with fixed documentation-range connection facts.
 *
 * @module
 */
import { parseRequestHead, parseResponseHead } from "../http1/head.ts";
import { isParseError, type ResponseHead } from "../http1/types.ts";
import type { ConnInfo, HttpTxn } from "./txn.ts";

/** A transaction for request text `raw`, optional response text `res`, connection overrides. */
export function txnOf(raw: string, res?: string, conn: Partial<ConnInfo> = {}): HttpTxn {
  const span = (s: string) => {
    const buf = new TextEncoder().encode(s.replaceAll("\n", "\r\n") + "\r\n");
    return { buf, base: 0, start: 0, end: buf.length };
  };
  const req = parseRequestHead(span(raw), { maxHeaders: 100 });
  if (isParseError(req)) throw new Error(`bad test request: ${req.reason}`);
  let head: ResponseHead | null = null;
  if (res !== undefined) {
    const r = parseResponseHead(span(res), { maxHeaders: 100 }, req.method);
    if (isParseError(r)) throw new Error(`bad test response: ${r.reason}`);
    head = r;
  }
  return {
    conn: {
      src: "192.0.2.7",
      srcPort: 40000,
      dst: "198.51.100.1",
      dstPort: 80,
      ssl: false,
      sni: null,
      alpn: null,
      tlsVersion: null,
      ...conn,
    },
    req,
    res: head,
    vars: new Map(),
    frontend: "fe",
    backend: null,
    server: null,
  };
}
