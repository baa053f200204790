/**
 * Maps the directives of one HAProxy proxy section (`defaults`, `frontend`, `backend`,
 * `listen`) onto halb keys: settings that `[defaults]` can carry, binds, servers, ACLs, HTTP
 * rules, switching rules and `stats` (which become `[admin]`). Every directive is recorded in
 * the ledger as mapped or warned about.
 *
 * @module
 */

import { type Directive, joinWords, type Section, type Word } from "./haproxy_parse.ts";
import { type Ledger, type Src, toDuration } from "./source.ts";
import { type Elem, elem, type InlineTable, type Notes, type Value } from "./toml_doc.ts";
import { mapBind, mapServer, serverParams } from "./haproxy_endpoints.ts";

/** A setting that `[defaults]` may carry, keyed by its halb key path (`timeout.client`). */
export interface Setting {
  readonly value: Value;
  readonly src: Src;
  readonly notes: Notes;
}

/** Named ACL criteria in declaration order. */
export interface Acl {
  readonly criteria: string[];
  readonly src: Src;
  readonly notes: Notes;
}

/** `stats` directives of a proxy. */
export interface StatsState {
  src: Src;
  fields: Record<string, Value>;
  auth: string[];
}

/** Everything one proxy section says, before inheritance. */
export interface ProxyState {
  readonly section: Section;
  readonly settings: Map<string, Setting>;
  /** `default-server` parameters (already parsed into server keys). */
  defaultServer: InlineTable;
  readonly binds: Elem[];
  /** Servers with their own parameters only (default-server is merged at emission). */
  readonly servers: { name: string; fields: InlineTable; src: Src; notes: Notes }[];
  readonly acls: Map<string, Acl>;
  readonly useBackend: Elem[];
  readonly redirect: Elem[];
  readonly httpRequest: Elem[];
  readonly httpResponse: Elem[];
  stats: StatsState | null;
}

/** Context shared by the HAProxy mappers. */
export interface HaCtx {
  readonly ledger: Ledger;
  /** `crt-base` from `global`, for relative certificate paths. */
  crtBase: string | null;
}

/** The name of a directive for warnings: the keyword, with its sub-keyword where it has one. */
export function directiveName(d: Directive): string {
  const w = d.words.map((x) => x.text);
  if (
    ["option", "stats", "http-request", "http-response", "http-check", "timeout"].includes(w[0])
  ) {
    return w.slice(0, 2).join(" ");
  }
  if (w[0] === "no" && w[1] === "option") return w.slice(0, 3).join(" ");
  if (["tcp-request", "tcp-response", "tcp-check"].includes(w[0])) return w.slice(0, 2).join(" ");
  return w[0];
}

/** The comments of a directive, to carry over to what it maps to. */
export function notesOf(d: Directive): Notes {
  return { comments: [...d.comments], trailing: d.trailing };
}

/** Creates an empty proxy state for a section. */
export function newProxy(section: Section): ProxyState {
  return {
    section,
    settings: new Map(),
    defaultServer: {},
    binds: [],
    servers: [],
    acls: new Map(),
    useBackend: [],
    redirect: [],
    httpRequest: [],
    httpResponse: [],
    stats: null,
  };
}

/** Splits `args... if|unless cond...` into the arguments and a condition table. */
function splitCond(words: readonly Word[]): { args: Word[]; cond: Record<string, string> } {
  const at = words.findIndex((w) => !w.quoted && (w.text === "if" || w.text === "unless"));
  if (at < 0) return { args: [...words], cond: {} };
  return {
    args: words.slice(0, at),
    cond: { [words[at].text]: joinWords(words.slice(at + 1)) },
  };
}

const TIMEOUTS: Record<string, string> = {
  connect: "connect",
  client: "client",
  server: "server",
  "http-request": "http_request",
  "http-keep-alive": "http_keep_alive",
  queue: "queue",
  check: "check",
  contimeout: "connect",
  clitimeout: "client",
  srvtimeout: "server",
};

const OPTION_FLAGS: Record<string, string> = {
  httplog: "httplog",
  tcplog: "tcplog",
  dontlognull: "dontlognull",
  "http-server-close": "http_server_close",
  httpclose: "httpclose",
  forceclose: "httpclose",
  redispatch: "redispatch",
  allbackups: "allbackups",
};

const CHECK_OPTIONS = new Set([
  "tcp-check",
  "mysql-check",
  "pgsql-check",
  "redis-check",
  "ssl-hello-chk",
  "smtpchk",
  "ldap-check",
  "spop-check",
  "external-check",
]);

/** Maps one directive of a proxy (or defaults) section into `p`. */
export function mapProxyDirective(ctx: HaCtx, p: ProxyState, d: Directive): void {
  const w = d.words.map((x) => x.text);
  const kw = w[0];
  const set = (key: string, value: Value) => {
    p.settings.set(key, { value, src: d.src, notes: notesOf(d) });
    ctx.ledger.mapped(d.src);
  };
  const warn = (why: string) => ctx.ledger.warn(d.src, directiveName(d), why);
  const isDefaults = p.section.kind === "defaults";
  switch (kw) {
    case "mode":
      if (w[1] === "tcp" || w[1] === "http") set("mode", w[1]);
      else warn(`mode "${w[1]}" is not tcp or http`);
      return;
    case "maxconn":
      return intSetting(ctx, p, d, "maxconn");
    case "retries":
      return intSetting(ctx, p, d, "retries");
    case "balance": {
      const algo = w[1] ?? "";
      if (algo.startsWith("rdp-cookie") || algo === "hash") {
        warn(`halb has no "${algo}" algorithm`);
      } else set("balance", w.slice(1).join(" "));
      return;
    }
    case "hash-type":
      return set("hash_type", w.slice(1).join(" "));
    case "cookie":
      return mapCookie(ctx, p, d);
    case "timeout":
    case "contimeout":
    case "clitimeout":
    case "srvtimeout": {
      const name = kw === "timeout" ? w[1] : kw;
      const value = kw === "timeout" ? w[2] : w[1];
      const key = TIMEOUTS[name ?? ""];
      if (key === undefined) return warn(`halb has no timeout "${name}"`);
      const dur = toDuration(value ?? "", "ms");
      if (dur === null) return warn(`"${value}" is not a time`);
      return set(`timeout.${key}`, dur);
    }
    case "log":
      if (w[1] === "global") return set("log", true);
      set("log", true);
      return warn(
        "halb sends traffic logs to the [global] log target; this proxy's own target is dropped",
      );
    case "no":
      if (w[1] === "log") return set("log", false);
      if (w[1] === "option") return mapOption(ctx, p, d, w.slice(2), false);
      return warn("unknown directive");
    case "option":
      return mapOption(ctx, p, d, w.slice(1), true);
    case "http-check":
      return mapHttpCheck(ctx, p, d);
    case "errorfile": {
      if (!/^\d{3}$/.test(w[1] ?? "") || w[2] === undefined) return warn("expected CODE FILE");
      return set(`errorfile.${w[1]}`, w[2]);
    }
    case "default-server":
      p.defaultServer = { ...p.defaultServer, ...serverParams(ctx, d, d.words.slice(1)) };
      ctx.ledger.mapped(d.src);
      return;
    case "default_backend":
      return set("default_backend", w[1]);
  }
  if (isDefaults) {
    return warn(
      kw === "stats" || kw === "acl" || kw.startsWith("http-")
        ? "halb's [defaults] cannot carry it; write it in each proxy"
        : "halb's [defaults] has no such setting",
    );
  }
  switch (kw) {
    case "bind":
      return mapBind(ctx, p, d);
    case "server":
      return mapServer(ctx, p, d);
    case "acl": {
      const name = w[1];
      if (name === undefined || d.words.length < 3) return warn("expected NAME CRITERION");
      const text = joinWords(d.words.slice(2));
      const prev = p.acls.get(name);
      if (prev === undefined) p.acls.set(name, { criteria: [text], src: d.src, notes: notesOf(d) });
      else prev.criteria.push(text);
      ctx.ledger.mapped(d.src);
      return;
    }
    case "use_backend": {
      const { args, cond } = splitCond(d.words.slice(1));
      if (args.length !== 1) return warn("expected one backend name");
      if (args[0].text.includes("%[")) return warn("halb has no dynamic backend names");
      p.useBackend.push(elem({ backend: args[0].text, ...cond }, d.src, notesOf(d)));
      ctx.ledger.mapped(d.src);
      return;
    }
    case "redirect": {
      const r = redirectFields(d.words.slice(1));
      if (typeof r === "string") return warn(r);
      p.redirect.push(elem(r, d.src, notesOf(d)));
      ctx.ledger.mapped(d.src);
      return;
    }
    case "http-request":
    case "http-response": {
      const r = httpRule(d.words.slice(1), kw === "http-request");
      if (typeof r === "string") return warn(r);
      (kw === "http-request" ? p.httpRequest : p.httpResponse).push(elem(r, d.src, notesOf(d)));
      ctx.ledger.mapped(d.src);
      return;
    }
    case "stats":
      return mapStats(ctx, p, d);
  }
  warn(UNSUPPORTED[kw] ?? "halb has no equivalent");
}

const UNSUPPORTED: Record<string, string> = {
  "tcp-request": "halb has no tcp-request rules",
  "tcp-check": "halb checks servers with a TCP connect or an HTTP request only",
  "tcp-response": "halb has no tcp-response rules",
  "http-after-response": "halb has no http-after-response rules",
  capture: "halb has no header captures",
  "stick-table": "halb has no stick tables",
  stick: "halb has no stick tables; use cookie or balance source for persistence",
  compression: "halb does not compress",
  "monitor-uri": "halb has no monitor-uri; use the [admin] endpoint",
  description: "halb has no proxy descriptions",
  "server-template": "halb has no server templates; list the servers",
  "http-reuse": "halb chooses server connection reuse itself",
  "log-format": "halb's log format is fixed (text or json in [global])",
  disabled: "halb has no disabled proxies; leave the proxy out",
};

function intSetting(ctx: HaCtx, p: ProxyState, d: Directive, key: string): void {
  const v = d.words[1]?.text ?? "";
  if (!/^\d+$/.test(v)) {
    ctx.ledger.warn(d.src, directiveName(d), `"${v}" is not a number`);
    return;
  }
  p.settings.set(key, { value: Number(v), src: d.src, notes: notesOf(d) });
  ctx.ledger.mapped(d.src);
}

function mapOption(ctx: HaCtx, p: ProxyState, d: Directive, w: string[], on: boolean): void {
  const warn = (why: string) => ctx.ledger.warn(d.src, directiveName(d), why);
  const set = (key: string, value: Value) => {
    p.settings.set(key, { value, src: d.src, notes: notesOf(d) });
    ctx.ledger.mapped(d.src);
  };
  const name = w[0] ?? "";
  const flag = OPTION_FLAGS[name];
  if (flag !== undefined) {
    set(flag, on);
    if (w.length > 1 && name === "httplog") warn(`"${w[1]}" (CLF) log format is not available`);
    else if (w.length > 1 && name !== "redispatch") warn(`unexpected "${w[1]}"`);
    else if (w.length > 1) warn("halb has no redispatch interval");
    return;
  }
  if (name === "http-keep-alive") {
    if (!on) return warn("halb has no tunnel mode");
    set("http_server_close", false);
    set("httpclose", false);
    return;
  }
  if (name === "forwardfor") {
    if (!on) return set("forwardfor", false);
    const ff: Record<string, Value> = {};
    for (let i = 1; i < w.length; i++) {
      if (w[i] === "except" && w[i + 1] !== undefined) ff.except = w[++i];
      else if (w[i] === "header" && w[i + 1] !== undefined) ff.header = w[++i];
      else if (w[i] === "if-none") ff.if_none = true;
      else warn(`unknown forwardfor parameter "${w[i]}"`);
    }
    return set("forwardfor", Object.keys(ff).length === 0 ? true : ff);
  }
  if (name === "httpchk") {
    if (!on) return set("health_check", { type: "tcp" });
    const hc: Record<string, Value> = { type: "http" };
    const args = w.slice(1);
    if (args.length === 1) hc.uri = args[0];
    else if (args.length >= 2) {
      hc.method = args[0];
      hc.uri = args[1];
    }
    if (args.length >= 3) {
      // HAProxy < 2.2 style: headers smuggled after the version with \r\n.
      const [version, ...rest] = args.slice(2).join(" ").split(/\r\n/);
      hc.version = version;
      const headers: Record<string, string> = {};
      for (const h of rest) {
        const colon = h.indexOf(":");
        if (colon > 0) headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
      }
      if (Object.keys(headers).length > 0) hc.headers = headers;
    }
    mergeHealthCheck(p, d, hc);
    ctx.ledger.mapped(d.src);
    return;
  }
  if (CHECK_OPTIONS.has(name)) {
    return warn("halb checks servers with a TCP connect or an HTTP request only");
  }
  warn(`halb has no option ${name}`);
}

function mergeHealthCheck(p: ProxyState, d: Directive, fields: Record<string, Value>): void {
  const prev = p.settings.get("health_check");
  const base = prev === undefined ? {} : prev.value as InlineTable;
  const merged: Record<string, Value> = { ...base, ...fields };
  if (fields.headers !== undefined && base.headers !== undefined) {
    merged.headers = { ...(base.headers as InlineTable), ...(fields.headers as InlineTable) };
  }
  const notes = prev?.notes ?? { comments: [], trailing: null };
  p.settings.set("health_check", {
    value: merged,
    src: prev?.src ?? d.src,
    notes: {
      comments: [...notes.comments, ...d.comments],
      trailing: notes.trailing ?? d.trailing,
    },
  });
}

function mapHttpCheck(ctx: HaCtx, p: ProxyState, d: Directive): void {
  const w = d.words.map((x) => x.text);
  const warn = (why: string) => ctx.ledger.warn(d.src, directiveName(d), why);
  const done = (fields: Record<string, Value>) => {
    mergeHealthCheck(p, d, { type: "http", ...fields });
    ctx.ledger.mapped(d.src);
  };
  switch (w[1]) {
    case "disable-on-404":
      return done({ disable_on_404: true });
    case "expect": {
      if (w[2] === "!") return warn("halb has no negated expect");
      if (w[2] === "status" && w[3] !== undefined) return done({ expect_status: w[3] });
      if (w[2] === "string" && w[3] !== undefined) return done({ expect_string: w[3] });
      return warn(`halb has no "expect ${w[2] ?? ""}" (only status and string)`);
    }
    case "send": {
      const fields: Record<string, Value> = {};
      const headers: Record<string, string> = {};
      for (let i = 2; i < w.length; i++) {
        const k = w[i], v = w[i + 1];
        if (v === undefined) return warn(`"${k}" needs a value`);
        if (k === "meth") fields.method = v;
        else if (k === "uri") fields.uri = v;
        else if (k === "ver") fields.version = v;
        else if (k === "hdr" && w[i + 2] !== undefined) headers[v] = w[++i + 1];
        else return warn(`halb has no http-check send "${k}"`);
        i++;
      }
      if (Object.keys(headers).length > 0) fields.headers = headers;
      return done(fields);
    }
  }
  warn(`halb has no http-check ${w[1] ?? ""}`);
}

function mapCookie(ctx: HaCtx, p: ProxyState, d: Directive): void {
  const w = d.words.map((x) => x.text);
  const warn = (why: string) => ctx.ledger.warn(d.src, "cookie", why);
  if (w[1] === undefined) return warn("missing cookie name");
  const c: Record<string, Value> = { name: w[1] };
  const domains: string[] = [];
  const attrs: string[] = [];
  const dropped: string[] = [];
  for (let i = 2; i < w.length; i++) {
    const k = w[i];
    if (
      ["insert", "rewrite", "prefix", "indirect", "nocache", "postonly", "preserve"].includes(k)
    ) {
      c[k] = true;
    } else if (k === "httponly" || k === "secure") c[k] = true;
    else if (k === "domain" && w[i + 1] !== undefined) domains.push(w[++i]);
    else if (k === "attr" && w[i + 1] !== undefined) attrs.push(w[++i]);
    else if ((k === "maxidle" || k === "maxlife") && w[i + 1] !== undefined) {
      const dur = toDuration(w[++i], "s");
      if (dur === null) dropped.push(`${k} ${w[i]}`);
      else c[k] = dur;
    } else dropped.push(k);
  }
  if (domains.length > 0) c.domain = domains.length === 1 ? domains[0] : domains;
  if (attrs.length > 0) c.attr = attrs;
  p.settings.set("cookie", { value: c, src: d.src, notes: notesOf(d) });
  ctx.ledger.mapped(d.src);
  if (dropped.length > 0) warn(`halb has no cookie ${dropped.join(", ")}`);
}

function redirectFields(words: readonly Word[]): Record<string, Value> | string {
  const { args, cond } = splitCond(words);
  const w = args.map((x) => x.text);
  const kind = w[0];
  if (kind !== "scheme" && kind !== "location" && kind !== "prefix") {
    return `halb has no redirect ${kind ?? ""}`;
  }
  if (w[1] === undefined) return `redirect ${kind} needs a value`;
  const out: Record<string, Value> = { [kind]: w[1] };
  for (let i = 2; i < w.length; i++) {
    if (w[i] === "code" && /^\d+$/.test(w[i + 1] ?? "")) out.code = Number(w[++i]);
    else if (w[i] === "drop-query") out.drop_query = true;
    else if (w[i] === "append-slash") out.append_slash = true;
    else return `halb has no redirect option "${w[i]}"`;
  }
  return { ...out, ...cond };
}

const REQUEST_ACTIONS = new Set([
  "set-header",
  "add-header",
  "del-header",
  "replace-header",
  "replace-value",
  "set-path",
  "set-query",
  "deny",
  "return",
  "redirect",
]);
const RESPONSE_ACTIONS = new Set([
  "set-header",
  "add-header",
  "del-header",
  "replace-header",
  "deny",
  "set-status",
]);

function httpRule(words: readonly Word[], request: boolean): Record<string, Value> | string {
  const { args, cond } = splitCond(words);
  const w = args.map((x) => x.text);
  const action = w[0] ?? "";
  const setVar = /^set-var\((.+)\)$/.exec(action);
  if (setVar !== null) {
    if (w.length < 2) return "set-var needs an expression";
    return { action: "set-var", var: setVar[1], expr: w.slice(1).join(" "), ...cond };
  }
  if (!(request ? REQUEST_ACTIONS : RESPONSE_ACTIONS).has(action)) {
    return `halb has no ${request ? "http-request" : "http-response"} action "${action}"`;
  }
  const need = (n: number) => w.length - 1 < n ? `${action} needs ${n} argument(s)` : null;
  switch (action) {
    case "set-header":
    case "add-header":
      return need(2) ?? { action, name: w[1], value: w[2], ...cond };
    case "del-header": {
      const meth = w[2] === "-m" ? w[3] ?? "" : null;
      if (meth !== null && !["str", "beg", "end", "sub", "reg"].includes(meth)) {
        return `halb has no del-header match method "-m ${meth}"`;
      }
      if (w.length > (meth === null ? 2 : 4)) return `halb has no del-header option "${w.at(-1)}"`;
      const named = need(1) ?? { action, name: w[1], ...cond };
      return meth === null || typeof named === "string" ? named : { ...named, name_match: meth };
    }
    case "replace-header":
    case "replace-value":
      return need(3) ?? { action, name: w[1], match: w[2], replace: w[3], ...cond };
    case "set-path":
    case "set-query":
      return need(1) ?? { action, value: w[1], ...cond };
    case "redirect": {
      const r = redirectFields(args.slice(1));
      return typeof r === "string" ? r : { action, ...r, ...cond };
    }
    case "set-status": {
      if (!/^\d+$/.test(w[1] ?? "")) return "set-status needs a status";
      const out: Record<string, Value> = { action, status: Number(w[1]) };
      if (w[2] === "reason" && w[3] !== undefined) out.reason = w[3];
      else if (w.length > 2) return `halb has no set-status option "${w[2]}"`;
      return { ...out, ...cond };
    }
  }
  // deny / return: keyword-value options.
  const out: Record<string, Value> = { action };
  for (let i = 1; i < w.length; i++) {
    const k = w[i], v = w[i + 1];
    if ((k === "status" || k === "deny_status") && /^\d+$/.test(v ?? "")) out.status = Number(v);
    else if (action === "return" && k === "content-type" && v !== undefined) out.content_type = v;
    else if (action === "return" && (k === "string" || k === "lf-string") && v !== undefined) {
      out.string = v;
    } else return `halb has no ${action} option "${k}"`;
    i++;
  }
  return { ...out, ...cond };
}

function mapStats(ctx: HaCtx, p: ProxyState, d: Directive): void {
  const w = d.words.map((x) => x.text);
  const warn = (why: string) => ctx.ledger.warn(d.src, directiveName(d), why);
  const s = p.stats ??= { src: d.src, fields: {}, auth: [] };
  const done = () => ctx.ledger.mapped(d.src);
  switch (w[1]) {
    case "enable":
      return done();
    case "uri":
      s.fields.stats_uri = w[2] ?? "/";
      return done();
    case "realm":
      s.fields.realm = w[2] ?? "";
      return done();
    case "auth":
      s.auth.push(w[2] ?? "");
      return done();
    case "refresh": {
      const dur = toDuration(w[2] ?? "", "s");
      if (dur === null) return warn(`"${w[2]}" is not a time`);
      s.fields.refresh = dur;
      return done();
    }
    case "admin": {
      s.fields.allow_changes = true;
      done();
      const { cond } = splitCond(d.words.slice(2));
      if (cond.if !== "TRUE") {
        warn("halb gives admin rights to every authenticated user, without a condition");
      }
      return;
    }
  }
  warn(`halb's stats page has no "${w[1] ?? ""}" setting`);
}
