/**
 * Maps a parsed haproxy.cfg onto halb.toml sections: `global` → `[global]` (and `stats socket`
 * → `[admin].socket`), `defaults` → `[defaults]`, `frontend`/`backend` → `[frontend.NAME]` /
 * `[backend.NAME]`, `listen` → a frontend and a backend of the same name, and a proxy that only
 * serves `stats` → `[admin]`.
 *
 * Inheritance: each proxy takes its settings from the last `defaults` before it, or the one it
 * names with `from` (a `defaults ... from X` section starts from X's settings). halb has one
 * `[defaults]`: it holds what every `defaults` section in use agrees on, and each proxy lists
 * explicitly what its own `defaults` section sets beyond that, with a comment saying so.
 *
 * @module
 */

import { SCHEMA } from "../config/schema.ts";
import type { Directive, HaproxyFile, Section } from "./haproxy_parse.ts";
import {
  directiveName,
  type HaCtx,
  mapProxyDirective,
  newProxy,
  type ProxyState,
  type Setting,
} from "./haproxy_proxy.ts";
import { type Ledger, toDuration } from "./source.ts";
import {
  type Elem,
  elem,
  type Entry,
  entry,
  type InlineTable,
  listEntry,
  type TomlSection,
  type Value,
} from "./toml_doc.ts";

/** What the haproxy.cfg contributes to the document. */
export interface HaproxyParts {
  readonly global: Entry[];
  /** `[admin]` entries, or null when the config has no stats page and no stats socket. */
  readonly admin: TomlSection | null;
  /** `[defaults]`, `[defaults.timeout]` and the proxies, in order. */
  readonly proxies: TomlSection[];
}

interface DefaultsInfo {
  readonly name: string;
  readonly section: Section;
  readonly eff: Map<string, Setting>;
  readonly defaultServer: InlineTable;
}

const STRUCTURAL = new Set([
  "bind",
  "redirect",
  "use_backend",
  "default_backend",
  "timeout",
  "acl",
  "http_request",
  "http_response",
  "server",
]);

/** True when halb accepts `key` (a setting path) in a `frontend` or `backend` section. */
function validFor(kind: "frontend" | "backend", key: string): boolean {
  if (key.startsWith("timeout.")) return key.slice(8) in SCHEMA[`${kind}.*.timeout`];
  if (key.startsWith("errorfile.")) return true;
  if (key === "default_backend") return kind === "frontend";
  return key in SCHEMA[`${kind}.*`] && !STRUCTURAL.has(key);
}

/** True when halb's `[defaults]` accepts `key`. */
function validForDefaults(key: string): boolean {
  if (key.startsWith("timeout.")) return key.slice(8) in SCHEMA["defaults.timeout"];
  if (key.startsWith("errorfile.")) return true;
  return key in SCHEMA.defaults && key !== "timeout" && key !== "redirect";
}

/** Which halb sections of a `listen` get `key`. */
function listenParts(key: string): ("frontend" | "backend")[] {
  const f = validFor("frontend", key);
  const b = validFor("backend", key);
  if (f && b) return key === "forwardfor" ? ["backend"] : ["frontend", "backend"];
  return f ? ["frontend"] : b ? ["backend"] : [];
}

const same = (a: Value, b: Value) => JSON.stringify(a) === JSON.stringify(b);

/** Maps a parsed haproxy.cfg. */
export function mapHaproxy(file: HaproxyFile, ledger: Ledger): HaproxyParts {
  const ctx: HaCtx = { ledger, crtBase: null };
  for (const d of file.orphans) ledger.warn(d.src, directiveName(d), "outside of any section");
  const global: Entry[] = [];
  const admin: AdminParts = { socket: null, stats: null };
  const named = new Map<string, DefaultsInfo>();
  let last: DefaultsInfo | null = null;
  const proxies: { p: ProxyState; defaults: DefaultsInfo | null }[] = [];
  for (const section of file.sections) {
    const header = section.header;
    if (section.kind === "global") {
      ledger.mapped(header.src);
      mapGlobal(ctx, section, global, admin);
      continue;
    }
    if (!["defaults", "frontend", "backend", "listen"].includes(section.kind)) {
      ledger.warn(header.src, section.kind, `halb has no ${section.kind} sections`);
      ledger.warnedBlock(header.src.file, header.src.line, section.lastLine);
      continue;
    }
    ledger.mapped(header.src);
    // A proxy uses the last defaults section; a defaults section starts afresh; both may name
    // another one with "from".
    let base = section.kind === "defaults" ? null : last;
    if (section.from !== null) {
      base = named.get(section.from) ?? null;
      if (base === null) {
        ledger.warn(header.src, section.kind, `no defaults section named "${section.from}"`);
      }
    }
    const p = newProxy(section);
    for (const d of section.directives) mapProxyDirective(ctx, p, d);
    if (section.kind === "defaults") {
      const info: DefaultsInfo = {
        name: section.name,
        section,
        eff: new Map([...(base?.eff ?? []), ...p.settings]),
        defaultServer: { ...base?.defaultServer, ...p.defaultServer },
      };
      if (section.name !== "") named.set(section.name, info);
      last = info;
    } else {
      proxies.push({ p, defaults: base });
    }
  }
  const used = [...new Set(proxies.map((x) => x.defaults).filter((d) => d !== null))];
  if (used.length === 0 && last !== null) used.push(last);
  const shared = sharedDefaults(used);
  const sections: TomlSection[] = defaultsSections(used, shared);
  for (const { p, defaults } of proxies) {
    if (isStatsOnly(p)) {
      statsProxy(ctx, p, admin);
      continue;
    }
    if (p.stats !== null) {
      admin.stats ??= { p, bind: null };
      ledger.warn(
        p.stats.src,
        "stats",
        `halb serves the stats page on [admin].bind, not on the traffic frontend "${p.section.name}"`,
      );
    }
    sections.push(...proxySections(ctx, p, defaults, shared));
  }
  return { global, admin: adminSection(ctx, admin), proxies: sections };
}

function sharedDefaults(used: readonly DefaultsInfo[]): Map<string, Setting> {
  const out = new Map<string, Setting>();
  if (used.length === 0) return out;
  for (const [key, s] of used[0].eff) {
    if (!validForDefaults(key)) continue;
    if (used.every((d) => d.eff.has(key) && same(d.eff.get(key)!.value, s.value))) out.set(key, s);
  }
  return out;
}

function defaultsSections(
  used: readonly DefaultsInfo[],
  shared: Map<string, Setting>,
): TomlSection[] {
  if (shared.size === 0) return [];
  const comments = used.length === 1 ? [...used[0].section.header.comments] : [
    `haproxy.cfg has ${used.length} defaults sections in use (${
      used.map((d) => d.name === "" ? `line ${d.section.header.src.line}` : `"${d.name}"`)
        .join(", ")
    }):`,
    "[defaults] holds what they all set alike; each proxy lists what its own adds.",
  ];
  const main: TomlSection = {
    path: ["defaults"],
    array: false,
    entries: [],
    src: used[0].section.header.src,
    comments,
    trailing: used.length === 1 ? used[0].section.header.trailing : null,
  };
  const timeouts: TomlSection = {
    path: ["defaults", "timeout"],
    array: false,
    entries: [],
    src: main.src,
    comments: [],
    trailing: null,
  };
  for (const [key, s] of shared) {
    if (key.startsWith("timeout.")) {
      timeouts.entries.push(entry(key.slice(8), s.value, s.src, s.notes));
    } else main.entries.push(entry(key, s.value, s.src, s.notes));
  }
  return [main, ...(timeouts.entries.length > 0 ? [timeouts] : [])];
}

function proxySections(
  ctx: HaCtx,
  p: ProxyState,
  defaults: DefaultsInfo | null,
  shared: Map<string, Setting>,
): TomlSection[] {
  const kinds: ("frontend" | "backend")[] = p.section.kind === "listen"
    ? ["frontend", "backend"]
    : [p.section.kind as "frontend" | "backend"];
  const header = p.section.header;
  const out: TomlSection[] = [];
  for (const kind of kinds) {
    const s: TomlSection = {
      path: [kind, p.section.name],
      array: false,
      entries: [],
      src: header.src,
      comments: kind === kinds[0] ? [...header.comments] : [],
      trailing: kind === kinds[0] ? header.trailing : null,
    };
    if (kinds.length === 2 && kind === "frontend") s.comments.push(`listen ${p.section.name}`);
    const placed = (key: string) =>
      p.section.kind === "listen" ? listenParts(key).includes(kind) : validFor(kind, key);
    const firstPart = (key: string) => p.section.kind !== "listen" || listenParts(key)[0] === kind;
    for (const [key, st] of p.settings) {
      if (placed(key)) {
        s.entries.push(entry(key, st.value, st.src, firstPart(key) ? st.notes : {}));
      } else if (p.section.kind !== "listen") {
        ctx.ledger.warn(
          st.src,
          key,
          `halb accepts it in ${kind === "frontend" ? "backends" : "frontends"} only ` +
            "(HAProxy ignores it here too)",
        );
      }
    }
    if (defaults !== null) {
      let first = true;
      for (const [key, st] of defaults.eff) {
        if (p.settings.has(key) || shared.has(key) || !placed(key)) continue;
        const what = defaults.name === ""
          ? `line ${defaults.section.header.src.line}`
          : `"${defaults.name}"`;
        const notes = first
          ? { comments: [`from haproxy defaults ${what}, which not every proxy uses`] }
          : {};
        first = false;
        s.entries.push(entry(key, st.value, st.src, notes));
      }
    }
    if (kind === "frontend") frontendParts(p, s);
    else backendParts(p, defaults, s);
    out.push(s);
  }
  return out;
}

function aclEntries(p: ProxyState): Entry[] {
  return [...p.acls].map(([name, acl]) =>
    entry(
      ["acl", name],
      acl.criteria.length === 1 ? acl.criteria[0] : acl.criteria,
      acl.src,
      acl.notes,
    )
  );
}

function frontendParts(p: ProxyState, s: TomlSection): void {
  const lists: [string, Elem[]][] = [
    ["bind", p.binds],
    ["http_request", p.httpRequest],
    ["http_response", p.httpResponse],
    ["redirect", p.redirect],
    ["use_backend", p.useBackend],
  ];
  const before = s.entries.length;
  s.entries.push(...aclEntries(p));
  for (const [key, elems] of lists) if (elems.length > 0) s.entries.push(listEntry(key, elems));
  if (p.section.kind === "listen" && !p.settings.has("default_backend")) {
    s.entries.push(entry("default_backend", p.section.name, p.section.header.src));
  }
  // Keep default_backend last, as HAProxy users read it.
  const db = s.entries.findIndex((e, i) => i < before && e.key[0] === "default_backend");
  if (db >= 0) s.entries.push(...s.entries.splice(db, 1));
}

function backendParts(p: ProxyState, defaults: DefaultsInfo | null, s: TomlSection): void {
  if (p.section.kind === "backend") {
    s.entries.push(...aclEntries(p));
    if (p.httpRequest.length > 0) s.entries.push(listEntry("http_request", p.httpRequest));
    if (p.httpResponse.length > 0) s.entries.push(listEntry("http_response", p.httpResponse));
  }
  const dflt = { ...defaults?.defaultServer, ...p.defaultServer };
  const servers = p.servers.map((srv) => {
    const { name, address, ...rest } = srv.fields;
    const merged: InlineTable = { name, address, ...dflt, ...rest };
    return elem(merged, srv.src, srv.notes);
  });
  if (servers.length > 0) s.entries.push(listEntry("server", servers));
}

// ---------------------------------------------------------------------------------------------
// global and [admin]

interface AdminParts {
  socket: { value: string; directive: Directive } | null;
  stats: { p: ProxyState; bind: { value: string; directive: Directive } | null } | null;
}

const GLOBAL_WHY: Record<string, string> = {
  nbthread: "halb is one process with its own threading",
  nbproc: "halb is one process with its own threading",
  "cpu-map": "halb is one process with its own threading",
  "ssl-default-bind-ciphers": "halb's TLS stack chooses its cipher suites",
  "ssl-default-bind-ciphersuites": "halb's TLS stack chooses its cipher suites",
  "ssl-default-bind-options": "halb's TLS stack chooses its protocol versions",
  "ssl-default-server-ciphers": "halb's TLS stack chooses its cipher suites",
  "ssl-default-server-options": "halb's TLS stack chooses its protocol versions",
  "server-state-file": "halb keeps health state across reloads by itself",
  "master-worker": "halb reloads in-process on SIGHUP",
  "ca-base": "halb verifies servers against the system CAs",
};

function mapGlobal(ctx: HaCtx, section: Section, global: Entry[], admin: AdminParts): void {
  const ledger = ctx.ledger;
  let logged = false;
  for (const d of section.directives) {
    const w = d.words.map((x) => x.text);
    const warn = (why: string) => ledger.warn(d.src, directiveName(d), why);
    const set = (key: string, value: Value) => {
      global.push(entry(key, value, d.src, { comments: [...d.comments], trailing: d.trailing }));
      ledger.mapped(d.src);
    };
    switch (w[0]) {
      case "maxconn":
        if (/^\d+$/.test(w[1] ?? "")) set("maxconn", Number(w[1]));
        else warn(`"${w[1]}" is not a number`);
        continue;
      case "user":
      case "group":
      case "pidfile":
      case "chroot":
        if (w[1] === undefined) warn("missing value");
        else set(w[0], w[1]);
        continue;
      case "daemon":
        set("daemon", true);
        continue;
      case "log":
        if (logged) warn("halb logs to one target; the first log line is used");
        else {
          logged = true;
          mapGlobalLog(ctx, d, global);
        }
        continue;
      case "tune.ssl.default-dh-param":
        if (/^\d+$/.test(w[1] ?? "")) set("tls_dh_param", Number(w[1]));
        else warn(`"${w[1]}" is not a number`);
        continue;
      case "hard-stop-after": {
        const dur = toDuration(w[1] ?? "", "ms");
        if (dur === null) warn(`"${w[1]}" is not a time`);
        else set("grace", dur);
        continue;
      }
      case "crt-base":
        ctx.crtBase = w[1] ?? null;
        ledger.mapped(d.src);
        continue;
      case "stats":
        if (w[1] !== "socket") {
          warn(`halb has no global stats ${w[1] ?? ""}`);
          continue;
        }
        mapStatsSocket(ctx, d, admin);
        continue;
    }
    warn(GLOBAL_WHY[w[0]] ?? "halb has no equivalent");
  }
}

function mapGlobalLog(ctx: HaCtx, d: Directive, global: Entry[]): void {
  const w = d.words.map((x) => x.text);
  const notes = { comments: [...d.comments], trailing: d.trailing };
  const target = w[1] ?? "";
  let value: string | null = null;
  if (target === "stdout" || target === "stderr") value = target;
  else if (target.startsWith("/") || target.startsWith("unix@")) {
    value = `syslog:${target.replace(/^unix@/, "")}`;
  } else {
    const m = /^(?:udp@|ipv4@)?(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(target);
    if (m !== null) value = `syslog:udp://${m[1]}:${m[2] ?? "514"}`;
  }
  if (value === null) {
    ctx.ledger.warn(d.src, "log", `halb cannot log to "${target}"`);
    return;
  }
  global.push(entry("log", value, d.src, notes));
  ctx.ledger.mapped(d.src);
  const rest = w.slice(2);
  const dropped: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (["len", "format", "sample"].includes(rest[i])) dropped.push(`${rest[i]} ${rest[++i]}`);
    else break;
  }
  const tail = rest.slice(dropped.length * 2);
  if (tail[0] !== undefined) global.push(entry("log_facility", tail[0], d.src));
  if (tail[1] !== undefined) global.push(entry("log_level", tail[1], d.src));
  if (tail[2] !== undefined) dropped.push(`minimum level ${tail[2]}`);
  if (dropped.length > 0) {
    ctx.ledger.warn(d.src, "log", `halb has no log ${dropped.join(", ")}`);
  }
}

function mapStatsSocket(ctx: HaCtx, d: Directive, admin: AdminParts): void {
  const w = d.words.map((x) => x.text);
  const path = (w[2] ?? "").replace(/^unix@/, "");
  if (!path.startsWith("/")) {
    ctx.ledger.warn(d.src, "stats socket", `halb's runtime socket is a unix socket, not "${w[2]}"`);
    return;
  }
  if (admin.socket !== null) {
    ctx.ledger.warn(d.src, "stats socket", "halb has one runtime socket; the first is used");
    return;
  }
  admin.socket = { value: path, directive: d };
  ctx.ledger.mapped(d.src);
  const rest = w.slice(3);
  const dropped: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "level" && rest[i + 1] === "admin") i++;
    else if (["mode", "level", "user", "group", "uid", "gid", "expose-fd"].includes(rest[i])) {
      dropped.push(`${rest[i]} ${rest[++i] ?? ""}`);
    } else dropped.push(rest[i]);
  }
  if (dropped.length > 0) {
    ctx.ledger.warn(d.src, "stats socket", `halb has no socket parameter ${dropped.join(", ")}`);
  }
}

function isStatsOnly(p: ProxyState): boolean {
  return p.stats !== null && p.section.kind !== "backend" && p.servers.length === 0 &&
    !p.settings.has("default_backend") && p.useBackend.length === 0;
}

const STATS_PROXY_KEYS = new Set([
  "mode",
  "log",
  "maxconn",
  "httplog",
  "tcplog",
  "dontlognull",
  "http_server_close",
  "httpclose",
]);

function statsProxy(ctx: HaCtx, p: ProxyState, admin: AdminParts): void {
  const header = p.section.header;
  if (admin.stats !== null && admin.stats.p !== p) {
    ctx.ledger.warn(
      header.src,
      p.section.kind,
      "halb has one stats page ([admin]); the first is used",
    );
    ctx.ledger.warnedBlock(header.src.file, header.src.line, p.section.lastLine);
    return;
  }
  const why = "the stats-only proxy became [admin], which has no such setting";
  for (const [key, s] of p.settings) {
    if (!STATS_PROXY_KEYS.has(key) && !key.startsWith("timeout.")) {
      ctx.ledger.warn(s.src, key, why);
    }
  }
  for (const x of [...p.httpRequest, ...p.httpResponse, ...p.redirect]) {
    if (x.src !== null) ctx.ledger.warn(x.src, "rule", why);
  }
  let bind: { value: string; directive: Directive } | null = null;
  p.binds.forEach((b, i) => {
    if (b.src === null) return;
    if (i > 0 || typeof b.value !== "string") {
      ctx.ledger.warn(b.src, "bind", "[admin] listens on one plain address; the first is used");
      return;
    }
    const directive = p.section.directives.find((d) => d.src.line === b.src!.line)!;
    bind = { value: b.value, directive };
  });
  admin.stats = { p, bind };
}

function isLoopback(addr: string): boolean {
  return addr.startsWith("127.") || addr.startsWith("[::1]") || addr.startsWith("unix@") ||
    addr.startsWith("/");
}

function adminSection(ctx: HaCtx, admin: AdminParts): TomlSection | null {
  if (admin.stats === null && admin.socket === null) return null;
  const s: TomlSection = {
    path: ["admin"],
    array: false,
    entries: [],
    src: null,
    comments: [],
    trailing: null,
  };
  const stats = admin.stats;
  const bind = stats?.bind ?? null;
  const auth = stats?.p.stats?.auth ?? [];
  if (bind !== null) {
    const d = bind.directive;
    let value = bind.value;
    if (auth.length === 0 && !isLoopback(value)) {
      const port = value.slice(value.lastIndexOf(":") + 1);
      ctx.ledger.warn(
        d.src,
        "bind",
        `halb requires stats auth on a non-loopback address; [admin] listens on 127.0.0.1:${port}`,
      );
      value = `127.0.0.1:${port}`;
    }
    s.src = stats!.p.section.header.src;
    s.comments = [
      ...stats!.p.section.header.comments,
      `${stats!.p.section.kind} ${stats!.p.section.name}`,
    ];
    s.entries.push(
      entry("bind", value, d.src, { comments: [...d.comments], trailing: d.trailing }),
    );
  } else {
    const why = stats === null
      ? "haproxy.cfg has a stats socket but no stats page; [admin] needs an address"
      : "haproxy.cfg serves stats on a traffic frontend; halb serves them here";
    s.entries.push(entry("bind", "127.0.0.1:8404", null, { comments: [why] }));
  }
  const st = stats?.p.stats;
  if (st !== undefined && st !== null) {
    for (const [k, v] of Object.entries(st.fields)) s.entries.push(entry(k, v, st.src));
    if (auth.length > 0) s.entries.push(entry("auth", auth, st.src));
  }
  if (admin.socket !== null) {
    const d = admin.socket.directive;
    s.entries.push(
      entry("socket", admin.socket.value, d.src, {
        comments: [...d.comments],
        trailing: d.trailing,
      }),
    );
  }
  return s;
}
