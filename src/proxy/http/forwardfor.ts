/**
 * `option forwardfor`: append `X-Forwarded-For: <client ip>` (or the configured header) to the
 * request. Observed on haproxy 2.6.12: the header is a new line at the end of the list, after
 * headers added by `http-request` rules; an existing one from the client is left untouched and
 * not merged. `except <net>` skips clients in that network; `if-none` skips requests that
 * already carry the header.
 *
 * @module
 */

import type { ForwardFor } from "../../config/types.ts";
import { ipInNetwork } from "./acl.ts";
import { addHeader } from "./headers.ts";
import type { HttpTxn } from "./txn.ts";

/**
 * Adds the forwarded-for header to `txn.req` as HAProxy does; returns true when it was added.
 * Nothing is added for a unix-socket client (no address).
 */
export function applyForwardFor(ff: ForwardFor, txn: HttpTxn): boolean {
  const src = txn.conn.src;
  if (src === "") return false;
  if (ff.except !== null && ipInNetwork(src, ff.except)) return false;
  const lower = ff.header.toLowerCase();
  if (ff.ifNone && txn.req.lowerNames.includes(lower)) return false;
  addHeader(txn.req, ff.header, src);
  return true;
}
