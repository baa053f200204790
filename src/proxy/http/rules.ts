/**
 * `http_request` / `http_response` rule evaluation, the top-level `redirect` list and
 * `use_backend` selection, as HAProxy 2.6 runs them. Rules run in order; header actions mutate
 * the transaction and evaluation goes on; `deny`, `return` and `redirect` stop it with a
 * response to send.
 *
 * Behaviour observed on haproxy 2.6.12 and reproduced here: `replace-value` rejoins the values
 * of a header with `,` (`ab, ac,b` → `Ab,Ac,b`); `set-query` on a target without `?` adds one
 * (`/a` → `/a?q=`); `http-response deny` answers 502 and keeps the connection; errorfiles are
 * sent with lower-cased header names and without their `Connection` header, and a file without
 * `Content-Length` closes the connection.
 *
 * @module
 */

import type {
  Condition,
  HttpRequestRule,
  HttpResponseRule,
  LogFormat,
  NameMatch,
  RedirectRule,
} from "../../config/types.ts";
import { errorResponse } from "../http1/errors.ts";
import type { MessageHead, RequestHead } from "../http1/types.ts";
import { condMatches } from "./acl.ts";
import { fetchSample, sampleText, type Side } from "./fetch.ts";
import {
  addHeader,
  delHeadersWhere,
  encodeLatin1,
  replaceHeaderAt,
  setHeader,
  splitRaw,
  trimBlanks,
} from "./headers.ts";
import { renderFormat } from "./log_format.ts";
import {
  localConnection,
  reasonPhrase,
  redirectBytes,
  redirectLocation,
  type RedirectResponse,
  redirectResponse,
} from "./redirect.ts";
import type { HttpTxn } from "./txn.ts";

/** What the engine does after a rule list ran. */
export type RuleVerdict =
  | { readonly kind: "continue" }
  | {
    readonly kind: "respond";
    /** The action that stopped evaluation (log: deny → `PR--`, others `LR--`). */
    readonly action: "deny" | "return" | "redirect";
    readonly status: number;
    readonly bytes: Uint8Array;
    /** Close the client connection after sending. */
    readonly close: boolean;
  };

/** Options of the rule functions. */
export interface RuleOptions {
  /** Status → errorfile contents (an HTTP response) replacing HAProxy's page for `deny`. */
  readonly errorfiles?: Readonly<Record<number, string>>;
}

const CONTINUE: RuleVerdict = { kind: "continue" };
const regexCache = new WeakMap<object, RegExp>();
const utf8 = new TextEncoder();

function ruleRegex(rule: { readonly match: string }): RegExp {
  let r = regexCache.get(rule);
  if (r === undefined) {
    r = new RegExp(rule.match);
    regexCache.set(rule, r);
  }
  return r;
}

const nameTests = new WeakMap<object, (lowerName: string) => boolean>();

/**
 * del-header: removes the headers whose name matches as HAProxy's `-m` does. HAProxy compares
 * against the names as it stores them, lower-cased: `str`/`beg`/`end`/`sub` ignore case, a
 * `reg` pattern with capitals matches nothing.
 */
function delHeaderRule(
  head: MessageHead,
  rule: { readonly name: string; readonly nameMatch: NameMatch },
): void {
  let test = nameTests.get(rule);
  if (test === undefined) {
    test = nameTest(rule.name, rule.nameMatch);
    nameTests.set(rule, test);
  }
  delHeadersWhere(head, test);
}

function nameTest(name: string, how: NameMatch): (lowerName: string) => boolean {
  const lower = name.toLowerCase();
  switch (how) {
    case "str":
      return (n) => n === lower;
    case "beg":
      return (n) => n.startsWith(lower);
    case "end":
      return (n) => n.endsWith(lower);
    case "sub":
      return (n) => n.includes(lower);
    case "reg": {
      const re = new RegExp(name);
      return (n) => re.test(n);
    }
  }
}

/** HAProxy's exp_replace: `\0`..`\9` become the match's groups, the rest is literal. */
export function expandReplacement(template: string, m: RegExpExecArray): string {
  let out = "";
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    const d = template.charCodeAt(i + 1) - 0x30;
    if (c === "\\" && d >= 0 && d <= 9) {
      out += m[d] ?? "";
      i++;
    } else out += c;
  }
  return out;
}

function replaceHeader(
  head: MessageHead,
  rule: { readonly name: string; readonly match: string },
  replace: string,
  perValue: boolean,
): void {
  const re = ruleRegex(rule);
  const lower = rule.name.toLowerCase();
  for (let i = 0; i < head.lowerNames.length; i++) {
    if (head.lowerNames[i] !== lower) continue;
    const value = head.headers[i][1];
    if (!perValue) {
      const m = re.exec(value);
      if (m !== null) replaceHeaderAt(head, i, expandReplacement(replace, m));
      continue;
    }
    const pieces = splitRaw(value).map((raw) => {
      const m = re.exec(trimBlanks(raw));
      return m === null ? raw : expandReplacement(replace, m);
    });
    replaceHeaderAt(head, i, pieces.join(","));
  }
}

/** Where the path of a request target starts and ends (end = the `?` or the end). */
function pathSpan(target: string): { start: number; end: number } {
  let start = 0;
  if (!target.startsWith("/")) {
    const scheme = target.indexOf("://");
    if (scheme >= 0) {
      const slash = target.indexOf("/", scheme + 3);
      start = slash < 0 ? target.length : slash;
    }
  }
  const q = target.indexOf("?", start);
  return { start, end: q < 0 ? target.length : q };
}

/** The target with its path replaced, query and scheme/authority kept (`set-path`). */
export function withPath(target: string, path: string): string {
  const { start, end } = pathSpan(target);
  return target.slice(0, start) + path + target.slice(end);
}

/** The target with its query replaced (`set-query`): an empty query on a target without `?`
 * adds nothing; otherwise the text after `?` is replaced (adding `?` if missing). */
export function withQuery(target: string, query: string): string {
  const q = target.indexOf("?");
  if (q >= 0) return target.slice(0, q + 1) + query;
  return query === "" ? target : target + "?" + query;
}

/** Sets `name` to the expression's value; a lone sample with no value leaves it unset. */
function setVar(txn: HttpTxn, name: string, expr: LogFormat, side: Side): void {
  if (expr.length === 1 && typeof expr[0] !== "string") {
    const s = fetchSample(txn, expr[0].fetch, expr[0].arg, { side });
    if (s !== null) txn.vars.set(name, sampleText(s));
    return;
  }
  txn.vars.set(name, renderFormat(expr, txn, { side }));
}

/**
 * An errorfile's response for a request: header names lower-cased, its own `Connection` header
 * replaced by the one the request calls for (as HAProxy sends errorfiles); a file without
 * Content-Length closes the connection.
 */
export function errorfileResponse(
  text: string,
  req: RequestHead,
): { bytes: Uint8Array; close: boolean } {
  return errorfileBytes(text, (framed) => framed ? localConnection(req) : null);
}

/**
 * The same for an error that always closes (400, 408): `connection: close` when the file frames
 * its body; an empty file (`errorfile 408 /dev/null`) sends nothing.
 */
export function closingErrorfile(text: string): Uint8Array {
  return text === ""
    ? new Uint8Array(0)
    : errorfileBytes(text, (framed) => framed ? "close" : null).bytes;
}

function errorfileBytes(
  text: string,
  connection: (framed: boolean) => "close" | "keep-alive" | null,
): { bytes: Uint8Array; close: boolean } {
  const crlf = text.indexOf("\r\n\r\n");
  const lf = text.indexOf("\n\n");
  const split = crlf >= 0 && (lf < 0 || crlf < lf)
    ? [crlf, 4]
    : lf >= 0
    ? [lf, 2]
    : [text.length, 0];
  const lines = text.slice(0, split[0]).split(/\r?\n/);
  const bodyText = text.slice(split[0] + split[1]);
  let head = lines[0] + "\r\n";
  let hasLength = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name === "connection") continue;
    if (name === "content-length" || name === "transfer-encoding") hasLength = true;
    head += `${name}: ${trimBlanks(line.slice(colon + 1))}\r\n`;
  }
  const conn = connection(hasLength);
  if (conn !== null) head += `connection: ${conn}\r\n`;
  return {
    bytes: encodeLatin1(head + "\r\n" + bodyText),
    close: !hasLength || conn === "close",
  };
}

function deny(status: number, txn: HttpTxn, options: RuleOptions): RuleVerdict {
  const file = options.errorfiles?.[status];
  if (file !== undefined) {
    return { kind: "respond", action: "deny", status, ...errorfileResponse(file, txn.req) };
  }
  const conn = localConnection(txn.req);
  return {
    kind: "respond",
    action: "deny",
    status,
    bytes: errorResponse(status, conn === null ? {} : { connection: conn }),
    close: conn === "close",
  };
}

/** The bytes of `http-request return` (observed on haproxy 2.6.12: `content-length` then
 * `content-type`, no body and no content-type when none is configured). */
export function returnResponse(
  status: number,
  txn: HttpTxn,
  options: { readonly contentType?: string | null; readonly body?: string } = {},
): { bytes: Uint8Array; close: boolean } {
  const body = utf8.encode(options.body ?? "");
  const conn = localConnection(txn.req);
  const head = encodeLatin1(
    `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\ncontent-length: ${body.length}\r\n` +
      (options.contentType ? `content-type: ${options.contentType}\r\n` : "") +
      (conn === null ? "" : `connection: ${conn}\r\n`) + "\r\n",
  );
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  return { bytes, close: conn === "close" };
}

function matches(cond: Condition | null, txn: HttpTxn, side: Side): boolean {
  return condMatches(cond, txn, { side });
}

/** Runs `http_request` rules in order on `txn.req`; stops at deny/return/redirect. */
export function applyRequestRules(
  rules: readonly HttpRequestRule[],
  txn: HttpTxn,
  options: RuleOptions = {},
): RuleVerdict {
  const side = "request";
  const req = txn.req;
  for (const rule of rules) {
    if (!matches(rule.cond, txn, side)) continue;
    switch (rule.action) {
      case "set-header":
        setHeader(req, rule.name, renderFormat(rule.value, txn, { side }));
        break;
      case "add-header":
        addHeader(req, rule.name, renderFormat(rule.value, txn, { side }));
        break;
      case "del-header":
        delHeaderRule(req, rule);
        break;
      case "replace-header":
      case "replace-value":
        replaceHeader(
          req,
          rule,
          renderFormat(rule.replace, txn, { side }),
          rule.action === "replace-value",
        );
        break;
      case "set-path":
        req.target = withPath(req.target, renderFormat(rule.value, txn, { side }));
        break;
      case "set-query":
        req.target = withQuery(req.target, renderFormat(rule.value, txn, { side }));
        break;
      case "set-var":
        setVar(txn, rule.variable, rule.expr, side);
        break;
      case "deny":
        return deny(rule.status, txn, options);
      case "return": {
        const body = rule.body === null ? "" : renderFormat(rule.body, txn, { side });
        const r = returnResponse(rule.status, txn, { contentType: rule.contentType, body });
        return { kind: "respond", action: "return", status: rule.status, ...r };
      }
      case "redirect": {
        const location = redirectLocation(rule.redirect, txn);
        const r = redirectBytes(rule.redirect.code, location, req);
        return { kind: "respond", action: "redirect", ...r };
      }
    }
  }
  return CONTINUE;
}

/** Runs `http_response` rules in order on `txn.res` (no-op before a response exists). */
export function applyResponseRules(
  rules: readonly HttpResponseRule[],
  txn: HttpTxn,
  options: RuleOptions = {},
): RuleVerdict {
  const side = "response";
  const res = txn.res;
  if (res === null) return CONTINUE;
  for (const rule of rules) {
    if (!matches(rule.cond, txn, side)) continue;
    switch (rule.action) {
      case "set-header":
        setHeader(res, rule.name, renderFormat(rule.value, txn, { side }));
        break;
      case "add-header":
        addHeader(res, rule.name, renderFormat(rule.value, txn, { side }));
        break;
      case "del-header":
        delHeaderRule(res, rule);
        break;
      case "replace-header":
        replaceHeader(res, rule, renderFormat(rule.replace, txn, { side }), false);
        break;
      case "set-var":
        setVar(txn, rule.variable, rule.expr, side);
        break;
      case "set-status":
        res.status = rule.status;
        res.reason = rule.reason ?? reasonPhrase(rule.status);
        break;
      case "deny":
        return deny(rule.status, txn, options);
    }
  }
  return CONTINUE;
}

/** The first top-level `redirect` whose condition matches, as a response; else null. */
export function firstMatchingRedirect(
  redirects: readonly RedirectRule[],
  txn: HttpTxn,
): RedirectResponse | null {
  for (const rule of redirects) {
    const r = redirectResponse(rule, txn);
    if (r !== null) return r;
  }
  return null;
}

/** One `use_backend` entry. */
export interface UseBackend {
  readonly backend: string;
  readonly cond: Condition | null;
}

/** The first `use_backend` whose condition matches, else `default_backend` (null: none → 503). */
export function selectBackend(
  useBackend: readonly UseBackend[],
  defaultBackend: string | null,
  txn: HttpTxn,
): string | null {
  for (const u of useBackend) {
    if (matches(u.cond, txn, "request")) return u.backend;
  }
  return defaultBackend;
}
