/**
 * HAProxy's condition language, parsed at compile time: ACL criteria (`path_beg -i /api`),
 * conditions over named and anonymous ACLs (`is_api !{ ssl_fc } || host_t1`), and values with
 * `%[fetch(arg)]` sample expressions.
 *
 * @module
 */

import { parseCidr } from "./address.ts";
import { didYouMean } from "./diagnostics.ts";
import { FETCHES, type FetchSide, MATCH_METHODS } from "./fetch.ts";
import type { AclExpr, Condition, CondTerm, LogFormat, MatchMethod } from "./types.ts";

/** A parse result: the value, or an error message. */
export type Result<T> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
  readonly error: string;
};

interface Token {
  readonly text: string;
  readonly quoted: boolean;
  readonly start: number;
  readonly end: number;
}

/** Splits a condition or criterion into words: whitespace-separated, with '...'/"..." quoting. */
function tokenize(text: string): Result<Token[]> {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i])) {
      i++;
      continue;
    }
    const start = i;
    let word = "";
    let quoted = false;
    while (i < text.length && !/\s/.test(text[i])) {
      const c = text[i];
      if (c === '"' || c === "'") {
        quoted = true;
        const close = text.indexOf(c, i + 1);
        if (close < 0) return { ok: false, error: `unterminated quote in "${text}"` };
        word += text.slice(i + 1, close);
        i = close + 1;
      } else if (c === "\\" && i + 1 < text.length) {
        word += text[i + 1];
        i += 2;
      } else {
        word += c;
        i++;
      }
    }
    tokens.push({ text: word, quoted, start, end: i });
  }
  return { ok: true, value: tokens };
}

function checkValue(match: MatchMethod, value: string): string | null {
  switch (match) {
    case "ip": {
      const r = parseCidr(value);
      return r.ok ? null : `"${value}" is not an IP address or network`;
    }
    case "int":
    case "len":
      return /^(\d+|\d*:\d*)$/.test(value) ? null : `"${value}" is not an integer or range`;
    case "reg":
      try {
        new RegExp(value);
        return null;
      } catch (e) {
        return `invalid regular expression "${value}": ${regexReason(e)}`;
      }
    default:
      return null;
  }
}

/** The reason of a RegExp syntax error, without the engine's repetition of the pattern. */
export function regexReason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.slice(message.lastIndexOf(": ") + 2);
}

const INT_OPERATORS = new Set(["eq", "ge", "gt", "le", "lt"]);

/** Parses one criterion from its words: `fetch[(arg)] [-i] [-m meth] [--] [values...]`. */
function parseExprTokens(tokens: readonly Token[], text: string): Result<AclExpr> {
  const first = tokens[0];
  if (first === undefined) return { ok: false, error: "empty ACL criterion" };
  const m = /^([A-Za-z_][A-Za-z0-9_.]*)(?:\((.*)\))?$/.exec(first.text);
  if (m === null || first.quoted) {
    return { ok: false, error: `invalid fetch "${first.text}" in "${text}"` };
  }
  const [, fetch, rawArg] = m;
  const spec = FETCHES.get(fetch);
  if (spec === undefined) {
    return { ok: false, error: `unknown fetch "${fetch}"${didYouMean(fetch, FETCHES.keys())}` };
  }
  const arg = rawArg === undefined || rawArg === "" ? null : rawArg;
  if (spec.arg === "required" && arg === null) {
    return { ok: false, error: `fetch "${fetch}" needs an argument, e.g. ${fetch}(name)` };
  }
  if (spec.arg === "none" && rawArg !== undefined) {
    return { ok: false, error: `fetch "${fetch}" takes no argument` };
  }
  let match: MatchMethod = spec.match;
  let ignoreCase = false;
  let i = 1;
  for (; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.quoted || !t.text.startsWith("-") || /^-\d/.test(t.text)) break;
    if (t.text === "--") {
      i++;
      break;
    }
    if (t.text === "-i") ignoreCase = true;
    else if (t.text === "-n") continue;
    else if (t.text === "-m") {
      const meth = tokens[++i]?.text;
      if (meth === undefined) return { ok: false, error: `"-m" needs a match method in "${text}"` };
      if (!MATCH_METHODS.includes(meth as MatchMethod)) {
        return {
          ok: false,
          error: `unknown match method "-m ${meth}" (expected one of ${MATCH_METHODS.join(", ")})`,
        };
      }
      match = meth as MatchMethod;
    } else if (t.text === "-f" || t.text === "-M" || t.text === "-u") {
      return { ok: false, error: `flag "${t.text}" is not supported` };
    } else return { ok: false, error: `unknown flag "${t.text}" in "${text}"` };
  }
  let values = tokens.slice(i).map((t) => t.text);
  if ((match === "int" || match === "len") && INT_OPERATORS.has(values[0] ?? "")) {
    if (values.length !== 2) {
      return { ok: false, error: `operator "${values[0]}" needs exactly one number` };
    }
    values = [`${values[0]} ${values[1]}`];
    const err = checkValue(match, values[0].split(" ")[1]);
    if (err !== null) return { ok: false, error: err };
  } else {
    for (const v of values) {
      const err = checkValue(match, v);
      if (err !== null) return { ok: false, error: err };
    }
  }
  if (match === "found" && values.length > 0) {
    return { ok: false, error: `"-m found" takes no value in "${text}"` };
  }
  if (match !== "found" && match !== "bool" && values.length === 0) {
    return {
      ok: false,
      error: `"${fetch}" has no value to match in "${text}" (add one, or use -m found)`,
    };
  }
  return { ok: true, value: { fetch, arg, match, ignoreCase, values, text } };
}

/** Parses an ACL criterion such as `hdr_beg(host) -i www.test1.com`. */
export function parseAclExpr(text: string): Result<AclExpr> {
  const tokens = tokenize(text);
  if (!tokens.ok) return tokens;
  return parseExprTokens(tokens.value, text.trim());
}

/** HAProxy's predefined ACLs (used when no ACL of that name is declared). */
export const PREDEFINED_ACLS: ReadonlyMap<string, readonly string[]> = new Map([
  ["TRUE", ["always_true"]],
  ["FALSE", ["always_false"]],
  ["LOCALHOST", ["src 127.0.0.1/8 ::1"]],
  ["HTTP_1.0", ["req.ver 1.0"]],
  ["HTTP_1.1", ["req.ver 1.1"]],
  ["HTTP_CONTENT", ["hdr_val(content-length) gt 0"]],
  ["METH_CONNECT", ["method CONNECT"]],
  ["METH_DELETE", ["method DELETE"]],
  ["METH_GET", ["method GET HEAD"]],
  ["METH_HEAD", ["method HEAD"]],
  ["METH_OPTIONS", ["method OPTIONS"]],
  ["METH_POST", ["method POST"]],
  ["METH_PUT", ["method PUT"]],
  ["METH_TRACE", ["method TRACE"]],
]);

/** Options for {@linkcode parseCondition}. */
export interface ConditionOptions {
  /** Named ACLs in scope (a name may have several criteria, ORed). */
  readonly acls: ReadonlyMap<string, readonly AclExpr[]>;
  /** True for `unless`. */
  readonly unless?: boolean;
  /** Side of the rule: fetches from the other side never match and are reported in `warnings`. */
  readonly side?: "request" | "response";
}

/** A parsed condition with the warnings found (e.g. fetches that never match on that side). */
export interface ParsedCondition {
  readonly condition: Condition;
  readonly warnings: readonly string[];
}

function sideOk(fetchSide: FetchSide, side: "request" | "response" | undefined): boolean {
  return side === undefined || fetchSide === "any" || fetchSide === side;
}

/**
 * Parses a condition (`if`/`unless` text) into disjunctive normal form, resolving named ACLs.
 */
export function parseCondition(text: string, options: ConditionOptions): Result<ParsedCondition> {
  const tokens = tokenize(text);
  if (!tokens.ok) return tokens;
  const groups: CondTerm[][] = [[]];
  const warnings: string[] = [];
  const toks = tokens.value;
  const checkSide = (exprs: readonly AclExpr[], what: string) => {
    for (const e of exprs) {
      const spec = FETCHES.get(e.fetch);
      if (spec !== undefined && !sideOk(spec.side, options.side)) {
        warnings.push(
          `${what} uses "${e.fetch}", which is ${spec.side}-only and never matches in a ` +
            `${options.side} rule`,
        );
      }
    }
  };
  for (let i = 0; i < toks.length; i++) {
    let t = toks[i];
    const current = groups[groups.length - 1];
    if (!t.quoted && (t.text === "or" || t.text === "||")) {
      if (current.length === 0) {
        return { ok: false, error: `"${t.text}" without a condition before it` };
      }
      groups.push([]);
      continue;
    }
    let negate = false;
    let word = t.text;
    if (!t.quoted && word.startsWith("!")) {
      negate = true;
      word = word.slice(1);
      if (word === "") {
        t = toks[++i];
        if (t === undefined) return { ok: false, error: `"!" at the end of "${text}"` };
        word = t.text;
      }
    }
    if (word === "{") {
      let j = i + 1;
      while (j < toks.length && !(toks[j].text === "}" && !toks[j].quoted)) {
        if (toks[j].text === "{" && !toks[j].quoted) {
          return { ok: false, error: `nested "{" in "${text}"` };
        }
        if (toks[j].text.endsWith("}") && !toks[j].quoted) {
          return { ok: false, error: `write a space before "}" in "${text}"` };
        }
        j++;
      }
      if (j >= toks.length) return { ok: false, error: `missing "}" in "${text}"` };
      const inner = toks.slice(i + 1, j);
      if (inner.length === 0) return { ok: false, error: `empty "{ }" in "${text}"` };
      const exprText = text.slice(inner[0].start, inner[inner.length - 1].end);
      const expr = parseExprTokens(inner, exprText);
      if (!expr.ok) return expr;
      checkSide([expr.value], "anonymous ACL");
      current.push({ negate, name: null, exprs: [expr.value] });
      i = j;
      continue;
    }
    if (word === "}") return { ok: false, error: `unbalanced "}" in "${text}"` };
    if (word.startsWith("{")) {
      return { ok: false, error: `write a space after "{" in "${text}"` };
    }
    if (word.endsWith("}")) {
      return { ok: false, error: `write a space before "}" in "${text}"` };
    }
    let exprs = options.acls.get(word);
    if (exprs === undefined && PREDEFINED_ACLS.has(word)) {
      exprs = (PREDEFINED_ACLS.get(word) ?? []).map((c) => {
        const r = parseAclExpr(c);
        if (!r.ok) throw new Error(`bad predefined ACL ${word}: ${r.error}`);
        return r.value;
      });
    }
    if (exprs === undefined) {
      return { ok: false, error: `unknown ACL "${word}"${didYouMean(word, options.acls.keys())}` };
    }
    checkSide(exprs, `ACL "${word}"`);
    current.push({ negate, name: word, exprs });
  }
  if (groups[groups.length - 1].length === 0) {
    return {
      ok: false,
      error: groups.length === 1 ? "empty condition" : `condition ends with "or" in "${text}"`,
    };
  }
  return {
    ok: true,
    value: { condition: { or: groups, unless: options.unless ?? false, text }, warnings },
  };
}

/** Parses a sample expression `fetch[(arg)]` (a sample fetch, not an ACL suffix form). */
export function parseSample(text: string): Result<{ fetch: string; arg: string | null }> {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)(?:\(([^)]*)\))?\s*$/.exec(text);
  if (m === null) {
    if (/^\s*[A-Za-z_][A-Za-z0-9_.]*(\([^)]*\))?\s*,/.test(text)) {
      return { ok: false, error: `converters are not supported in "${text}"` };
    }
    return { ok: false, error: `invalid sample expression "${text}"` };
  }
  const [, fetch, rawArg] = m;
  const spec = FETCHES.get(fetch);
  if (spec === undefined || !spec.sample) {
    const samples = [...FETCHES].filter(([, s]) => s.sample).map(([n]) => n);
    return { ok: false, error: `unknown fetch "${fetch}"${didYouMean(fetch, samples)}` };
  }
  const arg = rawArg === undefined || rawArg === "" ? null : rawArg;
  if (spec.arg === "required" && arg === null) {
    return { ok: false, error: `fetch "${fetch}" needs an argument, e.g. ${fetch}(name)` };
  }
  if (spec.arg === "none" && rawArg !== undefined) {
    return { ok: false, error: `fetch "${fetch}" takes no argument` };
  }
  return { ok: true, value: { fetch, arg } };
}

/** Parses a value with `%[fetch(arg)]` parts; `%%` is a literal `%`. */
export function parseLogFormat(text: string): Result<LogFormat> {
  const parts: (string | { fetch: string; arg: string | null })[] = [];
  let literal = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== "%") {
      literal += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === "%") {
      literal += "%";
      i += 2;
      continue;
    }
    if (next !== "[") {
      return {
        ok: false,
        error: `"%" must start a %[fetch] expression in "${text}" (write %% for a literal %)`,
      };
    }
    let depth = 0;
    let j = i + 2;
    for (; j < text.length; j++) {
      if (text[j] === "(") depth++;
      else if (text[j] === ")") depth--;
      else if (text[j] === "]" && depth <= 0) break;
    }
    if (j >= text.length) return { ok: false, error: `missing "]" in "${text}"` };
    const sample = parseSample(text.slice(i + 2, j));
    if (!sample.ok) return sample;
    if (literal !== "") parts.push(literal);
    literal = "";
    parts.push(sample.value);
    i = j + 1;
  }
  if (literal !== "") parts.push(literal);
  return { ok: true, value: parts };
}
