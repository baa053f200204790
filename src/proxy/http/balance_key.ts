/**
 * The hash key of the HTTP hash-based balance algorithms, cut from the request the way
 * HAProxy's backend.c does (`balance uri`, `url_param`, `hdr(name)`), using the pure helpers of
 * `balance/keys.ts`. `null` means "no key": the engine falls back to round robin, as HAProxy.
 *
 * `url_param` also looks in the body of a POST (`get_server_ph_post`). HAProxy 2.6.12 does so
 * for every `balance url_param` backend: `check_post` is accepted and ignored (verified live:
 * with and without it, a POST body `uid=x` is hashed). Before choosing a server it waits for
 * the body — all of it, or as much as its request buffer holds — answering
 * `Expect: 100-continue` itself; the parameter of the query string wins when present. The
 * helpers here are pure: {@linkcode waitsForBody} says when to wait, {@linkcode bodyWaitLimit}
 * how many body bytes HAProxy's buffer takes, {@linkcode peekRequestBody} decodes the buffered
 * body without consuming it and {@linkcode httpBodyBalanceKey} finds the parameter.
 *
 * @module
 */

import type { Balance } from "../../config/types.ts";
import type { RequestHead } from "../http1/types.ts";
import { CR, HEX, HT, LF, SP, TCHAR } from "../http1/chars.ts";
import { domainOnlyKey, uriKey, urlParamValue } from "../balance/keys.ts";
import { getHeaderValues } from "./headers.ts";
import type { HttpTxn } from "./txn.ts";

const utf8 = new TextEncoder();

/** The key string (before encoding) for `balance` on `txn.req`; null for none. */
export function httpBalanceKeyText(balance: Balance, txn: HttpTxn): string | null {
  const req = txn.req;
  switch (balance.algorithm) {
    case "uri":
      return uriKey(req.target, balance);
    case "url_param": {
      const q = req.target.indexOf("?");
      return q < 0 ? null : urlParamValue(req.target.slice(q + 1), balance.name);
    }
    case "hdr": {
      // HAProxy hashes the first comma-separated value of the header (get_server_hh).
      const t = getHeaderValues(req, balance.name.toLowerCase())[0];
      if (t === undefined || t === "") return null;
      return balance.useDomainOnly ? domainOnlyKey(t) : t;
    }
    default:
      return null;
  }
}

/** The UTF-8 bytes of {@linkcode httpBalanceKeyText}, for `Balancer.pick`; null for none. */
export function httpBalanceKey(balance: Balance, txn: HttpTxn): Uint8Array | null {
  const k = httpBalanceKeyText(balance, txn);
  return k === null ? null : utf8.encode(k);
}

/**
 * True when the server choice must wait for the request body: `balance url_param` and a POST
 * (method exactly `POST`, as HAProxy's method table) that has a body. The query string is not
 * looked at: HAProxy waits even when it carries the parameter.
 */
export function waitsForBody(balance: Balance, req: RequestHead): boolean {
  return balance.algorithm === "url_param" && req.method === "POST" && req.bodyKind !== "none";
}

/**
 * Room of HAProxy 2.6's request buffer for a head and its body, counted the way
 * {@linkcode bodyWaitLimit} counts (tune.bufsize 16384 less tune.maxrewrite 1024, less its HTX
 * overhead); found live.
 */
const BODY_ROOM = 15259;

/** Cost of one header in HAProxy's HTX buffer besides its name and value. */
const HTX_BLOCK = 8;

/**
 * How many body bytes HAProxy waits for behind `req` when the body is longer (then it searches
 * just those): the buffer's room less the head as HAProxy stores it (request line parts, and
 * each header's name, value and 8-byte block). Measured live on 2.6.12: each byte of URI or
 * header lowers it by one, each header by 8 more; 15203 body bytes are waited on and 15204 are
 * not behind `POST /p HTTP/1.1`, `Host: x`, `Content-Length: 100000`.
 */
export function bodyWaitLimit(req: RequestHead): number {
  let used = req.method.length + req.target.length + req.version.length;
  for (const [name, value] of req.headers) used += name.length + value.length + HTX_BLOCK;
  return Math.max(0, BODY_ROOM - used);
}

/** What {@linkcode peekRequestBody} found in the buffered bytes. */
export interface BodyPeek {
  /** The body bytes so far (de-chunked), at most the limit. */
  readonly data: Uint8Array;
  /** Stop waiting: the whole body is there, the limit is reached, or the framing is bad (the
   * forwarding path reports it). */
  readonly complete: boolean;
}

/** Options of {@linkcode peekRequestBody}. */
export interface PeekOptions {
  /** Body bytes after which waiting stops ({@linkcode bodyWaitLimit}). */
  readonly limit: number;
}

/**
 * Decodes the body of `req` from `raw` (the bytes buffered right after its head) without
 * consuming anything: `length` bodies are cut at their length, chunked ones are de-chunked
 * (extensions skipped; complete once the empty line after the last chunk and its trailers is
 * in, as HAProxy).
 */
export function peekRequestBody(raw: Uint8Array, req: RequestHead, options: PeekOptions): BodyPeek {
  const limit = options.limit;
  if (req.bodyKind === "length") {
    const want = Math.min(req.contentLength, limit);
    const n = Math.min(want, raw.length);
    return { data: raw.subarray(0, n), complete: n === want };
  }
  if (req.bodyKind !== "chunked") return { data: raw.subarray(0, 0), complete: true };
  return peekChunked(raw, limit);
}

/** A chunk size beyond this is treated as bad framing (the forwarding path rejects it). */
const MAX_CHUNK = 2 ** 40;
const EMPTY = new Uint8Array(0);

function peekChunked(raw: Uint8Array, limit: number): BodyPeek {
  const parts: Uint8Array[] = [];
  let got = 0;
  let i = 0;
  const result = (complete: boolean): BodyPeek => ({ data: concat(parts, got), complete });
  for (let guard = 0; guard <= raw.length; guard++) {
    if (got >= limit) return result(true);
    // chunk-size [ext] CRLF
    let size = 0;
    let digits = 0;
    while (i < raw.length && HEX[raw[i]] >= 0) {
      size = size * 16 + HEX[raw[i++]];
      digits++;
      if (size > MAX_CHUNK) return result(true);
    }
    while (i < raw.length && (raw[i] === SP || raw[i] === HT)) i++;
    if (i === raw.length) return result(false);
    if (digits === 0) return result(true);
    const c = raw[i];
    if (c === 0x3b) {
      i = raw.indexOf(LF, i);
      if (i < 0) return result(false);
    } else if (c === CR) {
      if (++i === raw.length) return result(false);
      if (raw[i] !== LF) return result(true);
    } else if (c !== LF) return result(true);
    i++;
    // The last chunk: the body ends with the empty line after the trailers.
    if (size === 0) return result(trailersEnd(raw, i - 1));
    const take = Math.min(size, raw.length - i, limit - got);
    if (take > 0) parts.push(raw.subarray(i, i + take));
    got += take;
    if (got >= limit) return result(true);
    if (raw.length - i < size) return result(false);
    i += size;
    // CRLF (or a bare LF) after the data
    if (i < raw.length && raw[i] === CR) i++;
    if (i === raw.length) return result(false);
    if (raw[i] !== LF) return result(true);
    i++;
  }
  return result(true);
}

/** True when an empty line follows the LF at `lf` (directly or after trailer lines). */
function trailersEnd(raw: Uint8Array, lf: number): boolean {
  for (let p = lf; p >= 0 && p < raw.length; p = raw.indexOf(LF, p + 1)) {
    if (raw[p + 1] === LF || (raw[p + 1] === CR && raw[p + 2] === LF)) return true;
  }
  return false;
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 0) return EMPTY;
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The value of parameter `name` in a form-encoded body (`a=1&uid=x`), as HAProxy's
 * get_server_ph_post finds it: the first `name=` at the start of a `&`-separated field, up to
 * the next `&` or the end. HAProxy checks only the value's first byte: a blank (SP, HTAB, CR,
 * LF) makes the value empty, any other non-token byte means "not a form body" (null, round
 * robin); the rest is kept as is, CR LF included. A copy is returned.
 */
export function bodyParamValue(body: Uint8Array, name: string): Uint8Array | null {
  const key = utf8.encode(name);
  const plen = key.length;
  let start = 0;
  while (body.length - start > plen) {
    if (body[start + plen] === 0x3d && bytesAt(body, start, key)) {
      const v = start + plen + 1;
      if (v === body.length || body[v] === 0x26) return body.slice(v, v);
      const first = body[v];
      if (TCHAR[first] === 0) {
        if (first === SP || first === HT || first === CR || first === LF) {
          return body.slice(v, v);
        }
        return null;
      }
      let e = body.indexOf(0x26, v);
      if (e < 0) e = body.length;
      return body.slice(v, e);
    }
    const amp = body.indexOf(0x26, start);
    if (amp < 0) return null;
    start = amp + 1;
  }
  return null;
}

function bytesAt(body: Uint8Array, at: number, key: Uint8Array): boolean {
  for (let k = 0; k < key.length; k++) {
    if (body[at + k] !== key[k]) return false;
  }
  return true;
}

/** The hash key {@linkcode bodyParamValue} gives for `balance` (null: none, or not url_param). */
export function httpBodyBalanceKey(balance: Balance, body: Uint8Array): Uint8Array | null {
  return balance.algorithm === "url_param" ? bodyParamValue(body, balance.name) : null;
}
