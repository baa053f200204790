/**
 * Cookie persistence (`cookie = { ... }` on a backend) as HAProxy 2.6 does it, in two steps:
 * {@linkcode requestPersistence} reads (and strips or unprefixes) the persistence cookie of the
 * request and names the server it points to; after the engine picked a server and got its
 * response, {@linkcode responseCookie} removes, rewrites or prefixes the server's own
 * Set-Cookie and inserts HAProxy's.
 *
 * Observed on haproxy 2.6.12 (expected values of the tests):
 * - insert: `set-cookie: SRV=c1; path=/; domain=.example.com; HttpOnly; Secure; SameSite=None`
 *   appended after the server's headers; with `nocache` on a cacheable response a
 *   `cache-control: private` line follows;
 * - insert + indirect: the cookie (valid or not) is removed from the request
 *   (`SRV=c1; other=1` → `other=1`; a header left empty is dropped);
 * - insert: a server's Set-Cookie with the same name is removed (unless `preserve`);
 * - rewrite: the server's `SRV=abc; path=/x` becomes `SRV=c1; path=/x`, in place;
 * - prefix: request `JS=c1~sess1` reaches the server as `JS=sess1` (any `x~` is stripped);
 *   the server's `JS=newsess` reaches the client as `JS=c1~newsess`.
 * - `maxidle`/`maxlife`: the inserted value carries dates, `SRV=c1|<last seen>[|<first set>]`,
 *   each a count of 4-second units since the epoch in 5 base64 characters (HAProxy's
 *   s30tob64). A cookie idle or old for longer is ignored (log `E`/`O`) and the request is
 *   load-balanced; a valid one gets its last-seen date refreshed once it is in the past (`U`).
 *   Dates in a request cookie are read in every mode but prefix, with or without these settings
 *   (the server id is what precedes the `|`).
 *
 * @module
 */

import type { CookieConfig } from "../../config/types.ts";
import { addHeader, removeHeaderAt, replaceHeaderAt, trimBlanks } from "./headers.ts";
import type { HttpTxn } from "./txn.ts";

/** A backend server as persistence sees it. */
export interface CookieServer {
  readonly name: string;
  /** Its `cookie` value; null when it has none. */
  readonly cookie: string | null;
  /** False when DOWN, in maintenance or disabled (a cookie naming it is then ignored);
   * default true (`ServerConfig` fits: the engine may also report a lost server later). */
  readonly usable?: boolean;
}

/** What the request's persistence cookie said (log: third termination-state character). */
export type CookieStatus = "none" | "invalid" | "down" | "valid" | "expired" | "old";

/** Result of {@linkcode requestPersistence}. */
export interface RequestPersistence {
  /** The server to use (HAProxy's "direct" access), or null to load-balance. */
  readonly serverName: string | null;
  readonly status: CookieStatus;
  /** `N`, `I`, `D`, `V`, `E` or `O`. */
  readonly logFlag: string;
  /** The cookie's last-seen date (Unix seconds, a multiple of 4), or 0. */
  readonly lastDate: number;
  /** The cookie's first-set date (Unix seconds, a multiple of 4), or 0. */
  readonly firstDate: number;
}

const LOG_STATUS: Record<CookieStatus, string> = {
  none: "N",
  invalid: "I",
  down: "D",
  valid: "V",
  expired: "E",
  old: "O",
};

/** HAProxy's alphabet for cookie dates. */
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** A date in the future by more than this is taken as expired (HAProxy: one day). */
const FUTURE_LIMIT_S = 86400;

/** The low 30 bits of `n` as 5 base64 characters, most significant first (s30tob64). */
export function encodeDate30(n: number): string {
  let out = "";
  for (let shift = 24; shift >= 0; shift -= 6) out += B64[(n >>> shift) & 63];
  return out;
}

/** The 5 base64 characters of `text` at `at` as a number, or -1 (b64tos30). */
export function decodeDate30(text: string, at: number): number {
  if (text.length - at < 5) return -1;
  let out = 0;
  for (let i = at; i < at + 5; i++) {
    const v = B64.indexOf(text[i]);
    if (v < 0) return -1;
    out = out * 64 + v;
  }
  return out;
}

/** The server id and the dates of a persistence cookie's value (`id|last|first`). */
function splitDates(value: string): { id: string; last: number; first: number } {
  const bar = value.indexOf("|");
  if (bar < 0) return { id: value, last: 0, first: 0 };
  const date = (at: number) => {
    const v = decodeDate30(value, at);
    return v > 0 ? v * 4 : 0;
  };
  const second = value.indexOf("|", bar + 1);
  return {
    id: value.slice(0, bar),
    last: date(bar + 1),
    first: second >= 0 && value.length - second > 5 ? date(second + 1) : 0,
  };
}

/** Why a dated cookie no longer counts at `now` (seconds), or null. */
function expiry(
  cfg: CookieConfig,
  dates: { last: number; first: number },
  now: number,
): "expired" | "old" | null {
  const too = (date: number, max: number) =>
    date > 0 && max > 0 && (now - date > max / 1000 || date - now > FUTURE_LIMIT_S);
  if (too(dates.first, cfg.maxlife)) return "old";
  if (too(dates.last, cfg.maxidle)) return "expired";
  return null;
}

/**
 * Finds the persistence cookie in `txn.req`'s Cookie headers and the server it names. Mutates
 * the request: insert+indirect removes the cookie, prefix mode strips `SERVER~` from its value.
 * Only the first cookie naming a usable server counts; an empty value is invalid. `servers` are
 * the backend's servers in configuration order.
 */
export function requestPersistence(
  cfg: CookieConfig,
  txn: HttpTxn,
  servers: readonly CookieServer[],
  now: number,
): RequestPersistence {
  const req = txn.req;
  let status: CookieStatus = "none";
  let serverName: string | null = null;
  let dated = { last: 0, first: 0 };
  const strip = cfg.mode === "insert" && cfg.indirect;
  for (let i = 0; i < req.lowerNames.length; i++) {
    if (req.lowerNames[i] !== "cookie") continue;
    const pieces = req.headers[i][1].split(";");
    const kept: string[] = [];
    let changed = false;
    for (const piece of pieces) {
      const eq = piece.indexOf("=");
      if (eq < 0 || trimBlanks(piece.slice(0, eq)) !== cfg.name) {
        kept.push(piece);
        continue;
      }
      const rawValue = piece.slice(eq + 1);
      const value = trimBlanks(rawValue);
      const tilde = cfg.mode === "prefix" ? value.indexOf("~") : -1;
      const split = cfg.mode === "prefix"
        ? { id: tilde >= 0 ? value.slice(0, tilde) : value, last: 0, first: 0 }
        : splitDates(value);
      if (serverName === null) {
        // As HAProxy: dates carry over from an earlier cookie unless this one has its own;
        // an expired or old cookie counts as absent and forgets them.
        if (split.last > 0) dated.last = split.last;
        if (split.first > 0) dated.first = split.first;
        const gone = expiry(cfg, dated, now);
        if (gone !== null) {
          status = gone;
          dated = { last: 0, first: 0 };
        } else {
          const found = lookup(split.id, servers);
          if (found.server !== null) {
            serverName = found.server;
            status = "valid";
          } else if (found.down) status = "down";
          else if (status === "none") status = "invalid";
        }
      }
      if (tilde >= 0) {
        kept.push(piece.slice(0, eq + 1) + rawValue.replace(value, value.slice(tilde + 1)));
        changed = true;
      } else if (strip) changed = true;
      else kept.push(piece);
    }
    if (!changed) continue;
    if (kept.length > 0) kept[0] = kept[0].replace(/^[ \t]+/, "");
    const joined = kept.join(";");
    if (trimBlanks(joined) === "") {
      removeHeaderAt(req, i);
      i--;
    } else replaceHeaderAt(req, i, joined);
  }
  return {
    serverName,
    status,
    logFlag: LOG_STATUS[status],
    lastDate: dated.last,
    firstDate: dated.first,
  };
}

function lookup(
  id: string,
  servers: readonly CookieServer[],
): { server: string | null; down: boolean } {
  let down = false;
  if (id === "") return { server: null, down };
  for (const s of servers) {
    if (s.cookie !== id) continue;
    if (s.usable ?? true) return { server: s.name, down: false };
    down = true;
  }
  return { server: null, down };
}

/** What happened to the persistence cookie on the response (log: fourth character). */
export type SetCookieAction =
  | "none"
  | "inserted"
  | "deleted"
  | "rewritten"
  | "provided"
  | "updated";

/** Options of {@linkcode responseCookie}. */
export interface ResponseCookieOptions {
  /** The `cookie` value of the server that produced the response (null: it has none). */
  readonly serverCookie: string | null;
  /** The server a valid persistence cookie named (`requestPersistence().serverName`), or null
   * (none, or it could not be used). The access is "direct" when it is `txn.server`. */
  readonly presented: string | null;
  /** The request cookie's dates (`requestPersistence()`), 0 when none. */
  readonly lastDate?: number;
  readonly firstDate?: number;
  /** Now, in Unix seconds. */
  readonly now: number;
}

/** Result of {@linkcode responseCookie}. */
export interface ResponseCookieResult {
  readonly action: SetCookieAction;
  /** `N`, `I`, `D`, `R`, `P` or `U`. */
  readonly logFlag: string;
}

const LOG_ACTION: Record<SetCookieAction, string> = {
  none: "N",
  inserted: "I",
  deleted: "D",
  rewritten: "R",
  provided: "P",
  updated: "U",
};

const CACHEABLE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/**
 * Whether HAProxy 2.6 judges the response cacheable (`nocache` then adds
 * `cache-control: private`): a GET/HEAD/OPTIONS/TRACE request or `Cache-Control: public`; not
 * `private`, `no-cache`, `no-store`, `s-maxage=0` nor `Pragma: no-cache`; and freshness
 * (`max-age`, `s-maxage`, `Expires`) or a validator (`ETag`, `Last-Modified`). Request headers
 * play no part (observed on haproxy 2.6.12: `Authorization` or `Cache-Control: no-store` in
 * the request still gets `cache-control: private`).
 */
export function isCacheable(txn: HttpTxn): boolean {
  const res = txn.res;
  if (res === null || res.status < 200) return false;
  let cacheable = CACHEABLE_METHODS.has(txn.req.method);
  let fresh = false;
  const has = (n: string) => res.lowerNames.includes(n);
  for (let i = 0; i < res.lowerNames.length; i++) {
    const n = res.lowerNames[i];
    if (n === "pragma") {
      for (const v of res.headers[i][1].split(",")) {
        if (trimBlanks(v).toLowerCase() === "no-cache") return false;
      }
    }
  }
  for (let i = 0; i < res.lowerNames.length; i++) {
    if (res.lowerNames[i] !== "cache-control") continue;
    for (const raw of res.headers[i][1].split(",")) {
      const v = trimBlanks(raw).toLowerCase();
      if (v === "public") cacheable = true;
      else if (v === "private" || v === "no-cache" || v === "no-store" || v === "s-maxage=0") {
        cacheable = false;
      } else if (v.startsWith("s-maxage") || v.startsWith("max-age")) fresh = true;
    }
  }
  if (!fresh) fresh = has("expires") || has("etag") || has("last-modified");
  return cacheable && fresh;
}

/**
 * The Set-Cookie value HAProxy inserts for a server cookie (null: the removal form). With
 * `maxidle` or `maxlife` the value carries the last-seen date (now, rounded up to 4 s) and with
 * `maxlife` the first-set date (`firstDate`, or now).
 */
export function insertedCookieValue(
  cfg: CookieConfig,
  serverCookie: string | null,
  dates: { now: number; firstDate?: number } = { now: 0 },
): string {
  let v = `${cfg.name}=`;
  if (serverCookie === null) v += "; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/";
  else {
    v += serverCookie;
    if (cfg.maxidle > 0 || cfg.maxlife > 0) {
      const now4 = Math.floor((dates.now + 3) / 4);
      v += "|" + encodeDate30(now4);
      const first = dates.firstDate ?? 0;
      if (cfg.maxlife > 0) v += "|" + encodeDate30(first > 0 ? Math.floor(first / 4) : now4);
    }
    v += "; path=/";
  }
  for (const d of cfg.domain) v += `; domain=${d}`;
  if (cfg.httponly) v += "; HttpOnly";
  if (cfg.secure) v += "; Secure";
  for (const a of cfg.attr) v += `; ${a}`;
  return v;
}

/**
 * Applies persistence to `txn.res`: handles the server's own Set-Cookie of that name (removed in
 * insert mode or for a direct access with `indirect`, rewritten or prefixed otherwise, left alone
 * with `preserve`), then in insert mode appends HAProxy's Set-Cookie unless the client came with
 * a valid cookie whose dates need no change (or `postonly` and not a POST), followed by
 * `Cache-control: private` when `nocache` and the response is cacheable. No-op before a
 * response exists.
 */
export function responseCookie(
  cfg: CookieConfig,
  txn: HttpTxn,
  options: ResponseCookieOptions,
): ResponseCookieResult {
  const res = txn.res;
  if (res === null) return { action: "none", logFlag: "N" };
  const direct = options.presented !== null && options.presented === txn.server;
  let action: SetCookieAction = "none";
  let found = false;
  for (let i = 0; i < res.lowerNames.length; i++) {
    if (res.lowerNames[i] !== "set-cookie") continue;
    const value = res.headers[i][1];
    const eq = value.indexOf("=");
    if (eq < 0 || trimBlanks(value.slice(0, eq)) !== cfg.name) continue;
    found = true;
    action = "provided";
    if (cfg.preserve) continue;
    if (cfg.mode === "insert" || (direct && cfg.indirect)) {
      removeHeaderAt(res, i);
      i--;
      action = "deleted";
    } else if (options.serverCookie !== null) {
      const semi = value.indexOf(";", eq);
      const end = semi < 0 ? value.length : semi;
      const old = trimBlanks(value.slice(eq + 1, end));
      const start = value.indexOf(old, eq + 1);
      const replaced = cfg.mode === "rewrite"
        ? options.serverCookie
        : `${options.serverCookie}~${old}`;
      replaceHeaderAt(
        res,
        i,
        value.slice(0, start) + replaced + value.slice(start + old.length),
      );
      action = "rewritten";
    }
  }
  const last = options.lastDate ?? 0;
  const first = options.firstDate ?? 0;
  // A direct access still gets a new cookie when its dates need changing (HAProxy's rule).
  const redate = ((cfg.maxidle > 0 || last > 0) && (last === 0 || last < options.now)) ||
    (cfg.maxlife > 0 && first === 0) || (cfg.maxlife === 0 && first > 0);
  const insert = cfg.mode === "insert" && !(found && cfg.preserve) && (!direct || redate) &&
    (!cfg.postonly || txn.req.method === "POST");
  if (insert) {
    const cacheable = cfg.nocache && isCacheable(txn);
    const value = insertedCookieValue(cfg, options.serverCookie, {
      now: options.now,
      firstDate: first,
    });
    addHeader(res, "Set-Cookie", value);
    action = direct && options.serverCookie !== null ? "updated" : "inserted";
    if (cacheable) addHeader(res, "Cache-control", "private");
  }
  return { action, logFlag: LOG_ACTION[action] };
}
