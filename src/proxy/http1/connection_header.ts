/**
 * Connection management for an HTTP/1 proxy hop, mirroring HAProxy 2.6 (reference §1.7 and the
 * verified matrix in connection_header_test.ts):
 * - `keep-alive` (default, KAL): both sides persistent;
 * - `server-close` (`option http-server-close`, SCL): server side closed after each response;
 * - `close` (`option httpclose`, CLO): both sides closed after the response.
 *
 * HAProxy does not strip the hop-by-hop headers a `Connection` header names (nor `Keep-Alive`,
 * `TE`): it only removes the `close` / `keep-alive` tokens and adds the one it needs
 * (verified). `forwardRequestHeaders`/`forwardResponseHeaders` do the same; `stripHopByHop`
 * is the strict RFC 9110 §7.6.1 alternative.
 *
 * @module
 */

import { trimLws } from "./head.ts";
import { equalsLower } from "./chars.ts";
import type { HeaderList, RequestHead, ResponseHead } from "./types.ts";

/** HAProxy connection mode (the strongest of frontend and backend settings wins). */
export type HttpConnectionMode = "keep-alive" | "server-close" | "close";

/** Options of the forwarding helpers. */
export interface ForwardOptions {
  /** Connection mode; default `keep-alive`. */
  mode?: HttpConnectionMode;
}

/** Lower-case tokens of every `Connection` header of a message, in order. */
export function connectionTokens(headers: HeaderList): string[] {
  const out: string[] = [];
  for (const [name, value] of headers) {
    if (name.length !== 10 || name.toLowerCase() !== "connection") continue;
    for (const part of value.split(",")) {
      const t = trimLws(part).toLowerCase();
      if (t.length > 0) out.push(t);
    }
  }
  return out;
}

/** Whether the client connection stays open after the response to `req`. */
export function clientKeepsAlive(req: RequestHead, options: ForwardOptions = {}): boolean {
  return (options.mode ?? "keep-alive") !== "close" && req.keepAlive && !req.mustClose;
}

/** Whether the server connection can be reused after response `res`. */
export function serverKeepsAlive(res: ResponseHead, options: ForwardOptions = {}): boolean {
  return (options.mode ?? "keep-alive") === "keep-alive" && res.keepAlive;
}

/**
 * The `connection:` value HAProxy appends to its own error/deny responses for this request:
 * `close` when the client does not keep alive, `keep-alive` for an HTTP/1.0 keep-alive client,
 * undefined for a plain HTTP/1.1 client (verified).
 */
export function errorConnectionValue(
  req: RequestHead,
  options: ForwardOptions = {},
): "close" | "keep-alive" | undefined {
  if (!clientKeepsAlive(req, options)) return "close";
  return req.http11 ? undefined : "keep-alive";
}

/** Copies `headers` without the `close`/`keep-alive` tokens of Connection headers (dropping a
 * Connection header left empty) and with `token` added (to the first remaining Connection
 * header, or as a new `connection` header at the end). */
function rewriteConnection(headers: HeaderList, token: string | null): HeaderList {
  // The common case, no Connection header to rewrite: no copy (callers only read the result).
  if (
    token === null && !headers.some((h) => h[0].length === 10 && equalsLower(h[0], "connection"))
  ) {
    return headers;
  }
  const out: HeaderList = [];
  let first = -1;
  for (const h of headers) {
    if (h[0].length !== 10 || h[0].toLowerCase() !== "connection") {
      out.push(h);
      continue;
    }
    const kept: string[] = [];
    for (const part of h[1].split(",")) {
      const t = trimLws(part);
      const l = t.toLowerCase();
      if (t.length > 0 && l !== "close" && l !== "keep-alive") kept.push(t);
    }
    if (kept.length === 0) continue;
    if (first < 0) first = out.length;
    out.push([h[0], kept.join(", ")]);
  }
  if (token !== null) {
    if (first >= 0) out[first] = [out[first][0], out[first][1] + ", " + token];
    else out.push(["connection", token]);
  }
  return out;
}

/**
 * Headers to send to the server for `req`: a kept-alive server connection needs
 * `connection: keep-alive` for an HTTP/1.0 request; a closed one needs `connection: close` for
 * an HTTP/1.1 request (verified for KAL, SCL, CLO).
 */
export function forwardRequestHeaders(req: RequestHead, options: ForwardOptions = {}): HeaderList {
  const keep = (options.mode ?? "keep-alive") === "keep-alive";
  let token: string | null = null;
  // An HTTP/1.0 request with a chunked body gets no keep-alive token (HAProxy 2.6, verified).
  if (keep && !req.http11 && req.bodyKind !== "chunked") token = "keep-alive";
  else if (!keep && req.http11) token = "close";
  return rewriteConnection(req.headers, token);
}

/**
 * Headers to send to the client for response `res` to `req`: `connection: keep-alive` when the
 * client connection is kept and either message is HTTP/1.0; `connection: close` when it is not
 * kept and the response is HTTP/1.1; the server's own close/keep-alive tokens are dropped
 * (verified). Tunnel responses (101, CONNECT 2xx) only lose those tokens.
 */
export function forwardResponseHeaders(
  res: ResponseHead,
  req: RequestHead,
  options: ForwardOptions = {},
): HeaderList {
  let token: string | null = null;
  if (res.bodyKind !== "tunnel") {
    const keep = clientKeepsAlive(req, options);
    if (keep && (!res.http11 || !req.http11)) token = "keep-alive";
    else if (!keep && res.http11) token = "close";
  }
  return rewriteConnection(res.headers, token);
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "transfer-encoding",
  "upgrade",
  "proxy-authenticate",
  "proxy-authorization",
  "trailer",
]);

/**
 * Strict RFC 9110 §7.6.1 removal: drops Connection, every field it names, and the classic
 * hop-by-hop fields (Keep-Alive, Proxy-Connection, TE, Transfer-Encoding, Upgrade, Trailer,
 * Proxy-Authenticate, Proxy-Authorization). Not what HAProxy does; for a strict mode.
 */
export function stripHopByHop(headers: HeaderList): HeaderList {
  const named = new Set(connectionTokens(headers));
  const out: HeaderList = [];
  for (const h of headers) {
    const l = h[0].toLowerCase();
    if (!HOP_BY_HOP.has(l) && !named.has(l)) out.push(h);
  }
  return out;
}
