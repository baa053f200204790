/**
 * ACL evaluation over an HTTP transaction: one criterion ({@linkcode evalAcl}) and whole
 * conditions in disjunctive normal form ({@linkcode evalCondition}). Patterns of one criterion
 * are ORed, every value the fetch yields is tried (all `Host` headers...), terms are ANDed, OR
 * groups ORed, `!` negates a term and `unless` the whole condition.
 *
 * Compiled patterns (regexes, networks, integer ranges) are cached per `AclExpr` object.
 *
 * @module
 */

import { FETCHES } from "../../config/fetch.ts";
import type { AclExpr, Condition } from "../../config/types.ts";
import { parseIP } from "../../sys/sockaddr.ts";
import { fetchAll, type FetchOptions, parseLeadingInt, type Sample } from "./fetch.ts";
import type { HttpTxn } from "./txn.ts";

type IntTest = (n: number) => boolean;
interface Net {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefix: number;
}
type Compiled =
  | { readonly kind: "strings"; readonly values: readonly string[] }
  | { readonly kind: "regex"; readonly regexes: readonly RegExp[] }
  | { readonly kind: "ints"; readonly tests: readonly IntTest[] }
  | { readonly kind: "nets"; readonly nets: readonly Net[] }
  | { readonly kind: "none" };

const compiledCache = new WeakMap<AclExpr, Compiled>();

function intTest(pattern: string): IntTest {
  const op = /^(eq|ge|gt|le|lt) (\d+)$/.exec(pattern);
  if (op !== null) {
    const v = Number(op[2]);
    switch (op[1]) {
      case "eq":
        return (n) => n === v;
      case "ge":
        return (n) => n >= v;
      case "gt":
        return (n) => n > v;
      case "le":
        return (n) => n <= v;
      default:
        return (n) => n < v;
    }
  }
  const colon = pattern.indexOf(":");
  if (colon < 0) {
    const v = Number(pattern);
    return (n) => n === v;
  }
  const lo = colon === 0 ? -Infinity : Number(pattern.slice(0, colon));
  const hi = colon === pattern.length - 1 ? Infinity : Number(pattern.slice(colon + 1));
  return (n) => n >= lo && n <= hi;
}

function parseNet(pattern: string): Net | null {
  const slash = pattern.indexOf("/");
  const ip = parseIP(slash < 0 ? pattern : pattern.slice(0, slash));
  if (ip === null) return null;
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = pattern.slice(slash + 1);
    if (/^\d+$/.test(p)) prefix = Number(p);
    else {
      // A dotted mask such as 255.255.0.0.
      const mask = parseIP(p);
      if (mask === null || mask.family !== 4) return null;
      prefix = mask.bytes.reduce((acc, b) => acc + popcount(b), 0);
    }
  }
  return { family: ip.family, bytes: ip.bytes, prefix: Math.min(prefix, max) };
}

function popcount(b: number): number {
  let n = 0;
  for (let x = b; x !== 0; x >>= 1) n += x & 1;
  return n;
}

function compile(expr: AclExpr): Compiled {
  const cached = compiledCache.get(expr);
  if (cached !== undefined) return cached;
  let c: Compiled;
  switch (expr.match) {
    case "reg":
      c = {
        kind: "regex",
        regexes: expr.values.map((v) => new RegExp(v, expr.ignoreCase ? "i" : "")),
      };
      break;
    case "int":
    case "len":
      c = { kind: "ints", tests: expr.values.map(intTest) };
      break;
    case "ip":
      c = {
        kind: "nets",
        nets: expr.values.map(parseNet).filter((n): n is Net => n !== null),
      };
      break;
    case "found":
    case "bool":
      c = { kind: "none" };
      break;
    default:
      c = {
        kind: "strings",
        values: expr.ignoreCase ? expr.values.map((v) => v.toLowerCase()) : expr.values,
      };
  }
  compiledCache.set(expr, c);
  return c;
}

/** True when IP text `ip` is inside network `net` (IPv4-mapped IPv6 counts as IPv4). */
function inNet(ip: string, net: Net): boolean {
  const parsed = parseIP(ip);
  if (parsed === null) return false;
  let bytes = parsed.bytes;
  if (parsed.family === 6 && net.family === 4 && isV4Mapped(bytes)) bytes = bytes.slice(12);
  else if (parsed.family === 4 && net.family === 6) {
    bytes = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...bytes]);
  }
  if (bytes.length !== net.bytes.length) return false;
  let bits = net.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i] & mask) !== (net.bytes[i] & mask)) return false;
  }
  return true;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** HAProxy's match_word: `word` (its own leading/trailing `delim` dropped) appears in `s`
 * bounded by `delim` or the ends of `s`. */
function matchWord(s: string, word: string, delim: string): boolean {
  let w = word;
  while (w.startsWith(delim)) w = w.slice(1);
  while (w.endsWith(delim)) w = w.slice(0, -1);
  if (w === "") return false;
  for (let p = s.indexOf(w); p >= 0; p = s.indexOf(w, p + 1)) {
    const before = p === 0 || s[p - 1] === delim;
    const after = p + w.length === s.length || s[p + w.length] === delim;
    if (before && after) return true;
  }
  return false;
}

function valueText(v: string | number | boolean): string {
  return typeof v === "boolean" ? (v ? "1" : "0") : String(v);
}

function valueInt(v: string | number | boolean): number {
  return typeof v === "number" ? v : typeof v === "boolean" ? (v ? 1 : 0) : parseLeadingInt(v);
}

function matchOne(
  expr: AclExpr,
  c: Compiled,
  v: string | number | boolean,
  type: Sample["type"],
): boolean {
  switch (expr.match) {
    case "found":
      return true;
    case "bool":
      return typeof v === "boolean" ? v : typeof v === "number" ? v !== 0 : false;
    case "int":
      return c.kind === "ints" && c.tests.some((t) => t(valueInt(v)));
    case "len":
      return c.kind === "ints" && c.tests.some((t) => t(valueText(v).length));
    case "ip":
      return c.kind === "nets" && (type === "ip" || typeof v === "string") &&
        c.nets.some((n) => inNet(valueText(v), n));
    case "reg":
      return c.kind === "regex" && c.regexes.some((r) => r.test(valueText(v)));
    default: {
      if (c.kind !== "strings") return false;
      const s = expr.ignoreCase ? valueText(v).toLowerCase() : valueText(v);
      switch (expr.match) {
        case "str":
          return c.values.includes(s);
        case "beg":
          return c.values.some((p) => s.startsWith(p));
        case "end":
          return c.values.some((p) => s.endsWith(p));
        case "sub":
          return c.values.some((p) => s.includes(p));
        case "dir":
          return c.values.some((p) => matchWord(s, p, "/"));
        default:
          return c.values.some((p) => matchWord(s, p, "."));
      }
    }
  }
}

/** True when one ACL criterion matches: any value of its fetch matches any pattern. */
export function evalAcl(expr: AclExpr, txn: HttpTxn, options: FetchOptions = {}): boolean {
  const base = FETCHES.get(expr.fetch)?.base ?? expr.fetch;
  const sample = fetchAll(txn, base, expr.arg, options);
  if (sample === null) return false;
  const c = compile(expr);
  const values: readonly (string | number | boolean)[] = sample.values;
  // A boolean fetch without patterns (`{ ssl_fc }`, `always_true`) matches on its value.
  if (sample.type === "bool" && expr.values.length === 0 && expr.match !== "found") {
    return values.some((v) => v === true);
  }
  for (const v of values) if (matchOne(expr, c, v, sample.type)) return true;
  return false;
}

/** True when `cond` holds for `txn` (OR of AND groups, `!` terms, `unless`). */
export function evalCondition(
  cond: Condition,
  txn: HttpTxn,
  options: FetchOptions = {},
): boolean {
  let result = false;
  for (const group of cond.or) {
    let all = true;
    for (const term of group) {
      const any = term.exprs.some((e) => evalAcl(e, txn, options));
      if (any === term.negate) {
        all = false;
        break;
      }
    }
    if (all) {
      result = true;
      break;
    }
  }
  return cond.unless ? !result : result;
}

/** {@linkcode evalCondition}, with no condition meaning "always". */
export function condMatches(
  cond: Condition | null,
  txn: HttpTxn,
  options: FetchOptions = {},
): boolean {
  return cond === null || evalCondition(cond, txn, options);
}

/** True when IP text `ip` is inside `network` (`10.0.0.0/8`, `2001:db8::/32`, a bare IP). */
export function ipInNetwork(ip: string, network: string): boolean {
  const net = parseNet(network);
  return net !== null && inNet(ip, net);
}
