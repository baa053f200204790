/**
 * Parsing of one complete HTTP/1 message head (start line + header section) held in a byte
 * buffer, answered the way HAProxy 2.6.12 answers (verified verdicts are recorded in
 * `testdata/malformed/*.expected`). The incremental framing lives in `parser.ts`.
 *
 * @module
 */

import { equalsLower, latin1, TCHAR } from "./chars.ts";
import {
  type BodyKind,
  type HeaderList,
  isParseError,
  type ParseError,
  type ParseErrorReason,
  type RequestHead,
  type ResponseHead,
} from "./types.ts";

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;
const COLON = 58;

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
for (
  const n of [
    "content-length",
    "transfer-encoding",
    "connection",
    "host",
    "upgrade",
    "expect",
    "sec-websocket-key",
  ]
) SPECIAL_LENGTH[n.length] = 1;

const utf8 = new TextDecoder();
/** ASCII text of the head being parsed (one native decode + slices), or null when the head
 * holds bytes >= 0x80 (then fields are decoded one by one as latin1). */
let headText: string | null = null;
let headTextAt = 0;
let headLower: string | null = null;

function beginText(b: Uint8Array, start: number, end: number): void {
  const s = utf8.decode(b.subarray(start, end));
  headText = s.length === end - start && s.indexOf("\ufffd") < 0 ? s : null;
  headTextAt = start;
  headLower = null;
}

/** The latin1 string of b[s..e) of the head being parsed. */
function text(b: Uint8Array, s: number, e: number): string {
  return headText !== null ? headText.slice(s - headTextAt, e - headTextAt) : latin1(b, s, e);
}

/** Lower-case form of header name `name` found at b[s..e). */
function lowerText(name: string, s: number, e: number): string {
  if (headText === null) return name.toLowerCase();
  if (headLower === null) headLower = headText.toLowerCase();
  return headLower.slice(s - headTextAt, e - headTextAt);
}

function fail(reason: ParseErrorReason, offset: number, status: number): ParseError {
  return { reason, offset, status };
}

/** Result of parsing the header fields plus what they say about framing. */
interface Fields {
  headers: HeaderList;
  lowerNames: string[];
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

/** Parses a request head. Returns the head or a ParseError (status 400, or 422). */
export function parseRequestHead(span: HeadSpan, limits: HeadLimits): RequestHead | ParseError {
  const b = span.buf;
  const base = span.base;
  let p = span.start;
  beginText(b, p, span.end);
  let c = b[p];
  // method
  const ms = p;
  while (TCHAR[c] === 1) c = b[++p];
  if (p === ms) return fail("bad_method", p - base, 400);
  if (c === CR || c === LF) return fail("http09_request", p - base, 400);
  if (c !== SP && c !== HT) return fail("bad_method", p - base, 400);
  const method = text(b, ms, p);
  do c = b[++p]; while (c === SP || c === HT);
  // target: visible ASCII only
  const ts = p;
  while (c > 0x20 && c < 0x7f) c = b[++p];
  if (c === CR || c === LF) return fail("http09_request", p - base, 400);
  if (c !== SP && c !== HT) return fail("bad_target", p - base, 400);
  const target = text(b, ts, p);
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
  const version = text(b, vs, vs + 8);
  if (method === "PRI" && target === "*" && version === "HTTP/2.0") {
    return fail("h2_preface", 0, 400);
  }
  const f = parseFields(b, p, base, limits, true);
  if (isParseError(f)) return f;
  const http11 = vcode >= 12;
  // Host: duplicates were checked while parsing; compare with the target's authority.
  if (f.hostIndex >= 0) {
    const auth = targetAuthority(method, target);
    if (auth !== null && !sameAuthority(auth, f.headers[f.hostIndex][1])) {
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
  return {
    method,
    target,
    version,
    http11,
    headers: f.headers,
    lowerNames: f.lowerNames,
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
  };
}

/**
 * Parses a response head to a request made with `requestMethod` (decides HEAD/CONNECT framing).
 * Returns the head or a ParseError with status 502.
 */
export function parseResponseHead(
  span: HeadSpan,
  limits: HeadLimits,
  requestMethod: string,
): ResponseHead | ParseError {
  const b = span.buf;
  const base = span.base;
  let p = span.start;
  beginText(b, p, span.end);
  let c = b[p];
  const vs = p;
  while (c !== SP && c !== HT && c !== CR && c !== LF) c = b[++p];
  const vcode = versionCode(b, vs, p);
  if (vcode === 0 || (c !== SP && c !== HT)) return fail("bad_version", vs - base, 502);
  const version = text(b, vs, p);
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
    reason = text(b, rs, p);
  } else if (c !== CR && c !== LF) return fail("bad_status", p - base, 502);
  if (c === CR) {
    if (b[p + 1] !== LF) return fail("bad_line_ending", p - base, 502);
    p++;
  }
  p++;
  const f = parseFields(b, p, base, limits, false);
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
  return {
    status,
    reason,
    interim,
    version,
    http11,
    headers: f.headers,
    lowerNames: f.lowerNames,
    bodyKind,
    contentLength,
    connectionClose: f.connectionClose,
    connectionKeepAlive: f.connectionKeepAlive,
    connectionUpgrade: f.connectionUpgrade,
    keepAlive: !forceClose && bodyKind !== "close" &&
      (http11 ? !f.connectionClose : f.connectionKeepAlive && !f.connectionClose),
    headLength: span.end - base,
  };
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
  beginText(span.buf, span.start, span.end);
  const f = parseFields(span.buf, span.start, span.base, limits, isRequest);
  if (isParseError(f)) return fail("bad_trailer", f.offset, f.status);
  return f.headers;
}

/** Parses header fields from `p` up to and including the final empty line. */
function parseFields(
  b: Uint8Array,
  p: number,
  base: number,
  limits: HeadLimits,
  isRequest: boolean,
): Fields | ParseError {
  const status = isRequest ? 400 : 502;
  const f: Fields = {
    headers: [],
    lowerNames: [],
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
    let upper = false;
    while (TCHAR[c] === 1) {
      if (c >= 0x41 && c <= 0x5a) upper = true;
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
    let value: string;
    if (folded) {
      value = unfold(b, vs, ve);
    } else {
      while (ve > vs && (b[ve - 1] === SP || b[ve - 1] === HT)) ve--;
      value = text(b, vs, ve);
    }
    if (f.headers.length >= maxHeaders) return fail("too_many_headers", ns - base, status);
    const name = text(b, ns, ne);
    const lower = upper ? lowerText(name, ns, ne) : name;
    p = next;
    let keep = true;
    const special = SPECIAL_LENGTH[ne - ns] === 1 ? lower : "";
    switch (special) {
      case "content-length": {
        const n = parseContentLength(value);
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
          f.clIndex = f.headers.length;
          value = cleanContentLength(value);
        }
        break;
      }
      case "transfer-encoding":
        if (f.teTokens === null) f.teTokens = [];
        if (!addTokens(value, f.teTokens)) f.teBad = true;
        break;
      case "connection":
        connectionTokens(value, f);
        break;
      case "host":
        if (isRequest) {
          if (f.hostIndex < 0) {
            f.hostIndex = f.headers.length;
            f.hostOffset = ns - base;
          } else if (equalsLower(value, f.headers[f.hostIndex][1].toLowerCase())) {
            keep = false;
          } else return fail("duplicate_host", ns - base, status);
        }
        break;
      case "upgrade":
        f.upgradeValue = f.upgradeValue === null ? value : f.upgradeValue + ", " + value;
        f.upgradeOffset = ns - base;
        break;
      case "expect":
        if (equalsLower(value, "100-continue")) f.expectContinue = true;
        break;
      case "sec-websocket-key":
        f.wsKey = true;
        break;
    }
    if (keep) {
      f.headers.push([name, value]);
      f.lowerNames.push(lower);
    }
  }
  f.end = p;
  return f;
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
    else if (t === "upgrade") f.connectionUpgrade = true;
    i = j + 1;
  }
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
  f.headers.splice(i, 1);
  f.lowerNames.splice(i, 1);
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
