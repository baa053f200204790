/**
 * Backend load-balancing settings in HAProxy's words: `balance` lines, `hash_type`, cookie
 * persistence, health checks and their status matchers.
 *
 * @module
 */

import { didYouMean } from "./diagnostics.ts";
import { type Table, typeName } from "./table.ts";
import type {
  Balance,
  CookieConfig,
  HashType,
  HealthCheckConfig,
  Millis,
  StatusMatcher,
} from "./types.ts";

/** A parse result: the value, or an error message. */
export type Result<T> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
  readonly error: string;
};

const ALGORITHMS = [
  "roundrobin",
  "static-rr",
  "leastconn",
  "first",
  "source",
  "random",
  "uri",
  "url_param",
  "hdr",
];

/** True for algorithms that need an HTTP backend. */
export function isHttpAlgorithm(b: Balance): boolean {
  return b.algorithm === "uri" || b.algorithm === "url_param" || b.algorithm === "hdr";
}

/** Parses a `balance` value such as `"uri depth 2"` or `"hdr(Host) use_domain_only"`. */
export function parseBalance(text: string): Result<Balance> {
  const words = text.trim().split(/\s+/);
  const head = words[0] ?? "";
  const m = /^([a-z_-]+)(?:\((.*)\))?$/.exec(head);
  const name = m?.[1] ?? head;
  let arg = m?.[2];
  const rest = words.slice(1);
  const extra = (allowed: string) =>
    ({ ok: false, error: `unexpected "${rest[0]}" after "${name}"${allowed}` }) as const;
  switch (name) {
    case "roundrobin":
    case "static-rr":
    case "leastconn":
    case "first":
    case "source":
      if (rest.length > 0 || arg !== undefined) return extra("");
      return { ok: true, value: { algorithm: name } };
    case "random": {
      if (rest.length > 0) return extra("");
      const draws = arg === undefined ? 2 : Number(arg);
      if (!Number.isInteger(draws) || draws < 1) {
        return { ok: false, error: `invalid number of draws "${arg}" in "${text}"` };
      }
      return { ok: true, value: { algorithm: "random", draws } };
    }
    case "uri": {
      let whole = false, pathOnly = false, len = 0, depth = 0;
      for (let i = 0; i < rest.length; i++) {
        const w = rest[i];
        if (w === "whole") whole = true;
        else if (w === "path-only") pathOnly = true;
        else if (w === "len" || w === "depth") {
          const n = Number(rest[++i]);
          if (!Number.isInteger(n) || n < 1) {
            return { ok: false, error: `"${w}" needs a positive integer in "${text}"` };
          }
          if (w === "len") len = n;
          else depth = n;
        } else {
          return {
            ok: false,
            error: `unknown uri option "${w}" (expected whole, len N, depth N, path-only)`,
          };
        }
      }
      return { ok: true, value: { algorithm: "uri", whole, len, depth, pathOnly } };
    }
    case "url_param":
    case "hdr": {
      if (arg === undefined && name === "url_param" && rest.length > 0) arg = rest.shift();
      if (arg === undefined || arg === "") {
        return {
          ok: false,
          error: `"${name}" needs a name, e.g. ${name}(${name === "hdr" ? "Host" : "uid"})`,
        };
      }
      const option = name === "hdr" ? "use_domain_only" : "check_post";
      if (rest.length > 1 || (rest.length === 1 && rest[0] !== option)) {
        return {
          ok: false,
          error: `unexpected "${rest[0]}" after "${name}(${arg})" (only ${option})`,
        };
      }
      return name === "hdr"
        ? { ok: true, value: { algorithm: "hdr", name: arg, useDomainOnly: rest.length === 1 } }
        : { ok: true, value: { algorithm: "url_param", name: arg, checkPost: rest.length === 1 } };
    }
    default:
      return {
        ok: false,
        error: `unknown balance algorithm "${name}"${didYouMean(name, ALGORITHMS)}; expected ${
          ALGORITHMS.join(", ")
        }`,
      };
  }
}

const HASH_FUNCTIONS = ["sdbm", "djb2", "wt6", "crc32"] as const;

/** Parses `hash_type`: `"map-based"`, `"consistent"`, optionally with a function and avalanche. */
export function parseHashType(text: string): Result<HashType> {
  const [method, ...rest] = text.trim().split(/\s+/);
  if (method !== "map-based" && method !== "consistent") {
    return {
      ok: false,
      error: `unknown hash method "${method}"${
        didYouMean(method, ["map-based", "consistent"])
      } (expected map-based or consistent)`,
    };
  }
  let fn: HashType["fn"] | null = null;
  let avalanche = false;
  for (const w of rest) {
    if ((HASH_FUNCTIONS as readonly string[]).includes(w) && fn === null) fn = w as HashType["fn"];
    else if (w === "avalanche") avalanche = true;
    else {
      return {
        ok: false,
        error: `unexpected "${w}" in hash_type (functions: ${
          HASH_FUNCTIONS.join(", ")
        }; then avalanche)`,
      };
    }
  }
  if (fn === null && method === "consistent") avalanche = true;
  return { ok: true, value: { method, fn: fn ?? "sdbm", avalanche } };
}

/** Parses a status matcher: `"200"`, `"200-399"`, `"200,201,300-310"`, `"!500"`. */
export function parseStatusMatcher(text: string): Result<StatusMatcher> {
  const negate = text.startsWith("!");
  const body = negate ? text.slice(1) : text;
  const ranges: [number, number][] = [];
  for (const part of body.split(",")) {
    const m = /^\s*(\d{3})(?:\s*-\s*(\d{3}))?\s*$/.exec(part);
    if (m === null) {
      const where = part.trim() === text ? "" : ` in "${text}"`;
      return { ok: false, error: `invalid status "${part.trim()}"${where} (e.g. "200-399")` };
    }
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo < 100 || hi > 599 || lo > hi) {
      return { ok: false, error: `invalid status range "${part.trim()}" (100-599, low-high)` };
    }
    ranges.push([lo, hi]);
  }
  return { ok: true, value: { ranges, negate, text } };
}

/** Reads `cookie = { name, insert | rewrite | prefix, ... }`. */
export function compileCookie(t: Table): CookieConfig {
  const modes = (["insert", "rewrite", "prefix"] as const).filter((m) => t.bool(m));
  if (modes.length > 1) {
    t.error(modes[1], `cookie modes ${modes.join(" and ")} exclude each other`);
  }
  const name = t.text("name");
  if (t.has("name") && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    t.error("name", `invalid cookie name "${name}"`);
  }
  return {
    name,
    mode: modes[0] ?? "rewrite",
    indirect: t.bool("indirect"),
    nocache: t.bool("nocache"),
    postonly: t.bool("postonly"),
    preserve: t.bool("preserve"),
    httponly: t.bool("httponly"),
    secure: t.bool("secure"),
    domain: t.stringOrStrings("domain"),
    attr: t.strings("attr"),
    maxidle: cookieDate(t, "maxidle"),
    maxlife: cookieDate(t, "maxlife"),
  };
}

/** `maxidle`/`maxlife`: HAProxy counts whole seconds (a cookie carries 4-second dates). */
function cookieDate(t: Table, key: "maxidle" | "maxlife"): Millis {
  const ms = t.optDuration(key);
  if (ms === null) return 0;
  if (ms < 1000) {
    t.error(key, `${key} must be at least 1s (HAProxy counts whole seconds)`);
    return 0;
  }
  return Math.floor(ms / 1000) * 1000;
}

/** The health check when none is configured: a TCP connect. */
export const DEFAULT_HEALTH_CHECK: HealthCheckConfig = {
  type: "tcp",
  method: "OPTIONS",
  uri: "/",
  version: "HTTP/1.0",
  headers: [],
  expectStatus: null,
  expectString: null,
  disableOn404: false,
};

const HTTP_CHECK_KEYS = [
  "method",
  "uri",
  "version",
  "headers",
  "expect_status",
  "expect_string",
  "disable_on_404",
];

/** Reads `health_check = { type, method, uri, version, headers, expect_* }`. */
export function compileHealthCheck(t: Table): HealthCheckConfig {
  const httpKeys = HTTP_CHECK_KEYS.filter((k) => t.has(k));
  const type = (t.optText("type") ?? (httpKeys.length > 0 ? "http" : "tcp")) as "tcp" | "http";
  if (type === "tcp" && httpKeys.length > 0) {
    t.ctx.diags.warn(t.at(httpKeys[0]), `"${httpKeys[0]}" has no effect with type = "tcp"`, "key");
  }
  const headers: [string, string][] = [];
  for (const [name, value] of t.entries("headers")) {
    if (typeof value === "string") headers.push([name, value]);
    else t.error("headers", `expected a string, found ${typeName(value)}`, name);
  }
  let expectStatus: StatusMatcher | null = null;
  const statusText = t.optText("expect_status");
  if (statusText !== null) {
    const r = parseStatusMatcher(statusText);
    if (r.ok) expectStatus = r.value;
    else t.error("expect_status", r.error);
  }
  const version = t.text("version");
  if (!/^HTTP\/\d\.\d$/.test(version)) {
    t.error("version", `invalid HTTP version "${version}" (e.g. "HTTP/1.1")`);
  }
  const method = t.text("method");
  if (!/^[A-Z]+$/.test(method)) t.error("method", `invalid HTTP method "${method}"`);
  const uri = t.text("uri");
  if (!uri.startsWith("/")) t.error("uri", `the check URI must start with "/"`);
  return {
    type,
    method,
    uri,
    version,
    headers,
    expectStatus,
    expectString: t.optText("expect_string"),
    disableOn404: t.bool("disable_on_404"),
  };
}
