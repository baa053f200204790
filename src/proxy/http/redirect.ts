/**
 * `redirect` rules (top-level list and `http-request redirect`) producing HAProxy 2.6's exact
 * response bytes, plus the helpers every HAProxy-generated response shares: the reason phrase
 * of a status and the `connection:` header a client gets.
 *
 * Observed on haproxy 2.6.12 (`redirect scheme https` on `GET /s HTTP/1.1`, `Host: h`):
 * `HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://h/s\r\ncache-control: no-cache\r\n\r\n`.
 * `cache-control: no-cache` only for 302, 303 and 307; HTTP/1.0 and `Connection: close` clients
 * get a final `connection: close` and the connection is closed.
 *
 * @module
 */

import type { RedirectRule } from "../../config/types.ts";
import { uriPath } from "../balance/keys.ts";
import type { RequestHead } from "../http1/types.ts";
import { condMatches } from "./acl.ts";
import { encodeLatin1, getHeaderValues } from "./headers.ts";
import { renderFormat } from "./log_format.ts";
import type { HttpTxn } from "./txn.ts";

/** A response HAProxy generates itself, ready to send. */
export interface LocalResponse {
  readonly status: number;
  readonly bytes: Uint8Array;
  /** Close the client connection after sending. */
  readonly close: boolean;
}

/** A redirect response with the Location it carries. */
export interface RedirectResponse extends LocalResponse {
  readonly location: string;
}

/** HAProxy 2.6's `http_get_reason` table (observed on haproxy 2.6.12 for the odd ones). */
const REASONS: Readonly<Record<number, string>> = {
  100: "Continue",
  101: "Switching Protocols",
  102: "Processing",
  103: "Early Hints",
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  205: "Reset Content",
  206: "Partial Content",
  207: "Multi-Status",
  210: "Content Different",
  226: "IM Used",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  305: "Use Proxy",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  310: "Too many Redirects",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Time-out",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Request Entity Too Large",
  414: "Request-URI Too Long",
  415: "Unsupported Media Type",
  416: "Requested range unsatisfiable",
  417: "Expectation failed",
  418: "I'm a teapot",
  421: "Misdirected Request",
  422: "Unprocessable Content",
  423: "Locked",
  424: "Method failure",
  425: "Too Early",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  449: "Retry With",
  450: "Blocked by Windows Parental Controls",
  451: "Unavailable For Legal Reasons",
  456: "Unrecoverable Error",
  499: "client has closed connection",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway or Proxy Error",
  503: "Service Unavailable",
  504: "Gateway Time-out",
  505: "HTTP Version not supported",
  506: "Variant also negotiate",
  507: "Insufficient storage",
  508: "Loop detected",
  509: "Bandwidth Limit Exceeded",
  510: "Not extended",
  511: "Network authentication required",
  520: "Web server is returning an unknown error",
};

const CLASS_REASONS = ["Other", "Informational", "Success", "Redirection", "Client Error"];

/** The reason phrase HAProxy writes for `status` (set-status, return, redirect). */
export function reasonPhrase(status: number): string {
  const known = REASONS[status];
  if (known !== undefined) return known;
  const cls = Math.floor(status / 100);
  return cls === 5 ? "Server Error" : CLASS_REASONS[cls] ?? "Other";
}

/**
 * The `connection:` header value HAProxy adds to a response it generates: `close` when the
 * client does not keep the connection alive, `keep-alive` for an HTTP/1.0 keep-alive client,
 * else none.
 */
export function localConnection(req: RequestHead): "close" | "keep-alive" | null {
  if (!req.keepAlive) return "close";
  return req.http11 ? null : "keep-alive";
}

const NO_CACHE_CODES = new Set([302, 303, 307]);

/** The path and query a scheme/prefix redirect appends: `/` when the target has none. */
function redirectPath(target: string, dropQuery: boolean): string {
  let path = uriPath(target);
  if (path === "") return "/";
  if (dropQuery) {
    const q = path.indexOf("?");
    if (q >= 0) path = path.slice(0, q);
  }
  return path;
}

/** The Location of `rule` for `txn` (HAProxy's http_apply_redirect_rule). */
export function redirectLocation(rule: RedirectRule, txn: HttpTxn): string {
  const value = renderFormat(rule.value, txn, { side: "request" });
  let loc: string;
  switch (rule.type) {
    case "location":
      return value;
    case "scheme": {
      const host = getHeaderValues(txn.req, "host")[0] ?? "";
      loc = value + "://" + host + redirectPath(txn.req.target, rule.dropQuery);
      break;
    }
    case "prefix":
      // A prefix of exactly "/" means "the same URL".
      loc = (value === "/" ? "" : value) + redirectPath(txn.req.target, rule.dropQuery);
      break;
  }
  // Observed on haproxy 2.6.12: the slash goes after the query too (`/a?b=1` → `/a?b=1/`).
  if (rule.appendSlash && loc !== "" && !loc.endsWith("/")) loc += "/";
  return loc;
}

/** The bytes of a redirect with `status` to `location` for the client of `req`. */
export function redirectBytes(status: number, location: string, req: RequestHead): LocalResponse {
  const conn = localConnection(req);
  const head = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\ncontent-length: 0\r\n` +
    `location: ${location}\r\n` +
    (NO_CACHE_CODES.has(status) ? "cache-control: no-cache\r\n" : "") +
    (conn === null ? "" : `connection: ${conn}\r\n`) + "\r\n";
  return { status, bytes: encodeLatin1(head), close: conn === "close" };
}

/**
 * The response of redirect `rule` for `txn`, or null when its condition does not match. The
 * rule's own condition is evaluated here; `http-request redirect` rules whose condition is on
 * the enclosing rule pass a rule with `cond: null`.
 */
export function redirectResponse(rule: RedirectRule, txn: HttpTxn): RedirectResponse | null {
  if (!condMatches(rule.cond, txn, { side: "request" })) return null;
  const location = redirectLocation(rule, txn);
  return { ...redirectBytes(rule.code, location, txn.req), location };
}
