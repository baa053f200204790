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
export type CookieStatus = "none" | "invalid" | "down" | "valid";

/** Result of {@linkcode requestPersistence}. */
export interface RequestPersistence {
  /** The server to use (HAProxy's "direct" access), or null to load-balance. */
  readonly serverName: string | null;
  readonly status: CookieStatus;
  /** `N`, `I`, `D` or `V`. */
  readonly logFlag: string;
}

const LOG_STATUS: Record<CookieStatus, string> = { none: "N", invalid: "I", down: "D", valid: "V" };

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
): RequestPersistence {
  const req = txn.req;
  let status: CookieStatus = "none";
  let serverName: string | null = null;
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
      const id = tilde >= 0 ? value.slice(0, tilde) : value;
      if (serverName === null) {
        const found = lookup(id, servers);
        if (found.server !== null) {
          serverName = found.server;
          status = "valid";
        } else if (status !== "down") status = found.down ? "down" : "invalid";
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
  return { serverName, status, logFlag: LOG_STATUS[status] };
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
export type SetCookieAction = "none" | "inserted" | "deleted" | "rewritten" | "provided";

/** Options of {@linkcode responseCookie}. */
export interface ResponseCookieOptions {
  /** The `cookie` value of the server that produced the response (null: it has none). */
  readonly serverCookie: string | null;
  /** The server a valid persistence cookie named (`requestPersistence().serverName`), or null
   * (none, or it could not be used). The access is "direct" when it is `txn.server`. */
  readonly presented: string | null;
}

/** Result of {@linkcode responseCookie}. */
export interface ResponseCookieResult {
  readonly action: SetCookieAction;
  /** `N`, `I`, `D`, `R` or `P`. */
  readonly logFlag: string;
}

const LOG_ACTION: Record<SetCookieAction, string> = {
  none: "N",
  inserted: "I",
  deleted: "D",
  rewritten: "R",
  provided: "P",
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

/** The Set-Cookie value HAProxy inserts for a server cookie (null: the removal form). */
export function insertedCookieValue(cfg: CookieConfig, serverCookie: string | null): string {
  let v = serverCookie === null
    ? `${cfg.name}=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/`
    : `${cfg.name}=${serverCookie}; path=/`;
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
 * a valid cookie (or `postonly` and not a POST), followed by `Cache-control: private` when
 * `nocache` and the response is cacheable. No-op before a response exists.
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
  const insert = cfg.mode === "insert" && !(found && cfg.preserve) && !direct &&
    (!cfg.postonly || txn.req.method === "POST");
  if (insert) {
    const cacheable = cfg.nocache && isCacheable(txn);
    addHeader(res, "Set-Cookie", insertedCookieValue(cfg, options.serverCookie));
    action = "inserted";
    if (cacheable) addHeader(res, "Cache-control", "private");
  }
  return { action, logFlag: LOG_ACTION[action] };
}
