/**
 * Pure helpers that cut the hash key out of a request the way HAProxy's backend.c does:
 * `balance uri` (get_server_uh), `balance hdr(...) use_domain_only` (get_server_hh) and
 * `balance url_param` (get_server_ph). The HTTP layer fetches the raw strings and passes the
 * UTF-8 bytes of the result to `Balancer.pick`.
 *
 * @module
 */

/** Options of {@linkcode uriKey} (`balance uri [whole] [len N] [depth N] [path-only]`). */
export interface UriKeyOptions {
  /** Hash the query string too (otherwise stop at the first `?`). */
  readonly whole: boolean;
  /** Keep at most this many characters (0 = no limit). */
  readonly len: number;
  /** Stop before the slash that starts directory level `depth + 1` (0 = no limit). */
  readonly depth: number;
  /** Drop the scheme and authority of an absolute-form URI first. */
  readonly pathOnly: boolean;
}

/**
 * The part of a request URI that `balance uri` hashes. `len` is applied first, then the URI is
 * scanned until the `depth + 1`-th slash or (without `whole`) the first `?`, whichever comes
 * first.
 *
 * @example
 * ```ts
 * uriKey("/depth/a/x?q=1", { whole: false, len: 0, depth: 2, pathOnly: false }); // "/depth/a"
 * ```
 */
export function uriKey(uri: string, opts: UriKeyOptions): string {
  let s = opts.pathOnly ? uriPath(uri) : uri;
  if (opts.len > 0 && opts.len < s.length) s = s.slice(0, opts.len);
  const stopAt = opts.depth > 0 ? opts.depth + 1 : 0;
  let slashes = 0;
  let end = 0;
  for (; end < s.length; end++) {
    const c = s.charCodeAt(end);
    if (c === 0x2f) {
      if (++slashes === stopAt) break;
    } else if (c === 0x3f && !opts.whole) {
      break;
    }
  }
  return end === s.length ? s : s.slice(0, end);
}

/**
 * The path (with its query) of a request URI, as HAProxy's http_parse_path: origin-form is
 * kept, absolute-form loses `scheme://authority`, and anything else (`*`, authority-form, an
 * absolute URI without a path) gives "".
 */
export function uriPath(uri: string): string {
  if (uri.startsWith("/")) return uri;
  if (uri.length === 0 || !isAlpha(uri.charCodeAt(0))) return "";
  let i = 1;
  while (i < uri.length && isSchemeChar(uri.charCodeAt(i))) i++;
  if (!uri.startsWith("://", i)) return "";
  const slash = uri.indexOf("/", i + 3);
  return slash < 0 ? "" : uri.slice(slash);
}

/**
 * The registrable label of a host for `hdr(<name>) use_domain_only`: the label before the last
 * dot (`haproxy.1wt.eu` → `1wt`, `example.com:8080` → `example`). A value without a dot is
 * returned whole, like HAProxy's backwards scan.
 */
export function domainOnlyKey(host: string): string {
  let len = host.length;
  let p = len;
  let end = p;
  let dohash = false;
  while (len > 0) {
    if (dohash) {
      if (host.charCodeAt(p - 1) === 0x2e) break;
    } else if (p < host.length && host.charCodeAt(p) === 0x2e) {
      end = p;
      dohash = true;
    }
    p--;
    len--;
  }
  return host.slice(p, end);
}

/**
 * The value of query parameter `name` in `query` (the text after `?`), as `balance url_param`
 * finds it: the first `name=` at the start of a `&`-separated field, up to the next `&`.
 * Returns null when the parameter is absent (or has no `=`), which selects round robin. An
 * empty value (`uid=`) is returned as "" and hashed: HAProxy 2.6.12 sends every `?uid=` request
 * to the same server (checked live), although the reference notes say it rotates.
 */
export function urlParamValue(query: string, name: string): string | null {
  const plen = name.length;
  let start = 0;
  while (query.length - start > plen) {
    if (query.charCodeAt(start + plen) === 0x3d && query.startsWith(name, start)) {
      const v = start + plen + 1;
      let e = query.indexOf("&", v);
      if (e < 0) e = query.length;
      return query.slice(v, e);
    }
    const amp = query.indexOf("&", start);
    if (amp < 0) return null;
    start = amp + 1;
  }
  return null;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isSchemeChar(c: number): boolean {
  return isAlpha(c) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e;
}
