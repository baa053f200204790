/**
 * HAProxy 2.6's default error responses, byte for byte (verified against haproxy 2.6.12).
 *
 * Two shapes exist:
 * - written directly by HAProxy's H1 mux when a request cannot be parsed or times out (400,
 *   408, 422): mixed-case header names, taken verbatim from `http_err_msgs`; the connection is
 *   then closed. 400 and 408 carry `Connection: close`, 422 does not (but still closes).
 * - produced through HTX (deny, 502/503/504, stats 401...): lower-case names and, when the
 *   client connection is not kept alive the HTTP/1.1 way, a trailing `connection:` header.
 *
 * Every body is `<html><body><h1>CODE REASON</h1>\nTEXT\n</body></html>\n`.
 *
 * @module
 */

/** Status line reason and body text HAProxy 2.6 uses for each status it can generate. */
export const HAPROXY_ERROR_TEXTS: ReadonlyMap<number, { reason: string; text: string }> = new Map([
  [200, { reason: "OK", text: "Service ready." }],
  [400, { reason: "Bad request", text: "Your browser sent an invalid request." }],
  [
    401,
    { reason: "Unauthorized", text: "You need a valid user and password to access this content." },
  ],
  [403, { reason: "Forbidden", text: "Request forbidden by administrative rules." }],
  [404, { reason: "Not Found", text: "The resource could not be found." }],
  [405, {
    reason: "Method Not Allowed",
    text: "A request was made of a resource using a request method not supported by that resource",
  }],
  [
    407,
    { reason: "Unauthorized", text: "You need a valid user and password to access this content." },
  ],
  [408, {
    reason: "Request Time-out",
    text: "Your browser didn't send a complete request in time.",
  }],
  [410, {
    reason: "Gone",
    text: "The resource is no longer available and will not be available again.",
  }],
  [413, { reason: "Payload Too Large", text: "The request entity exceeds the maximum allowed." }],
  [421, { reason: "Misdirected Request", text: "Request sent to a non-authoritative server." }],
  [422, {
    reason: "Unprocessable Content",
    text: "The server cannot process the contained instructions.",
  }],
  [425, { reason: "Too Early", text: "Your browser sent early data." }],
  [429, {
    reason: "Too Many Requests",
    text: "You have sent too many requests in a given amount of time.",
  }],
  [500, { reason: "Internal Server Error", text: "An internal server error occurred." }],
  [501, {
    reason: "Not Implemented",
    text: ".The server does not support the functionality required to fulfill the request.",
  }],
  [502, { reason: "Bad Gateway", text: "The server returned an invalid or incomplete response." }],
  [503, { reason: "Service Unavailable", text: "No server is available to handle this request." }],
  [504, { reason: "Gateway Time-out", text: "The server didn't respond in time." }],
]);

/** Reasons for statuses HAProxy has no error page for (used by `errorResponse` only). */
const OTHER_REASONS: Record<number, string> = {
  402: "Payment Required",
  406: "Not Acceptable",
  409: "Conflict",
  411: "Length Required",
  412: "Precondition Failed",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  417: "Expectation Failed",
  418: "I'm a teapot",
  426: "Upgrade Required",
  428: "Precondition Required",
  431: "Request Header Fields Too Large",
  451: "Unavailable For Legal Reasons",
  505: "HTTP Version Not Supported",
  507: "Insufficient Storage",
  511: "Network Authentication Required",
};

const encoder = new TextEncoder();

function textFor(status: number): { reason: string; text: string } {
  const known = HAPROXY_ERROR_TEXTS.get(status);
  if (known) return known;
  const reason = OTHER_REASONS[status] ??
    (status < 400 ? "Success" : status < 500 ? "Client Error" : "Server Error");
  return { reason, text: reason + "." };
}

function body(status: number, reason: string, text: string): string {
  return `<html><body><h1>${status} ${reason}</h1>\n${text}\n</body></html>\n`;
}

/** Options of `errorResponse`. */
export interface ErrorResponseOptions {
  /** Adds a final `connection:` header (HAProxy adds `close` for HTTP/1.0 or
   * `Connection: close` clients, `keep-alive` for HTTP/1.0 keep-alive clients). */
  connection?: "close" | "keep-alive";
  /** Extra `[name, value]` headers placed after `content-type` (names written as given). */
  headers?: ReadonlyArray<readonly [string, string]>;
}

/**
 * An error response as HAProxy produces it through HTX (deny, 5xx, stats 401): lower-case
 * header names `content-length`, `cache-control: no-cache`, `content-type: text/html`.
 * Statuses HAProxy has no page for get a generic reason and text (HAProxy rejects them in
 * `deny_status`).
 */
export function errorResponse(status: number, options: ErrorResponseOptions = {}): Uint8Array {
  const { reason, text } = textFor(status);
  const b = body(status, reason, text);
  let head = `HTTP/1.1 ${status} ${reason}\r\ncontent-length: ${b.length}\r\n` +
    "cache-control: no-cache\r\ncontent-type: text/html\r\n";
  for (const [n, v] of options.headers ?? []) head += `${n}: ${v}\r\n`;
  if (options.connection) head += `connection: ${options.connection}\r\n`;
  return encoder.encode(head + "\r\n" + b);
}

/**
 * An error written directly by HAProxy's H1 mux (`http_err_msgs` verbatim): mixed-case names,
 * `Connection: close` for 400 and 408. The caller closes the connection after sending it.
 */
export function rawErrorResponse(status: number): Uint8Array {
  const { reason, text } = textFor(status);
  const b = body(status, reason, text);
  const close = status === 400 || status === 408 ? "Connection: close\r\n" : "";
  return encoder.encode(
    `HTTP/1.1 ${status} ${reason}\r\nContent-length: ${b.length}\r\n` +
      `Cache-Control: no-cache\r\n${close}Content-Type: text/html\r\n\r\n${b}`,
  );
}

/** The 401 of a stats page / basic auth, with `www-authenticate: Basic realm="<realm>"`. */
export function authRequiredResponse(
  realm: string,
  options: ErrorResponseOptions = {},
): Uint8Array {
  return errorResponse(401, {
    ...options,
    headers: [["www-authenticate", `Basic realm="${realm}"`], ...(options.headers ?? [])],
  });
}

/** `HTTP/1.1 400 Bad request` with `Connection: close` (malformed request; then close). */
export const ERROR_400: Uint8Array = rawErrorResponse(400);
/** `HTTP/1.1 408 Request Time-out` with `Connection: close` (timeout http-request; then close). */
export const ERROR_408: Uint8Array = rawErrorResponse(408);
/** `HTTP/1.1 422 Unprocessable Content` (unsupported transfer coding; then close). */
export const ERROR_422: Uint8Array = rawErrorResponse(422);
/** `HTTP/1.1 403 Forbidden` (deny); keeps the connection. */
export const ERROR_403: Uint8Array = errorResponse(403);
/** `HTTP/1.1 429 Too Many Requests`; keeps the connection. */
export const ERROR_429: Uint8Array = errorResponse(429);
/** `HTTP/1.1 502 Bad Gateway` (invalid or no response); keeps the connection. */
export const ERROR_502: Uint8Array = errorResponse(502);
/** `HTTP/1.1 503 Service Unavailable` (no server, queue timeout); keeps the connection. */
export const ERROR_503: Uint8Array = errorResponse(503);
/** `HTTP/1.1 504 Gateway Time-out` (timeout server); keeps the connection. */
export const ERROR_504: Uint8Array = errorResponse(504);

/** The bytes to answer a request parse error with (400 or 422 per `status`), then close. */
export function parseErrorResponse(status: number): Uint8Array {
  return status === 422 ? ERROR_422 : status === 400 ? ERROR_400 : rawErrorResponse(status);
}
