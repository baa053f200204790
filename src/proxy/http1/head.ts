/**
 * Parsing of one complete HTTP/1 message head (start line + header section) held in a byte
 * buffer, answered the way HAProxy 2.6.12 answers (verified verdicts are recorded in
 * `testdata/malformed/*.expected`). The incremental framing lives in `parser.ts`.
 *
 * @module
 */

import { COLON, CR, equalsLower, HT, latin1, LF, SP, TCHAR } from "./chars.ts";
import { F_CONNECTION, F_UPPER, type FieldSpans, ParsedHead, SPAN_STRIDE } from "./fields.ts";
import {
  type BodyKind,
  type HeaderList,
  isParseError,
  type MessageHead,
  type ParseError,
  type ParseErrorReason,
  type RequestHead,
  type ResponseHead,
} from "./types.ts";

/** Where the head lies in a buffer. `base` is message offset 0 (before skipped blank lines),
 * `start` the first byte of the start line, `end` the index just after the final empty line. */
export interface HeadSpan {
  buf: Uint8Array;
  base: number;
  start: number;
  end: number;
}

/** Limits applied while parsing a head. */
export interface HeadLimits {
  maxHeaders: number;
}

/** 1 at the lengths of the header names the parser interprets (a cheap pre-filter). */
const SPECIAL_LENGTH = new Uint8Array(32);
const CONTENT_LENGTH = "content-length";
const TRANSFER_ENCODING = "transfer-encoding";
const CONNECTION = "connection";
const HOST = "host";
const UPGRADE = "upgrade";
const EXPECT = "expect";
const WS_KEY = "sec-websocket-key";
const SPECIAL = [CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION, HOST, UPGRADE, EXPECT, WS_KEY];
for (const n of SPECIAL) SPECIAL_LENGTH[n.length] = 1;

/** The special field name (lower case) spelled by b[s..e) in any case, or "". */
function specialName(b: Uint8Array, s: number, e: number): string {
  for (let k = 0; k < SPECIAL.length; k++) {
    const name = SPECIAL[k];
    if (name.length !== e - s) continue;
    let i = 0;
    // Names are tchars: OR-ing 0x20 folds A-Z and leaves "-" and lower case as they are.
    while (i < name.length && (b[s + i] | 0x20) === name.charCodeAt(i)) i++;
    if (i === name.length) return name;
  }
  return "";
}

/** Text of b[s..e): a shared constant for the usual methods, versions and reasons. */
function word(b: Uint8Array, s: number, e: number): string {
  const n = e - s;
  const c = b[s];
  if (n === 3 && c === 0x47 && b[s + 1] === 0x45 && b[s + 2] === 0x54) return "GET";
  if (n === 2 && c === 0x4f && b[s + 1] === 0x4b) return "OK";
  if (
    n === 8 && c === 0x48 && b[s + 1] === 0x54 && b[s + 2] === 0x54 && b[s + 3] === 0x50 &&
    b[s + 4] === 0x2f && b[s + 5] === 0x31 && b[s + 6] === 0x2e
  ) {
    if (b[s + 7] === 0x31) return "HTTP/1.1";
    if (b[s + 7] === 0x30) return "HTTP/1.0";
  }
  return latin1(b, s, e);
}

function fail(reason: ParseErrorReason, offset: number, status: number): ParseError {
  return { reason, offset, status };
}

/** Result of parsing the header fields plus what they say about framing. */
interface Fields extends FieldSpans {
  contentLength: number;
  clIndex: number;
  teTokens: string[] | null;
  teBad: boolean;
  connectionClose: boolean;
  connectionKeepAlive: boolean;
  connectionUpgrade: boolean;
  hostIndex: number;
  hostOffset: number;
  upgradeValue: string | null;
  upgradeOffset: number;
  expectContinue: boolean;
  wsKey: boolean;
  end: number;
}

/** Checks `HTTP/<digit>.<digit>` at b[s..e); returns 0 invalid, else 10*major+minor+1. */
function versionCode(b: Uint8Array, s: number, e: number): number {
  if (
    e - s !== 8 || b[s] !== 0x48 || b[s + 1] !== 0x54 || b[s + 2] !== 0x54 ||
    b[s + 3] !== 0x50 || b[s + 4] !== 0x2f || b[s + 6] !== 0x2e
  ) return 0;
  const ma = b[s + 5] - 0x30;
  const mi = b[s + 7] - 0x30;
  if (ma < 0 || ma > 9 || mi < 0 || mi > 9) return 0;
  return ma * 10 + mi + 1;
}

/** What the parser sets on a head besides its fields. */
type Facts<H extends MessageHead> = Omit<H, "headers" | "lowerNames">;

// The classes below take their properties' types from these interfaces (declaration merging)
// and set them from the parser's facts.
interface ParsedMessageHead extends Facts<MessageHead> {}

/** Fields common to parsed requests and responses. */
class ParsedMessageHead extends ParsedHead {
  constructor(fields: FieldSpans, f: Facts<MessageHead>) {
    super(fields);
    this.version = f.version;
    this.http11 = f.http11;
    this.bodyKind = f.bodyKind;
    this.contentLength = f.contentLength;
    this.connectionClose = f.connectionClose;
    this.connectionKeepAlive = f.connectionKeepAlive;
    this.connectionUpgrade = f.connectionUpgrade;
    this.keepAlive = f.keepAlive;
    this.headLength = f.headLength;
  }
}

/** The parsed request's properties besides its fields (merged into the class below). */
export interface ParsedRequestHead extends Facts<RequestHead> {}

/** A request head as the parser returns it; its fields decode lazily (see fields.ts). */
export class ParsedRequestHead extends ParsedMessageHead implements RequestHead {
  constructor(fields: FieldSpans, f: Facts<RequestHead>) {
    super(fields, f);
    this.method = f.method;
    this.target = f.target;
    this.expectContinue = f.expectContinue;
    this.upgrade = f.upgrade;
    this.mustClose = f.mustClose;
  }
}

/** The parsed response's properties besides its fields (merged into the class below). */
export interface ParsedResponseHead extends Facts<ResponseHead> {}

/** A response head as the parser returns it; its fields decode lazily (see fields.ts). */
export class ParsedResponseHead extends ParsedMessageHead implements ResponseHead {
  constructor(fields: FieldSpans, f: Facts<ResponseHead>) {
    super(fields, f);
    this.status = f.status;
    this.reason = f.reason;
    this.interim = f.interim;
  }
}

/**
 * Parses a request head. Returns the head or a ParseError (status 400, or 422). The head's
 * fields point into `span.buf` (see {@linkcode ParsedHead.detach}).
 */
export function parseRequestHead(
  span: HeadSpan,
  limits: HeadLimits,
): ParsedRequestHead | ParseError {
  const b = span.buf;
  const base = span.base;
  let p = span.start;
  let c = b[p];
  // method
  const ms = p;
  while (TCHAR[c] === 1) c = b[++p];
  if (p === ms) return fail("bad_method", p - base, 400);
  if (c === CR || c === LF) return fail("http09_request", p - base, 400);
  if (c !== SP && c !== HT) return fail("bad_method", p - base, 400);
  const method = word(b, ms, p);
  do c = b[++p]; while (c === SP || c === HT);
  // target: visible ASCII only
  const ts = p;
  while (c > 0x20 && c < 0x7f) c = b[++p];
  if (c === CR || c === LF) return fail("http09_request", p - base, 400);
  if (c !== SP && c !== HT) return fail("bad_target", p - base, 400);
  const target = latin1(b, ts, p);
  do c = b[++p]; while (c === SP || c === HT);
  if (c === CR || c === LF) return fail("http09_request", p - base, 400);
  const vs = p;
  while (c !== CR && c !== LF) c = b[++p];
  const vcode = versionCode(b, vs, p);
  if (vcode === 0) return fail("bad_version", vs - base, 400);
  if (c === CR) {
    if (b[p + 1] !== LF) return fail("bad_line_ending", p - base, 400);
    p++;
  }
  p++;
  const version = word(b, vs, vs + 8);
  if (method === "PRI" && target === "*" && version === "HTTP/2.0") {
    return fail("h2_preface", 0, 400);
  }
  const f = parseFields(b, p, span, limits, true);
  if (isParseError(f)) return f;
  const http11 = vcode >= 12;
  // Host: duplicates were checked while parsing; compare with the target's authority.
  if (f.hostIndex >= 0) {
    const auth = targetAuthority(method, target);
    if (auth !== null && !sameAuthority(auth, fieldValue(f, f.hostIndex))) {
      return fail("host_authority_mismatch", f.hostOffset, 400);
    }
  }
  let upgrade: string | null = null;
  if (f.connectionUpgrade && f.upgradeValue !== null) {
    upgrade = f.upgradeValue;
    if (!f.wsKey && hasToken(upgrade, "websocket")) {
      return fail("websocket_missing_key", f.upgradeOffset, 400);
    }
  }
  let bodyKind: BodyKind = "none";
  let contentLength = -1;
  let mustClose = false;
  if (f.teTokens !== null) {
    const te = checkRequestTe(f.teTokens, f.teBad);
    if (te !== null) return fail(te.reason, f.end - base, te.status);
    bodyKind = "chunked";
    if (f.clIndex >= 0) {
      removeIndex(f, f.clIndex);
      mustClose = true;
    }
  } else if (f.contentLength > 0) {
    bodyKind = "length";
    contentLength = f.contentLength;
  } else if (f.contentLength === 0) {
    contentLength = 0;
  }
  return new ParsedRequestHead(f, {
    method,
    target,
    version,
    http11,
    bodyKind,
    contentLength,
    connectionClose: f.connectionClose,
    connectionKeepAlive: f.connectionKeepAlive,
    connectionUpgrade: f.connectionUpgrade,
    keepAlive: http11 ? !f.connectionClose : f.connectionKeepAlive && !f.connectionClose,
    headLength: span.end - base,
    expectContinue: f.expectContinue && http11,
    upgrade,
    mustClose,
  });
}

/**
 * Parses a response head to a request made with `requestMethod` (decides HEAD/CONNECT framing).
 * Returns the head or a ParseError with status 502. The head's fields point into `span.buf`.
 */
export function parseResponseHead(
  span: HeadSpan,
  limits: HeadLimits,
  requestMethod: string,
): ParsedResponseHead | ParseError {
  const b = span.buf;
  const base = span.base;
  let p = span.start;
  let c = b[p];
  const vs = p;
  while (c !== SP && c !== HT && c !== CR && c !== LF) c = b[++p];
  const vcode = versionCode(b, vs, p);
  if (vcode === 0 || (c !== SP && c !== HT)) return fail("bad_version", vs - base, 502);
  const version = word(b, vs, p);
  do c = b[++p]; while (c === SP || c === HT);
  const ss = p;
  let status = 0;
  while (c >= 0x30 && c <= 0x39) {
    status = status * 10 + c - 0x30;
    c = b[++p];
  }
  if (p - ss !== 3 || status < 100) return fail("bad_status", ss - base, 502);
  let reason = "";
  if (c === SP || c === HT) {
    do c = b[++p]; while (c === SP || c === HT);
    const rs = p;
    while (c !== CR && c !== LF) c = b[++p];
    reason = word(b, rs, p);
  } else if (c !== CR && c !== LF) return fail("bad_status", p - base, 502);
  if (c === CR) {
    if (b[p + 1] !== LF) return fail("bad_line_ending", p - base, 502);
    p++;
  }
  p++;
  const f = parseFields(b, p, span, limits, false);
  if (isParseError(f)) return f;
  const http11 = vcode >= 12;
  let bodyKind: BodyKind;
  let contentLength = -1;
  let forceClose = false;
  if (f.teTokens !== null && f.clIndex >= 0) {
    removeIndex(f, f.clIndex);
    forceClose = true;
  }
  const interim = status < 200 && status !== 101;
  if (status === 101 || (status < 300 && status >= 200 && requestMethod === "CONNECT")) {
    bodyKind = "tunnel";
  } else if (interim || status === 204 || status === 304 || requestMethod === "HEAD") {
    bodyKind = "none";
  } else if (f.teTokens !== null) {
    const last = f.teTokens.length - 1;
    const chunkedAt = f.teTokens.indexOf("chunked");
    if (chunkedAt >= 0 && chunkedAt !== last) {
      return fail("bad_transfer_encoding", f.end - base, 502);
    }
    bodyKind = chunkedAt === last && last >= 0 ? "chunked" : "close";
  } else if (f.contentLength >= 0) {
    contentLength = f.contentLength;
    bodyKind = contentLength > 0 ? "length" : "none";
  } else {
    bodyKind = "close";
  }
  return new ParsedResponseHead(f, {
    status,
    reason,
    interim,
    version,
    http11,
    bodyKind,
    contentLength,
    connectionClose: f.connectionClose,
    connectionKeepAlive: f.connectionKeepAlive,
    connectionUpgrade: f.connectionUpgrade,
    keepAlive: !forceClose && bodyKind !== "close" &&
      (http11 ? !f.connectionClose : f.connectionKeepAlive && !f.connectionClose),
    headLength: span.end - base,
  });
}

/**
 * Parses a chunked trailer section held in `span` (field lines up to and including the final
 * empty line). Returns the fields, or a ParseError with reason `bad_trailer`.
 */
export function parseTrailers(
  span: HeadSpan,
  limits: HeadLimits,
  isRequest: boolean,
): HeaderList | ParseError {
  const f = parseFields(span.buf, span.start, span, limits, isRequest);
  if (isParseError(f)) return fail("bad_trailer", f.offset, f.status);
  return new ParsedHead(f).headers;
}

/**
 * Parses header fields from `p` up to and including the final empty line of `span`. Field
 * strings are made only for the fields the parser interprets; the others stay offsets.
 */
function parseFields(
  b: Uint8Array,
  p: number,
  span: HeadSpan,
  limits: HeadLimits,
  isRequest: boolean,
): Fields | ParseError {
  const base = span.base;
  const from = span.start;
  const status = isRequest ? 400 : 502;
  const f: Fields = {
    src: b,
    from,
    to: span.end,
    spans: [],
    values: [],
    connectionOther: false,
    contentLength: -1,
    clIndex: -1,
    teTokens: null,
    teBad: false,
    connectionClose: false,
    connectionKeepAlive: false,
    connectionUpgrade: false,
    hostIndex: -1,
    hostOffset: -1,
    upgradeValue: null,
    upgradeOffset: -1,
    expectContinue: false,
    wsKey: false,
    end: 0,
  };
  const spans = f.spans;
  const values = f.values;
  const maxHeaders = limits.maxHeaders;
  for (;;) {
    let c = b[p];
    if (c === CR) {
      if (b[p + 1] !== LF) return fail("bad_line_ending", p - base, status);
      p += 2;
      break;
    }
    if (c === LF) {
      p++;
      break;
    }
    if (c === SP || c === HT) return fail("bad_obs_fold", p - base, status);
    const ns = p;
    let flags = 0;
    while (TCHAR[c] === 1) {
      if (c >= 0x41 && c <= 0x5a) flags = F_UPPER;
      c = b[++p];
    }
    if (c !== COLON || p === ns) return fail("bad_header_name", p - base, status);
    const ne = p;
    do c = b[++p]; while (c === SP || c === HT);
    const vs = p;
    let folded = false;
    let next: number;
    for (;;) {
      while (c > CR) c = b[++p];
      if (c === CR) {
        if (b[p + 1] !== LF) return fail("bad_line_ending", p - base, status);
        next = p + 2;
      } else if (c === LF) {
        next = p + 1;
      } else if (c === 0) {
        return fail("nul_in_header_value", p - base, status);
      } else {
        c = b[++p];
        continue;
      }
      const nb = b[next];
      if (nb !== SP && nb !== HT) break;
      folded = true;
      p = next;
      c = nb;
    }
    let ve = p;
    let value: string | null = null;
    if (folded) value = unfold(b, vs, ve);
    else while (ve > vs && (b[ve - 1] === SP || b[ve - 1] === HT)) ve--;
    const count = values.length;
    if (count >= maxHeaders) return fail("too_many_headers", ns - base, status);
    p = next;
    let keep = true;
    const special = SPECIAL_LENGTH[ne - ns] === 1 ? specialName(b, ns, ne) : "";
    switch (special) {
      case CONTENT_LENGTH: {
        // The usual value is plain digits, which need no string.
        let n = value === null ? plainDigits(b, vs, ve) : -1;
        if (n < 0) {
          value ??= latin1(b, vs, ve);
          n = parseContentLength(value);
        }
        if (n < 0 || (f.contentLength >= 0 && n !== f.contentLength)) {
          return fail(
            n === -2 || n >= 0 ? "content_length_conflict" : "bad_content_length",
            vs - base,
            status,
          );
        }
        if (f.clIndex >= 0) keep = false;
        else {
          f.contentLength = n;
          f.clIndex = count;
          if (value !== null) value = cleanContentLength(value);
        }
        break;
      }
      case TRANSFER_ENCODING:
        value ??= latin1(b, vs, ve);
        if (f.teTokens === null) f.teTokens = [];
        if (!addTokens(value, f.teTokens)) f.teBad = true;
        break;
      case CONNECTION:
        flags |= F_CONNECTION;
        if (value === null) connectionTokenBytes(b, vs, ve, f);
        else connectionTokens(value, f);
        break;
      case HOST:
        if (isRequest) {
          if (f.hostIndex < 0) {
            f.hostIndex = count;
            f.hostOffset = ns - base;
          } else {
            value ??= latin1(b, vs, ve);
            if (equalsLower(value, fieldValue(f, f.hostIndex).toLowerCase())) keep = false;
            else return fail("duplicate_host", ns - base, status);
          }
        }
        break;
      case UPGRADE:
        value ??= latin1(b, vs, ve);
        f.upgradeValue = f.upgradeValue === null ? value : f.upgradeValue + ", " + value;
        f.upgradeOffset = ns - base;
        break;
      case EXPECT:
        value ??= latin1(b, vs, ve);
        if (equalsLower(value, "100-continue")) f.expectContinue = true;
        break;
      case WS_KEY:
        f.wsKey = true;
        break;
    }
    if (keep) {
      spans.push(ns - from, ne - from, vs - from, ve - from, flags);
      values.push(value);
    }
  }
  f.end = p;
  return f;
}

/** The value of field `i` of `f` as a string. */
function fieldValue(f: Fields, i: number): string {
  const v = f.values[i];
  if (v !== null) return v;
  const at = i * SPAN_STRIDE;
  return latin1(f.src, f.from + f.spans[at + 2], f.from + f.spans[at + 3]);
}

/** b[s..e) as a number when it is 1 to 15 decimal digits, else -1. */
function plainDigits(b: Uint8Array, s: number, e: number): number {
  if (e <= s || e - s > 15) return -1;
  let n = 0;
  for (let i = s; i < e; i++) {
    const d = b[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Joins an obs-fold value: CR and LF become spaces (as HAProxy does), blanks trimmed. */
function unfold(b: Uint8Array, s: number, e: number): string {
  const tmp = b.slice(s, e);
  for (let i = 0; i < tmp.length; i++) if (tmp[i] === CR || tmp[i] === LF) tmp[i] = SP;
  let a = 0;
  let z = tmp.length;
  while (a < z && (tmp[a] === SP || tmp[a] === HT)) a++;
  while (z > a && (tmp[z - 1] === SP || tmp[z - 1] === HT)) z--;
  return latin1(tmp, a, z);
}

/**
 * Parses a Content-Length value: one or more comma-separated decimal numbers, all equal.
 * Returns the length, -1 when malformed (empty element, non-digit, over 2^53-1), -2 when the
 * list holds different values.
 */
export function parseContentLength(v: string): number {
  let result = -1;
  let i = 0;
  const n = v.length;
  for (;;) {
    while (i < n && (v.charCodeAt(i) === SP || v.charCodeAt(i) === HT)) i++;
    const ds = i;
    let x = 0;
    while (i < n) {
      const d = v.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      x = x * 10 + d;
      i++;
    }
    if (i === ds || x > Number.MAX_SAFE_INTEGER) return -1;
    while (i < n && (v.charCodeAt(i) === SP || v.charCodeAt(i) === HT)) i++;
    if (result >= 0 && x !== result) return -2;
    result = x;
    if (i === n) return result;
    if (v.charCodeAt(i) !== 0x2c) return -1;
    i++;
  }
}

/** HAProxy forwards a single cleaned element of a valid Content-Length list. */
function cleanContentLength(v: string): string {
  const comma = v.indexOf(",");
  return trimLws(comma < 0 ? v : v.slice(0, comma));
}

/** Trims spaces and tabs only (String#trim would also eat VT, FF, NBSP). */
export function trimLws(s: string): string {
  let a = 0;
  let z = s.length;
  while (a < z && (s.charCodeAt(a) === SP || s.charCodeAt(a) === HT)) a++;
  while (z > a && (s.charCodeAt(z - 1) === SP || s.charCodeAt(z - 1) === HT)) z--;
  return a === 0 && z === s.length ? s : s.slice(a, z);
}

/** Appends lower-cased comma-separated tokens; returns false when the value holds none. */
function addTokens(v: string, out: string[]): boolean {
  let any = false;
  for (const part of v.split(",")) {
    const t = trimLws(part);
    if (t.length === 0) continue;
    out.push(t.toLowerCase());
    any = true;
  }
  return any;
}

function connectionTokens(v: string, f: Fields): void {
  let i = 0;
  while (i <= v.length) {
    let j = v.indexOf(",", i);
    if (j < 0) j = v.length;
    const t = trimLws(v.slice(i, j)).toLowerCase();
    if (t === "close") f.connectionClose = true;
    else if (t === "keep-alive") f.connectionKeepAlive = true;
    else if (t === "upgrade") {
      f.connectionUpgrade = true;
      f.connectionOther = true;
    } else if (t.length > 0) f.connectionOther = true;
    i = j + 1;
  }
}

/** `connectionTokens` over the bytes of a value, without making strings. */
function connectionTokenBytes(b: Uint8Array, s: number, e: number, f: Fields): void {
  let i = s;
  while (i <= e) {
    let j = i;
    while (j < e && b[j] !== 0x2c) j++;
    let a = i;
    let z = j;
    while (a < z && (b[a] === SP || b[a] === HT)) a++;
    while (z > a && (b[z - 1] === SP || b[z - 1] === HT)) z--;
    if (z > a) {
      if (tokenIs(b, a, z, "close")) f.connectionClose = true;
      else if (tokenIs(b, a, z, "keep-alive")) f.connectionKeepAlive = true;
      else {
        if (tokenIs(b, a, z, "upgrade")) f.connectionUpgrade = true;
        f.connectionOther = true;
      }
    }
    i = j + 1;
  }
}

/** b[s..e) equals the lower-case token `lower`, ignoring ASCII case. */
function tokenIs(b: Uint8Array, s: number, e: number, lower: string): boolean {
  if (e - s !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = b[s + i];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** True when comma-separated `v` contains token `lower` (case-insensitive). */
export function hasToken(v: string, lower: string): boolean {
  for (const part of v.split(",")) if (equalsLower(trimLws(part), lower)) return true;
  return false;
}

/**
 * Request Transfer-Encoding rules, as HAProxy 2.6.12 answers them (verified): no coding, an
 * empty value, `chunked` not last or repeated → 400; other codings before a final `chunked`
 * → 422.
 */
function checkRequestTe(
  tokens: string[],
  bad: boolean,
): { reason: ParseErrorReason; status: number } | null {
  const last = tokens.length - 1;
  const at = tokens.indexOf("chunked");
  if (bad || at < 0 || at !== last) return { reason: "bad_transfer_encoding", status: 400 };
  if (last > 0) return { reason: "unsupported_transfer_coding", status: 422 };
  return null;
}

function removeIndex(f: Fields, i: number): void {
  f.spans.splice(i * SPAN_STRIDE, SPAN_STRIDE);
  f.values.splice(i, 1);
  if (f.hostIndex > i) f.hostIndex--;
}

/** Authority of an absolute-form target (after `scheme://`, up to `/`, userinfo dropped) or of a
 * CONNECT authority-form target; null otherwise. */
function targetAuthority(m: string, target: string): string | null {
  const sep = target.indexOf("://");
  if (target.charCodeAt(0) !== 0x2f && sep > 0) {
    let e = target.indexOf("/", sep + 3);
    if (e < 0) e = target.length;
    const auth = target.slice(sep + 3, e);
    const at = auth.lastIndexOf("@");
    return stripDefaultPort(at >= 0 ? auth.slice(at + 1) : auth, target.slice(0, sep));
  }
  if (m === "CONNECT") return target;
  return null;
}

function stripDefaultPort(auth: string, scheme: string): string {
  const s = scheme.toLowerCase();
  if (auth.endsWith(":")) return auth.slice(0, -1);
  if (s === "http" && auth.endsWith(":80")) return auth.slice(0, -3);
  if (s === "https" && auth.endsWith(":443")) return auth.slice(0, -4);
  return auth;
}

function sameAuthority(auth: string, host: string): boolean {
  return auth.toLowerCase() === host.toLowerCase();
}
