/**
 * Shared types of halb's HTTP/1.1 codec: parsed message heads, parser events and typed
 * parse errors. Pure data, no I/O.
 *
 * @module
 */

/** One header field as received: original name case and value (trimmed of surrounding blanks). */
export type HeaderField = [name: string, value: string];

/** Ordered header fields, original case and order. */
export type HeaderList = HeaderField[];

/**
 * How the message body is delimited (RFC 9112 §6.3).
 * - `none`: no body;
 * - `length`: `contentLength` bytes;
 * - `chunked`: chunked transfer coding (decoded by the parser);
 * - `close`: response body runs until the server closes (call `eof()`);
 * - `tunnel`: response opened a tunnel (101, or 2xx to CONNECT): raw bytes both ways until close.
 */
export type BodyKind = "none" | "length" | "chunked" | "close" | "tunnel";

/** Fields common to request and response heads. */
export interface MessageHead {
  /** Protocol version exactly as received, e.g. `HTTP/1.1`. */
  version: string;
  /** True when the version is 1.1 or above (persistent by default); false for 1.0 and 0.9. */
  http11: boolean;
  /** Header fields in order. Identical duplicate Content-Length/Host fields are merged into the
   * first one (as HAProxy does); Content-Length is removed when Transfer-Encoding is present. */
  headers: HeaderList;
  /** Lower-case header names, parallel to `headers` (the lower-case name index). */
  lowerNames: string[];
  /** Body delimitation. */
  bodyKind: BodyKind;
  /** Body length for `length` framing, otherwise -1. */
  contentLength: number;
  /** `Connection` carried the `close` token. */
  connectionClose: boolean;
  /** `Connection` carried the `keep-alive` token. */
  connectionKeepAlive: boolean;
  /** `Connection` carried the `upgrade` token. */
  connectionUpgrade: boolean;
  /** The sender wants a persistent connection (RFC 9112 §9.3: 1.1 without close, or 1.0 with
   * keep-alive and without close). */
  keepAlive: boolean;
  /** Bytes taken by the head, including skipped leading empty lines and the final empty line. */
  headLength: number;
}

/** A parsed request head. */
export interface RequestHead extends MessageHead {
  /** Method token, case preserved. */
  method: string;
  /** Request target as received (origin, absolute, authority or asterisk form). */
  target: string;
  /** `Expect: 100-continue` present (only meaningful for HTTP/1.1). */
  expectContinue: boolean;
  /** Value of `Upgrade` when `Connection` has the `upgrade` token, else null. */
  upgrade: string | null;
  /** Both Content-Length and Transfer-Encoding were sent: Content-Length was dropped and the
   * connection must be closed after the response (RFC 9112 §6.3, HAProxy 2.6 does the same). */
  mustClose: boolean;
}

/** A parsed response head. */
export interface ResponseHead extends MessageHead {
  /** Status code (100..999). */
  status: number;
  /** Reason phrase (may be empty). */
  reason: string;
  /** 1xx other than 101: an interim response, the final one follows for the same request. */
  interim: boolean;
}

/** Why a message was rejected. */
export type ParseErrorReason =
  | "bad_method"
  | "bad_target"
  | "http09_request"
  | "bad_version"
  | "bad_status"
  | "bad_line_ending"
  | "bad_header_name"
  | "nul_in_header_value"
  | "bad_obs_fold"
  | "too_many_headers"
  | "head_too_large"
  | "bad_content_length"
  | "content_length_conflict"
  | "bad_transfer_encoding"
  | "unsupported_transfer_coding"
  | "duplicate_host"
  | "host_authority_mismatch"
  | "websocket_missing_key"
  | "h2_preface"
  | "bad_chunk_size"
  | "bad_chunk_end"
  | "bad_trailer"
  | "truncated";

/** A parse failure: what, where, and the status a proxy answers with. */
export interface ParseError {
  /** Machine-readable reason. */
  reason: ParseErrorReason;
  /** Byte offset of the offending byte, from the start of the current message. */
  offset: number;
  /** Status HAProxy answers with: 400 (or 422) for requests, 502 for responses. */
  status: number;
}

/**
 * One step of incremental parsing. `consumed` bytes of the input were used; the caller passes the
 * rest (and later reads) to the next `execute` call. `body.data` is a view into the caller's
 * input, valid until the caller overwrites that buffer.
 */
export type ParseEvent<H> =
  | { type: "need_more"; consumed: number }
  | { type: "head"; consumed: number; head: H }
  | { type: "body"; consumed: number; data: Uint8Array }
  | { type: "end"; consumed: number; trailers: HeaderList | null }
  | { type: "error"; consumed: number; error: ParseError };

/** Limits shared by both parsers. */
export interface ParserOptions {
  /** Maximum head size in bytes (and trailer section size). Default 15360, i.e. HAProxy's
   * tune.bufsize 16384 minus tune.maxrewrite 1024; HAProxy's exact limit is ~90 bytes lower
   * because of its internal HTX overhead. */
  maxHeadBytes?: number;
  /** Maximum number of header fields. Default 100: HAProxy 2.6 (tune.http.maxhdr 101) accepts
   * 100 fields and rejects 101 (verified). */
  maxHeaders?: number;
  /**
   * Heads parsed in place keep pointing into the input (no copy) until their `detach()` is
   * called, which the caller must do before it overwrites those bytes. Default false: every
   * head gets its own copy.
   */
  borrow?: boolean;
}

/** Default `maxHeadBytes`. */
export const DEFAULT_MAX_HEAD_BYTES = 15360;
/** Default `maxHeaders`. */
export const DEFAULT_MAX_HEADERS = 100;

/** Distinguishes a ParseError from a parsed value (heads have no `offset` field). */
export function isParseError(x: object): x is ParseError {
  return (x as ParseError).offset !== undefined;
}
