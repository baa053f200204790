/**
 * Sample fetches over an HTTP transaction, as HAProxy 2.6 evaluates them. Two views exist:
 * - {@linkcode fetchAll}: every occurrence, in the order an ACL tries them (all `Host` values,
 *   all `a` cookies, all `q` URL parameters);
 * - {@linkcode fetchSample}: the one value a `%[fetch]` expression or `set-var` uses (the last
 *   header value, the last named cookie, the first URL parameter...).
 *
 * Request-only fetches have no value on the response side, response-only ones none on the
 * request side (HAProxy: "will never match"). A missing value is `null`.
 *
 * @module
 */

import { uriPath } from "../balance/keys.ts";
import type { MessageHead } from "../http1/types.ts";
import { parseIP } from "../../sys/sockaddr.ts";
import { getHeaderLines, getHeaderValues, trimBlanks } from "./headers.ts";
import type { HttpTxn } from "./txn.ts";

/** A fetched sample: its type and one or more values (never empty). */
export type Sample =
  | { readonly type: "str"; readonly values: readonly string[] }
  | { readonly type: "int"; readonly values: readonly number[] }
  | { readonly type: "ip"; readonly values: readonly string[] }
  | { readonly type: "bool"; readonly values: readonly boolean[] };

/**
 * Which message the rule being evaluated is attached to; "connection" for `mode tcp`, where
 * only the connection's fetches (src, dst_port, ssl_fc, ...) have values.
 */
export type Side = "request" | "response" | "connection";

/** Options of the fetch functions. */
export interface FetchOptions {
  /** Defaults to "response" once `txn.res` is set, else "request". */
  readonly side?: Side;
}

type Pick = "first" | "last" | number;

interface Fetched {
  readonly sample: Sample;
  /** Which value the sample context uses. */
  readonly pick: Pick;
}

/** The side a fetch is evaluated on when not given. */
export function defaultSide(txn: HttpTxn): Side {
  return txn.res === null ? "request" : "response";
}

/** Every value of `fetch(arg)` (ACL view), or null when it has none. */
export function fetchAll(
  txn: HttpTxn,
  fetch: string,
  arg: string | null,
  options: FetchOptions = {},
): Sample | null {
  return evaluate(txn, fetch, arg, options.side ?? defaultSide(txn))?.sample ?? null;
}

/** The single value of `fetch(arg)` a sample expression uses, or null when it has none. */
export function fetchSample(
  txn: HttpTxn,
  fetch: string,
  arg: string | null,
  options: FetchOptions = {},
): Sample | null {
  const f = evaluate(txn, fetch, arg, options.side ?? defaultSide(txn));
  if (f === null) return null;
  const n = f.sample.values.length;
  const i = f.pick === "first"
    ? 0
    : f.pick === "last"
    ? n - 1
    : f.pick > 0
    ? f.pick - 1
    : n + f.pick;
  if (i < 0 || i >= n) return null;
  const s = f.sample;
  switch (s.type) {
    case "str":
    case "ip":
      return { type: s.type, values: [s.values[i]] };
    case "int":
      return { type: "int", values: [s.values[i]] };
    case "bool":
      return { type: "bool", values: [s.values[i]] };
  }
}

/** The text of a sample's first value: ints in decimal, booleans as `1`/`0` (as HAProxy). */
export function sampleText(sample: Sample): string {
  const v = sample.values[0];
  return typeof v === "boolean" ? (v ? "1" : "0") : String(v);
}

/** HAProxy's strl2ic: an optional sign then leading digits; anything else stops (0 if none). */
export function parseLeadingInt(s: string): number {
  const m = /^[ \t]*([+-]?\d+)/.exec(s);
  return m === null ? 0 : Number(m[1]);
}

/** The path part of a request target (no query), or null for `*` and authority form. */
export function targetPath(target: string): string | null {
  const p = uriPath(target);
  if (p === "") return null;
  const q = p.indexOf("?");
  return q < 0 ? p : p.slice(0, q);
}

/** The query string of a request target (after the first `?`), or null without `?`. */
export function targetQuery(target: string): string | null {
  const q = target.indexOf("?");
  return q < 0 ? null : target.slice(q + 1);
}

const REQUEST_ONLY = new Set([
  "path",
  "url",
  "base",
  "query",
  "method",
  "req.ver",
  "req_ver",
  "hdr",
  "req.hdr",
  "req.fhdr",
  "hdr_cnt",
  "req.hdr_cnt",
  "hdr_val",
  "hdr_ip",
  "url_param",
  "urlp",
  "cook",
  "req.cook",
]);
const RESPONSE_ONLY = new Set(["status", "res.hdr", "shdr", "res.hdr_cnt", "res.ver"]);

function str(values: readonly string[], pick: Pick = "first"): Fetched | null {
  return values.length === 0 ? null : { sample: { type: "str", values }, pick };
}

function int(values: readonly number[], pick: Pick = "first"): Fetched | null {
  return values.length === 0 ? null : { sample: { type: "int", values }, pick };
}

function one(value: string | null): Fetched | null {
  return value === null ? null : str([value]);
}

function bool(value: boolean): Fetched {
  return { sample: { type: "bool", values: [value] }, pick: "first" };
}

/** Splits `name[,occ]`: the lower-case header name (null when empty) and the occurrence. */
function headerArg(arg: string | null): { name: string | null; occ: Pick } {
  if (arg === null) return { name: null, occ: "last" };
  const comma = arg.indexOf(",");
  const name = trimBlanks(comma < 0 ? arg : arg.slice(0, comma)).toLowerCase();
  const occText = comma < 0 ? "" : trimBlanks(arg.slice(comma + 1));
  const occ = /^[+-]?\d+$/.test(occText) && Number(occText) !== 0 ? Number(occText) : "last";
  return { name: name === "" ? null : name, occ };
}

function headerFetch(head: MessageHead | null, arg: string | null, full: boolean): Fetched | null {
  if (head === null) return null;
  const { name, occ } = headerArg(arg);
  const values = full ? getHeaderLines(head, name) : getHeaderValues(head, name);
  if (values.length === 0) return null;
  // With an explicit occurrence, ACLs see only that one value too.
  if (typeof occ === "number") {
    const i = occ > 0 ? occ - 1 : values.length + occ;
    return i >= 0 && i < values.length ? str([values[i]]) : null;
  }
  return str(values, occ);
}

function cookies(head: MessageHead, name: string | null): string[] {
  const out: string[] = [];
  for (const line of getHeaderLines(head, "cookie")) {
    for (const part of line.split(";")) {
      const eq = part.indexOf("=");
      if (eq < 0) continue;
      const n = trimBlanks(part.slice(0, eq));
      if (n === "" || (name !== null && n !== name)) continue;
      out.push(trimBlanks(part.slice(eq + 1)));
    }
  }
  return out;
}

/** URL parameter values: `name=value` fields after `?` (or `delim`), ended by `&`, `;` or
 * `delim`; every parameter when `name` is null. */
function urlParams(target: string, name: string | null, delim: string): string[] {
  let start = -1;
  for (let i = 0; i < target.length; i++) {
    const c = target[i];
    if (c === "?" || (delim !== "" && c === delim)) {
      start = i + 1;
      break;
    }
  }
  if (start < 0) return [];
  const out: string[] = [];
  let field = "";
  const flush = () => {
    const eq = field.indexOf("=");
    if (eq >= 0 && (name === null ? eq > 0 : field.slice(0, eq) === name)) {
      out.push(field.slice(eq + 1));
    }
    field = "";
  };
  for (let i = start; i < target.length; i++) {
    const c = target[i];
    if (c === "&" || c === ";" || c === "?" || (delim !== "" && c === delim)) flush();
    else field += c;
  }
  flush();
  return out;
}

function evaluate(txn: HttpTxn, fetch: string, arg: string | null, side: Side): Fetched | null {
  if (side !== "request" && REQUEST_ONLY.has(fetch)) return null;
  if (side !== "response" && RESPONSE_ONLY.has(fetch)) return null;
  const req = txn.req;
  const conn = txn.conn;
  switch (fetch) {
    case "path":
      return one(targetPath(req.target));
    case "url":
      return one(req.target);
    case "query":
      return one(targetQuery(req.target));
    case "base": {
      const host = getHeaderValues(req, "host")[0] ?? "";
      const path = targetPath(req.target) ?? "";
      return host === "" && path === "" ? null : one(host + path);
    }
    case "method":
      return one(req.method);
    case "req.ver":
    case "req_ver":
      return one(req.version.replace(/^HTTP\//, ""));
    case "hdr":
    case "req.hdr":
      return headerFetch(req, arg, false);
    case "req.fhdr":
      return headerFetch(req, arg, true);
    case "hdr_cnt":
    case "req.hdr_cnt":
      return int([getHeaderValues(req, headerArg(arg).name).length]);
    case "hdr_val": {
      const f = headerFetch(req, arg, false);
      if (f === null || f.sample.type !== "str") return null;
      return int(f.sample.values.map(parseLeadingInt), f.pick);
    }
    case "hdr_ip": {
      const f = headerFetch(req, arg, false);
      if (f === null || f.sample.type !== "str") return null;
      const ips = f.sample.values.map(headerIp).filter((v): v is string => v !== null);
      return ips.length === 0 ? null : { sample: { type: "ip", values: ips }, pick: f.pick };
    }
    case "url_param":
    case "urlp": {
      const comma = (arg ?? "").indexOf(",");
      const name = comma < 0 ? arg : (arg ?? "").slice(0, comma);
      const delim = comma < 0 ? "" : (arg ?? "").slice(comma + 1, comma + 2);
      return str(urlParams(req.target, name === "" ? null : name, delim), "first");
    }
    case "cook":
    case "req.cook": {
      const name = arg === null || arg === "" ? null : arg;
      return str(cookies(req, name), name === null ? "first" : "last");
    }
    case "src":
      return conn.src === "" ? null : { sample: { type: "ip", values: [conn.src] }, pick: "first" };
    case "dst":
      return conn.dst === "" ? null : { sample: { type: "ip", values: [conn.dst] }, pick: "first" };
    case "src_port":
      return int([conn.srcPort]);
    case "dst_port":
      return int([conn.dstPort]);
    case "ssl_fc":
      return bool(conn.ssl);
    case "ssl_fc_sni":
      return one(conn.sni);
    case "ssl_fc_alpn":
      return one(conn.alpn);
    case "ssl_fc_protocol":
      return one(conn.tlsVersion);
    case "var":
      return one(arg === null ? null : txn.vars.get(arg) ?? null);
    case "always_true":
      return bool(true);
    case "always_false":
      return bool(false);
    case "status":
      return txn.res === null ? null : int([txn.res.status]);
    case "res.hdr":
    case "shdr":
      return headerFetch(txn.res, arg, false);
    case "res.hdr_cnt":
      return txn.res === null ? null : int([getHeaderValues(txn.res, headerArg(arg).name).length]);
    case "res.ver":
      return txn.res === null ? null : one(txn.res.version.replace(/^HTTP\//, ""));
    default:
      return null;
  }
}

/** An IP from a header value as req.hdr_ip parses it: IPv4 (optionally `:port`) or IPv6. */
function headerIp(value: string): string | null {
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d{1,5})?$/.exec(value);
  if (v4 !== null && v4[1].split(".").every((o) => Number(o) <= 255)) return v4[1];
  const v6 = value.startsWith("[") && value.endsWith("]") ? value.slice(1, -1) : value;
  return v6.includes(":") && parseIP(v6)?.family === 6 ? v6 : null;
}
