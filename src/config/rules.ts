/**
 * Compiles the HTTP rules of a proxy: named ACLs, `if`/`unless` conditions, the `redirect` list,
 * `http_request` / `http_response` actions and `use_backend` entries.
 *
 * @module
 */

import { didYouMean } from "./diagnostics.ts";
import {
  parseAclExpr,
  parseCondition,
  parseLogFormat,
  parseSample,
  regexReason,
} from "./condition.ts";
import type { Table } from "./table.ts";
import type {
  AclExpr,
  Condition,
  HttpRequestRule,
  HttpResponseRule,
  LogFormat,
  NameMatch,
  RedirectRule,
} from "./types.ts";

/** Named ACLs of one proxy. */
export type AclTable = ReadonlyMap<string, readonly AclExpr[]>;

/** Reads `acl.NAME = "criterion"` (or a list of criteria, ORed) from a proxy table. */
export function compileAcls(t: Table): AclTable {
  const acls = new Map<string, AclExpr[]>();
  for (const [name, value] of t.entries("acl")) {
    const list = Array.isArray(value) ? value : [value];
    const exprs: AclExpr[] = [];
    list.forEach((item, i) => {
      const at = Array.isArray(value) ? ["acl", name, i] : ["acl", name];
      if (typeof item !== "string") {
        t.ctx.diags.error(
          [...t.path, ...at],
          'expected a criterion string such as "path_beg /api"',
        );
        return;
      }
      const r = parseAclExpr(item);
      if (r.ok) exprs.push(r.value);
      else t.ctx.diags.error([...t.path, ...at], r.error);
    });
    acls.set(name, exprs);
  }
  return acls;
}

/** Reads the `if` / `unless` of a rule table; null when it has neither (or on error). */
export function compileCondition(
  t: Table,
  acls: AclTable,
  side: "request" | "response",
): Condition | null {
  const hasIf = t.has("if");
  const hasUnless = t.has("unless");
  if (hasIf && hasUnless) {
    t.error("unless", 'use either "if" or "unless", not both');
    return null;
  }
  if (!hasIf && !hasUnless) return null;
  const key = hasIf ? "if" : "unless";
  const text = t.optText(key);
  if (text === null) return null;
  const r = parseCondition(text, { acls, unless: hasUnless, side });
  if (!r.ok) {
    t.error(key, r.error);
    return null;
  }
  for (const w of r.value.warnings) t.warn(key, w);
  return r.value.condition;
}

function logFormat(t: Table, key: string): LogFormat {
  const text = t.optText(key);
  if (text === null) return [];
  const r = parseLogFormat(text);
  if (!r.ok) {
    t.error(key, r.error);
    return [];
  }
  return r.value;
}

const REDIRECT_CODES = [301, 302, 303, 307, 308];

/** Compiles redirect keys (top-level `redirect` entries and the `redirect` action). */
export function compileRedirect(t: Table, acls: AclTable): RedirectRule | null {
  const kinds = (["scheme", "location", "prefix"] as const).filter((k) => t.has(k));
  if (kinds.length === 0) {
    t.ctx.diags.error(t.path, 'a redirect needs one of "scheme", "location" or "prefix"');
    return null;
  }
  if (kinds.length > 1) {
    t.ctx.diags.error(
      t.at(kinds[1]),
      `a redirect takes only one of "${kinds.join('", "')}"`,
      "key",
    );
    return null;
  }
  const code = t.int("code");
  if (t.has("code") && !REDIRECT_CODES.includes(code)) {
    t.error("code", `invalid redirect code ${code} (expected 301, 302, 303, 307 or 308)`);
  }
  return {
    type: kinds[0],
    value: logFormat(t, kinds[0]),
    code: REDIRECT_CODES.includes(code) ? code : 302,
    dropQuery: t.bool("drop_query"),
    appendSlash: t.bool("append_slash"),
    cond: compileCondition(t, acls, "request"),
  };
}

/**
 * The statuses HAProxy has built-in error pages for (its `http_err_codes`): what `deny` may send
 * and what `errorfile` may replace.
 */
export const HAPROXY_ERROR_CODES: readonly number[] = [
  200,
  400,
  401,
  403,
  404,
  405,
  407,
  408,
  410,
  413,
  425,
  429,
  500,
  501,
  502,
  503,
  504,
];

const COMMON = ["action", "if", "unless"];
const REDIRECT_KEYS = ["scheme", "location", "prefix", "code", "drop_query", "append_slash"];

interface ActionKeys {
  readonly keys: readonly string[];
  readonly required: readonly string[];
}

const REQUEST_ACTIONS: Readonly<Record<HttpRequestRule["action"], ActionKeys>> = {
  "set-header": { keys: ["name", "value"], required: ["name", "value"] },
  "add-header": { keys: ["name", "value"], required: ["name", "value"] },
  "del-header": { keys: ["name", "name_match"], required: ["name"] },
  "replace-header": { keys: ["name", "match", "replace"], required: ["name", "match", "replace"] },
  "replace-value": { keys: ["name", "match", "replace"], required: ["name", "match", "replace"] },
  "set-path": { keys: ["value"], required: ["value"] },
  "set-query": { keys: ["value"], required: ["value"] },
  "set-var": { keys: ["var", "expr"], required: ["var", "expr"] },
  "deny": { keys: ["status"], required: [] },
  "return": { keys: ["status", "content_type", "string"], required: [] },
  "redirect": { keys: REDIRECT_KEYS, required: [] },
};

const RESPONSE_ACTIONS: Readonly<Record<HttpResponseRule["action"], ActionKeys>> = {
  "set-header": REQUEST_ACTIONS["set-header"],
  "add-header": REQUEST_ACTIONS["add-header"],
  "del-header": REQUEST_ACTIONS["del-header"],
  "replace-header": REQUEST_ACTIONS["replace-header"],
  "set-var": REQUEST_ACTIONS["set-var"],
  "deny": { keys: ["status"], required: [] },
  "set-status": { keys: ["status", "reason"], required: ["status"] },
};

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const VAR_NAME = /^(proc|sess|txn|req|res)\.[A-Za-z0-9_.]+$/;

/** Checks the action name and which keys it takes; returns the action or null. */
function checkAction<A extends string>(
  t: Table,
  actions: Readonly<Record<A, ActionKeys>>,
): A | null {
  const text = t.optText("action");
  if (text === null) return null;
  const action = text as A;
  const spec: ActionKeys | undefined = Object.hasOwn(actions, text) ? actions[action] : undefined;
  if (spec === undefined) {
    t.error(
      "action",
      `unknown action "${text}"${didYouMean(text, Object.keys(actions))}; expected one of ${
        Object.keys(actions).join(", ")
      }`,
    );
    return null;
  }
  let ok = true;
  for (const key of Object.keys(t.raw)) {
    if (key in t.spec && !COMMON.includes(key) && !spec.keys.includes(key)) {
      t.ctx.diags.error(
        t.at(key),
        `action "${action}" does not take "${key}"` +
          (spec.keys.length > 0 ? ` (it takes ${spec.keys.join(", ")})` : ""),
        "key",
      );
      ok = false;
    }
  }
  for (const key of spec.required) {
    if (!t.has(key)) {
      t.ctx.diags.error(t.path, `action "${action}" needs "${key}"`);
      ok = false;
    }
  }
  if (t.has("name") && t.optText("name_match") === "reg") {
    ok = checkRegex(t, "name") && ok;
  } else if (t.has("name") && !HEADER_NAME.test(t.text("name"))) {
    t.error("name", `invalid header name "${t.text("name")}"`);
    ok = false;
  }
  if (t.has("var") && !VAR_NAME.test(t.text("var"))) {
    t.error("var", `invalid variable "${t.text("var")}" (write scope.name, e.g. txn.path)`);
    ok = false;
  }
  if (t.has("match")) ok = checkRegex(t, "match") && ok;
  return ok ? action : null;
}

function checkRegex(t: Table, key: string): boolean {
  try {
    new RegExp(t.text(key));
    return true;
  } catch (e) {
    t.error(key, `invalid regular expression: ${regexReason(e)}`);
    return false;
  }
}

function setVarExpr(t: Table): LogFormat {
  const text = t.text("expr");
  if (text.includes("%[")) return logFormat(t, "expr");
  const r = parseSample(text);
  if (!r.ok) {
    t.error("expr", r.error);
    return [];
  }
  return [r.value];
}

function status(t: Table, def: number, allowed: (n: number) => boolean, what: string): number {
  if (!t.has("status")) return def;
  const s = t.int("status");
  if (!allowed(s)) {
    t.error("status", `status ${s} is not allowed for ${what}`);
    return def;
  }
  return s;
}

/** Compiles one `http_request` rule table. */
export function compileRequestRule(t: Table, acls: AclTable): HttpRequestRule | null {
  const action = checkAction(t, REQUEST_ACTIONS);
  if (action === null) return null;
  const cond = compileCondition(t, acls, "request");
  switch (action) {
    case "set-header":
    case "add-header":
      return { action, name: t.text("name"), value: logFormat(t, "value"), cond };
    case "del-header":
      return { action, name: t.text("name"), nameMatch: t.text("name_match") as NameMatch, cond };
    case "replace-header":
    case "replace-value":
      return {
        action,
        name: t.text("name"),
        match: t.text("match"),
        replace: logFormat(t, "replace"),
        cond,
      };
    case "set-path":
    case "set-query":
      return { action, value: logFormat(t, "value"), cond };
    case "set-var":
      return { action, variable: t.text("var"), expr: setVarExpr(t), cond };
    case "deny":
      return {
        action,
        status: status(t, 403, (s) => HAPROXY_ERROR_CODES.includes(s), "deny"),
        cond,
      };
    case "return":
      return {
        action,
        status: status(t, 200, (s) => s >= 200 && s <= 599, "return (200-599)"),
        contentType: t.optText("content_type"),
        body: t.has("string") ? logFormat(t, "string") : null,
        cond,
      };
    default: {
      const redirect = compileRedirect(t, acls);
      return redirect === null ? null : { action: "redirect", redirect, cond };
    }
  }
}

/** Compiles one `http_response` rule table. */
export function compileResponseRule(t: Table, acls: AclTable): HttpResponseRule | null {
  const action = checkAction(t, RESPONSE_ACTIONS);
  if (action === null) return null;
  const cond = compileCondition(t, acls, "response");
  switch (action) {
    case "set-header":
    case "add-header":
      return { action, name: t.text("name"), value: logFormat(t, "value"), cond };
    case "del-header":
      return { action, name: t.text("name"), nameMatch: t.text("name_match") as NameMatch, cond };
    case "replace-header":
      return {
        action,
        name: t.text("name"),
        match: t.text("match"),
        replace: logFormat(t, "replace"),
        cond,
      };
    case "set-var":
      return { action, variable: t.text("var"), expr: setVarExpr(t), cond };
    case "deny":
      return {
        action,
        status: status(t, 502, (s) => HAPROXY_ERROR_CODES.includes(s), "deny"),
        cond,
      };
    default:
      return {
        action: "set-status",
        status: status(t, 200, (s) => s >= 100 && s <= 999, "set-status (100-999)"),
        reason: t.optText("reason"),
        cond,
      };
  }
}
