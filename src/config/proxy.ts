/**
 * Compiles `[defaults]`, `[frontend.NAME]` and `[backend.NAME]` into typed proxies: inheritance
 * from the defaults, binds with TLS, HTTP rules, servers, and the cross-references between
 * frontends and backends.
 *
 * @module
 */

import { isAbsolute, join } from "node:path";
import { parseCidr, parseListenAddress, parseServerAddress } from "./address.ts";
import { didYouMean } from "./diagnostics.ts";
import {
  compileCookie,
  compileHealthCheck,
  DEFAULT_HEALTH_CHECK,
  isHttpAlgorithm,
  parseBalance,
  parseHashType,
} from "./lb.ts";
import {
  type AclTable,
  compileAcls,
  compileCondition,
  compileRedirect,
  compileRequestRule,
  compileResponseRule,
  HAPROXY_ERROR_CODES,
} from "./rules.ts";
import { type Ctx, isTable, Table, typeName } from "./table.ts";
import { loadCertificate, readErrorReason } from "./tls.ts";
import type {
  BackendConfig,
  Balance,
  BindConfig,
  CookieConfig,
  ForwardFor,
  FrontendConfig,
  HashType,
  HealthCheckConfig,
  HttpRequestRule,
  HttpResponseRule,
  LogStyle,
  Millis,
  Mode,
  RedirectRule,
  ServerConfig,
  TlsCertificate,
} from "./types.ts";

type TimeoutKey =
  | "connect"
  | "client"
  | "server"
  | "http_request"
  | "http_keep_alive"
  | "queue"
  | "check";

/** Timeout values, and which keys were written (valid or not: no "missing" warning then). */
interface Timeouts {
  readonly values: Readonly<Record<TimeoutKey, Millis | null>>;
  readonly written: ReadonlySet<TimeoutKey>;
}

/** What `[defaults]` gives to the proxies. */
interface Defaults {
  readonly mode: Mode;
  readonly log: boolean;
  readonly httplog: boolean;
  readonly tcplog: boolean;
  readonly dontlognull: boolean;
  readonly httpServerClose: boolean;
  readonly httpclose: boolean;
  readonly forwardfor: ForwardFor | null;
  readonly redispatch: boolean;
  readonly retries: number;
  readonly maxconn: number;
  readonly timeout: Timeouts;
  readonly errorfiles: Readonly<Record<number, string>>;
  readonly balance: Balance;
  readonly hashType: HashType;
  readonly cookie: CookieConfig | null;
  readonly healthCheck: HealthCheckConfig;
  readonly allbackups: boolean;
  readonly redirect: readonly RedirectRule[];
}

/** Resolves a path written in the config against the config file's directory. */
export function resolvePath(ctx: Ctx, path: string): string {
  return isAbsolute(path) ? path : join(ctx.dir, path);
}

function readForwardFor(t: Table): ForwardFor | null {
  const v = t.get("forwardfor");
  if (typeof v === "boolean") {
    return v ? { except: null, header: "X-Forwarded-For", ifNone: false } : null;
  }
  if (!isTable(v)) {
    t.error("forwardfor", `expected true, false or a table, found ${typeName(v)}`);
    return null;
  }
  const ff = t.table("forwardfor");
  if (ff === null) return null;
  const except = ff.optText("except");
  if (except !== null) {
    const r = parseCidr(except);
    if (!r.ok) ff.error("except", r.error);
  }
  const header = ff.text("header");
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
    ff.error("header", `invalid header name "${header}"`);
  }
  return { except, header, ifNone: ff.bool("if_none") };
}

function readErrorfiles(t: Table): Record<number, string> {
  const out: Record<number, string> = {};
  for (const [code, path] of t.entries("errorfile")) {
    const status = Number(code);
    if (!HAPROXY_ERROR_CODES.includes(status)) {
      t.ctx.diags.error(
        t.at("errorfile", code),
        `status ${code} cannot have an errorfile (allowed: ${HAPROXY_ERROR_CODES.join(", ")})`,
        "key",
      );
      continue;
    }
    if (typeof path !== "string") {
      t.error("errorfile", `expected a file path, found ${typeName(path)}`, code);
      continue;
    }
    try {
      out[status] = t.ctx.readTextFile(resolvePath(t.ctx, path));
    } catch (e) {
      t.error("errorfile", `cannot read errorfile "${path}": ${readErrorReason(e)}`, code);
    }
  }
  return out;
}

function readTimeouts(t: Table | null, inherited: Timeouts): Timeouts {
  const values = { ...inherited.values };
  const written = new Set(inherited.written);
  for (const key of Object.keys(t?.spec ?? {}) as TimeoutKey[]) {
    if (t !== null && t.has(key)) {
      values[key] = t.optDuration(key);
      written.add(key);
    }
  }
  return { values, written };
}

function missingTimeouts(t: Timeouts, keys: readonly TimeoutKey[]): TimeoutKey[] {
  return keys.filter((k) => t.values[k] === null && !t.written.has(k));
}

function readBalance(t: Table, inherited: Balance): Balance {
  if (!t.has("balance")) return inherited;
  const r = parseBalance(t.text("balance"));
  if (r.ok) return r.value;
  t.error("balance", r.error);
  return inherited;
}

function readHashType(t: Table, inherited: HashType): HashType {
  if (!t.has("hash_type")) return inherited;
  const r = parseHashType(t.text("hash_type"));
  if (r.ok) return r.value;
  t.error("hash_type", r.error);
  return inherited;
}

const NO_TIMEOUTS: Timeouts = {
  values: {
    connect: null,
    client: null,
    server: null,
    http_request: null,
    http_keep_alive: null,
    queue: null,
    check: null,
  },
  written: new Set(),
};

/** Compiles `[defaults]` (or the built-in defaults when the section is absent). */
function compileDefaults(d: Table | null): Defaults {
  const cookieTable = d?.table("cookie") ?? null;
  const hcTable = d?.table("health_check") ?? null;
  return {
    mode: (d?.optText("mode") ?? "tcp") as Mode,
    log: d?.bool("log") ?? false,
    httplog: d?.bool("httplog") ?? false,
    tcplog: d?.bool("tcplog") ?? false,
    dontlognull: d?.bool("dontlognull") ?? false,
    httpServerClose: d?.bool("http_server_close") ?? false,
    httpclose: d?.bool("httpclose") ?? false,
    forwardfor: d?.has("forwardfor") ? readForwardFor(d) : null,
    redispatch: d?.bool("redispatch") ?? false,
    retries: d?.optInt("retries") ?? 3,
    maxconn: d?.int("maxconn") ?? 0,
    timeout: readTimeouts(d?.table("timeout") ?? null, NO_TIMEOUTS),
    errorfiles: d === null ? {} : readErrorfiles(d),
    balance: d === null ? { algorithm: "roundrobin" } : readBalance(d, { algorithm: "roundrobin" }),
    hashType: d === null
      ? { method: "map-based", fn: "sdbm", avalanche: false }
      : readHashType(d, { method: "map-based", fn: "sdbm", avalanche: false }),
    cookie: cookieTable === null ? null : compileCookie(cookieTable),
    healthCheck: hcTable === null ? DEFAULT_HEALTH_CHECK : compileHealthCheck(hcTable),
    allbackups: d?.bool("allbackups") ?? false,
    redirect: d === null ? [] : compileRedirects(d, new Map()),
  };
}

function compileRedirects(t: Table, acls: AclTable): RedirectRule[] {
  return t.tables("redirect").map((r) => compileRedirect(r, acls)).filter((r) => r !== null);
}

function compileRules(t: Table, acls: AclTable, mode: Mode) {
  for (const key of ["http_request", "http_response", "redirect"]) {
    if (mode === "tcp" && t.has(key)) {
      t.ctx.diags.warn(t.at(key), `${key} rules are ignored in tcp mode`, "key");
    }
  }
  const httpRequest: HttpRequestRule[] = t.tables("http_request")
    .map((r) => compileRequestRule(r, acls)).filter((r) => r !== null);
  const httpResponse: HttpResponseRule[] = t.tables("http_response")
    .map((r) => compileResponseRule(r, acls)).filter((r) => r !== null);
  return { httpRequest, httpResponse };
}

function bool(t: Table, key: string, inherited: boolean): boolean {
  return t.has(key) ? t.bool(key) : inherited;
}

function compileBind(t: Table, index: number, value: unknown): BindConfig | null {
  if (typeof value === "string") {
    const r = parseListenAddress(value);
    if (!r.ok) t.error("bind", r.error, index);
    return r.ok ? { address: r.value, tls: null } : null;
  }
  const b = Table.of(t.ctx, t.at("bind", index), value, "bind");
  if (b === null || !b.has("address")) return null;
  const r = parseListenAddress(b.text("address"));
  if (!r.ok) b.error("address", r.error);
  let tls: BindConfig["tls"] = null;
  if (b.has("crt")) {
    const crts = b.stringOrStrings("crt");
    const certificates: TlsCertificate[] = [];
    crts.forEach((crt, i) => {
      const c = loadCertificate(resolvePath(t.ctx, crt), {
        shown: crt,
        readTextFile: t.ctx.readTextFile,
      });
      if (c.ok) certificates.push(c.value);
      else if (Array.isArray(b.get("crt"))) b.error("crt", c.error, i);
      else b.error("crt", c.error);
    });
    if (crts.length === 0 && Array.isArray(b.get("crt"))) b.error("crt", "no certificate given");
    const alpn = b.has("alpn") ? b.strings("alpn") : ["http/1.1"];
    tls = { certificates, alpn };
  } else if (b.has("alpn")) {
    b.ctx.diags.warn(b.at("alpn"), "alpn has no effect without crt (TLS)", "key");
  }
  return r.ok ? { address: r.value, tls } : null;
}

function compileBinds(t: Table): BindConfig[] {
  if (!t.has("bind")) {
    t.ctx.diags.warn(t.path, "frontend has no bind: it will not accept connections", "key");
    return [];
  }
  const v = t.get("bind");
  if (typeof v === "string") {
    const r = parseListenAddress(v);
    if (!r.ok) t.error("bind", r.error);
    return r.ok ? [{ address: r.value, tls: null }] : [];
  }
  if (!Array.isArray(v)) {
    t.error("bind", `expected an array of addresses, found ${typeName(v)}`);
    return [];
  }
  return v.map((item, i) => compileBind(t, i, item)).filter((b) => b !== null);
}

function logStyle(t: Table, d: Defaults, mode: Mode): LogStyle {
  if (bool(t, "httplog", d.httplog)) return mode === "http" ? "httplog" : "tcplog";
  return bool(t, "tcplog", d.tcplog) ? "tcplog" : "connect";
}

/** Where a frontend names a backend, for cross-reference errors. */
interface BackendRef {
  readonly backend: string;
  readonly path: readonly (string | number)[];
  readonly kind: "use_backend" | "default_backend";
}

function compileFrontend(t: Table, name: string, d: Defaults) {
  const mode = (t.has("mode") ? t.text("mode") : d.mode) as Mode;
  const acls = compileAcls(t);
  const refs: BackendRef[] = [];
  const useBackend: FrontendConfig["useBackend"][number][] = [];
  for (const u of t.tables("use_backend")) {
    if (!u.has("backend")) continue;
    const backend = u.text("backend");
    refs.push({ backend, path: u.at("backend"), kind: "use_backend" });
    useBackend.push({ backend, cond: compileCondition(u, acls, "request") });
  }
  const defaultBackend = t.optText("default_backend");
  if (defaultBackend !== null) {
    refs.push({ backend: defaultBackend, path: t.at("default_backend"), kind: "default_backend" });
  }
  const timeouts = readTimeouts(t.table("timeout"), d.timeout);
  const timeout = timeouts.values;
  const config: FrontendConfig = {
    name,
    mode,
    maxconn: t.has("maxconn") ? t.int("maxconn") : d.maxconn,
    binds: compileBinds(t),
    redirect: t.has("redirect") ? compileRedirects(t, acls) : d.redirect,
    ...compileRules(t, acls, mode),
    useBackend,
    defaultBackend,
    log: bool(t, "log", d.log),
    logStyle: logStyle(t, d, mode),
    dontlognull: bool(t, "dontlognull", d.dontlognull),
    forwardfor: t.has("forwardfor") ? readForwardFor(t) : d.forwardfor,
    httpServerClose: bool(t, "http_server_close", d.httpServerClose),
    httpclose: bool(t, "httpclose", d.httpclose),
    timeout: {
      client: timeout.client,
      httpRequest: timeout.http_request,
      httpKeepAlive: timeout.http_keep_alive,
    },
    errorfiles: { ...d.errorfiles, ...readErrorfiles(t) },
  };
  if (missingTimeouts(timeouts, ["client"]).length > 0) {
    t.ctx.diags.warn(
      t.path,
      `missing timeouts for frontend '${name}': set timeout.client here or in [defaults.timeout]`,
      "key",
    );
  }
  return { config, refs };
}

function compileServer(t: Table, id: number): ServerConfig | null {
  if (!t.has("name") || !t.has("address")) return null;
  const addr = parseServerAddress(t.text("address"));
  if (!addr.ok) t.error("address", addr.error);
  const inter = t.duration("inter");
  const verify = t.text("verify") as "none" | "required";
  const config: ServerConfig = {
    name: t.text("name"),
    id,
    address: addr.ok ? addr.value : { host: "", port: 0, text: t.text("address") },
    weight: t.int("weight"),
    maxconn: t.int("maxconn"),
    maxqueue: t.int("maxqueue"),
    check: t.bool("check"),
    inter,
    fastinter: t.optDuration("fastinter") ?? inter,
    downinter: t.optDuration("downinter") ?? inter,
    rise: t.int("rise"),
    fall: t.int("fall"),
    cookie: t.optText("cookie"),
    backup: t.bool("backup"),
    disabled: t.bool("disabled"),
    slowstart: t.duration("slowstart"),
    ssl: t.bool("ssl"),
    verify,
    sni: t.optText("sni"),
    checkSsl: t.bool("check_ssl"),
  };
  return addr.ok ? config : null;
}

/**
 * Compiles the servers. Ids are as written, else (as HAProxy) the next id, counting from 1, that
 * no server uses: the position when no id is written.
 */
function compileServers(t: Table): ServerConfig[] {
  const tables = t.tables("server");
  const explicit = new Map<number, string>();
  const taken = new Set(tables.map((s) => s.has("id") ? s.optInt("id") : null));
  const servers: ServerConfig[] = [];
  const names = new Map<string, number>();
  let next = 1;
  for (const s of tables) {
    const index = s.path[s.path.length - 1] as number;
    let id = s.has("id") ? s.int("id") : 0;
    if (!s.has("id")) {
      while (taken.has(next)) next++;
      id = next++;
    }
    const server = compileServer(s, id);
    if (server === null) continue;
    if (names.has(server.name)) {
      s.error(
        "name",
        `duplicate server name "${server.name}" (also server[${names.get(server.name)}])`,
      );
      continue;
    }
    names.set(server.name, index);
    const other = explicit.get(id);
    if (other !== undefined) {
      s.error("id", `server id ${id} is already used by "${other}"`);
      continue;
    }
    if (s.has("id")) explicit.set(id, server.name);
    servers.push(server);
  }
  return servers;
}

function compileBackend(t: Table, name: string, d: Defaults): BackendConfig {
  const mode = (t.has("mode") ? t.text("mode") : d.mode) as Mode;
  const acls = compileAcls(t);
  let balance = readBalance(t, d.balance);
  if (mode === "tcp" && isHttpAlgorithm(balance)) {
    t.warn(
      t.has("balance") ? "balance" : "mode",
      `balance ${balance.algorithm} needs mode "http"; roundrobin is used`,
    );
    balance = { algorithm: "roundrobin" };
  }
  const cookieTable = t.table("cookie");
  const cookie = cookieTable === null ? d.cookie : compileCookie(cookieTable);
  if (cookie !== null && mode === "tcp") {
    t.ctx.diags.warn(
      t.has("cookie") ? t.at("cookie") : t.path,
      "cookie is ignored in tcp mode",
      "key",
    );
  }
  const hcTable = t.table("health_check");
  const timeouts = readTimeouts(t.table("timeout"), d.timeout);
  const timeout = timeouts.values;
  const config: BackendConfig = {
    name,
    mode,
    balance,
    hashType: readHashType(t, d.hashType),
    cookie,
    healthCheck: hcTable === null ? d.healthCheck : compileHealthCheck(hcTable),
    servers: compileServers(t),
    allbackups: bool(t, "allbackups", d.allbackups),
    redispatch: bool(t, "redispatch", d.redispatch),
    retries: t.has("retries") ? t.int("retries") : d.retries,
    timeout: {
      connect: timeout.connect,
      server: timeout.server,
      queue: timeout.queue ?? timeout.connect,
      check: timeout.check,
    },
    ...compileRules(t, acls, mode),
    forwardfor: t.has("forwardfor") ? readForwardFor(t) : d.forwardfor,
    httpServerClose: bool(t, "http_server_close", d.httpServerClose),
    httpclose: bool(t, "httpclose", d.httpclose),
    log: bool(t, "log", d.log),
    errorfiles: { ...d.errorfiles, ...readErrorfiles(t) },
  };
  const missing = missingTimeouts(timeouts, ["connect", "server"]);
  if (missing.length > 0) {
    t.ctx.diags.warn(
      t.path,
      `missing timeouts for backend '${name}': set timeout.${missing.join(" and timeout.")} ` +
        "here or in [defaults.timeout]",
      "key",
    );
  }
  return config;
}

function namedTables(ctx: Ctx, root: Table, kind: "frontend" | "backend"): [string, Table][] {
  const out: [string, Table][] = [];
  for (const [name, value] of root.entries(kind)) {
    const t = Table.of(ctx, [kind, name], value, `${kind}.*`);
    if (t !== null) out.push([name, t]);
  }
  return out;
}

/** Compiles defaults, frontends and backends of the root table, with their cross-references. */
export function compileProxies(root: Table): {
  frontends: FrontendConfig[];
  backends: BackendConfig[];
} {
  const ctx = root.ctx;
  const defaults = compileDefaults(root.table("defaults"));
  const backends = namedTables(ctx, root, "backend").map(([n, t]) =>
    compileBackend(t, n, defaults)
  );
  const byName = new Map(backends.map((b) => [b.name, b]));
  const frontends: FrontendConfig[] = [];
  for (const [name, t] of namedTables(ctx, root, "frontend")) {
    const { config, refs } = compileFrontend(t, name, defaults);
    frontends.push(config);
    for (const ref of refs) {
      const be = byName.get(ref.backend);
      if (be === undefined && ref.kind === "use_backend") {
        // HAProxy refuses a static unknown name; the spec's own example names backends that
        // live in other files, so halb accepts it and routes those requests as HAProxy does
        // for a dynamic name that resolves to nothing: to default_backend.
        ctx.diags.warn(
          ref.path,
          `no backend '${ref.backend}'${
            didYouMean(ref.backend, byName.keys())
          }; requests matching this rule go to default_backend`,
        );
      } else if (be === undefined) {
        ctx.diags.error(
          ref.path,
          `unable to find required ${ref.kind}: '${ref.backend}'${
            didYouMean(ref.backend, byName.keys())
          }`,
        );
      } else if (config.mode === "http" && be.mode === "tcp") {
        ctx.diags.error(
          ref.path,
          `http frontend '${name}' tries to use incompatible tcp backend '${be.name}'`,
        );
      }
    }
  }
  return { frontends, backends };
}
