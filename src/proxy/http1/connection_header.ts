/**
 * Connection management for an HTTP/1 proxy hop, mirroring HAProxy 2.6 (reference §1.7 and the
 * verified matrix in connection_header_test.ts):
 * - `keep-alive` (default, KAL): both sides persistent;
 * - `server-close` (`option http-server-close`, SCL): server side closed after each response;
 * - `close` (`option httpclose`, CLO): both sides closed after the response.
 *
 * HAProxy does not strip the hop-by-hop headers a `Connection` header names (nor `Keep-Alive`,
 * `TE`): it only removes the `close` / `keep-alive` tokens and adds the one it needs
 * (verified). `encodeForwardedRequest`/`encodeForwardedResponse` do the same.
 *
 * @module
 */

import { trimLws } from "./head.ts";
import { CR, equalsLower, LF, SP, writeLatin1 } from "./chars.ts";
import { ParsedHead } from "./fields.ts";
import { forwardedVersion, serializeRequestHead, serializeResponseHead } from "./serializer.ts";
import { allocBytes } from "../bytes.ts";
import type { HeaderList, RequestHead, ResponseHead } from "./types.ts";

/** HAProxy connection mode (the strongest of frontend and backend settings wins). */
export type HttpConnectionMode = "keep-alive" | "server-close" | "close";

/** Options of the forwarding helpers. */
export interface ForwardOptions {
  /** Connection mode; default `keep-alive`. */
  mode?: HttpConnectionMode;
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
 * The Connection token HAProxy adds to a request it forwards: a kept-alive server connection
 * needs `keep-alive` for an HTTP/1.0 request; a closed one needs `close` for an HTTP/1.1
 * request (verified for KAL, SCL, CLO).
 */
function requestToken(req: RequestHead, options: ForwardOptions): string | null {
  const keep = (options.mode ?? "keep-alive") === "keep-alive";
  // An HTTP/1.0 request with a chunked body gets no keep-alive token (HAProxy 2.6, verified).
  if (keep && !req.http11 && req.bodyKind !== "chunked") return "keep-alive";
  if (!keep && req.http11) return "close";
  return null;
}

/**
 * The Connection token HAProxy adds to a response it forwards: `keep-alive` when the client
 * connection is kept and either message is HTTP/1.0; `close` when it is not kept and the
 * response is HTTP/1.1 (verified). Tunnel responses (101, CONNECT 2xx) get none.
 */
function responseToken(
  res: ResponseHead,
  req: RequestHead,
  options: ForwardOptions,
): string | null {
  if (res.bodyKind === "tunnel") return null;
  const keep = clientKeepsAlive(req, options);
  if (keep && (!res.http11 || !req.http11)) return "keep-alive";
  if (!keep && res.http11) return "close";
  return null;
}

/**
 * The request head as sent to the server: the request line (version capped at 1.1), the fields
 * with their names lower-cased, the client's close/keep-alive tokens dropped and the token
 * forwarding needs added (see `requestToken`). An undecoded parsed head is written from its
 * bytes (see fields.ts).
 */
export function encodeForwardedRequest(req: RequestHead, options: ForwardOptions = {}): Uint8Array {
  const token = requestToken(req, options);
  const version = forwardedVersion(req.version);
  const { method, target } = req;
  const parsed = req instanceof ParsedHead ? req : null;
  const n = parsed !== null ? parsed.fieldsLength(token) : -1;
  if (parsed === null || n < 0) {
    return serializeRequestHead({ method, target, version }, rewriteConnection(req.headers, token));
  }
  // Written part by part: the parts are flat strings, a concatenation would not be.
  const out = allocBytes(method.length + target.length + version.length + 4 + n);
  let pos = writeLatin1(out, 0, method);
  out[pos++] = SP;
  pos = writeLatin1(out, pos, target);
  out[pos++] = SP;
  pos = writeLatin1(out, pos, version);
  out[pos++] = CR;
  out[pos++] = LF;
  parsed.writeFields(out, pos, token);
  return out;
}

/**
 * The response head as sent to the client: status line (version capped at 1.1), the fields with
 * the server's close/keep-alive tokens dropped and the token forwarding needs added (see
 * `responseToken`), and `reserve` bytes of room after it (for a small body). An undecoded
 * parsed head is written from its bytes.
 */
export function encodeForwardedResponse(
  res: ResponseHead,
  req: RequestHead,
  options: ForwardOptions & { reserve?: number } = {},
): Uint8Array {
  const token = responseToken(res, req, options);
  const version = forwardedVersion(res.version);
  const { status, reason } = res;
  const reserve = options.reserve ?? 0;
  const parsed = res instanceof ParsedHead ? res : null;
  const n = parsed !== null ? parsed.fieldsLength(token) : -1;
  if (parsed === null || n < 0 || status > 999) {
    return serializeResponseHead(
      { status, reason, version },
      rewriteConnection(res.headers, token),
      { reserve },
    );
  }
  const out = allocBytes(version.length + reason.length + 7 + n + reserve);
  let pos = writeLatin1(out, 0, version);
  out[pos++] = SP;
  out[pos++] = 0x30 + Math.trunc(status / 100);
  out[pos++] = 0x30 + Math.trunc(status / 10) % 10;
  out[pos++] = 0x30 + status % 10;
  out[pos++] = SP;
  pos = writeLatin1(out, pos, reason);
  out[pos++] = CR;
  out[pos++] = LF;
  parsed.writeFields(out, pos, token);
  return out;
}
