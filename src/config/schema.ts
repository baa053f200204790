/**
 * The schema of halb.toml as data: for every section, the keys allowed there with their type,
 * default, range and documentation. The validator reads types, defaults and ranges from this
 * table, so it is also the source for generated docs and a JSON Schema.
 *
 * Section names: `global`, `vrrp.instance[]` (an array of tables), `frontend.*` (a table of
 * named tables), and helper sections such as `server` or `bind` for inline tables.
 *
 * @module
 */

import { LOG_LEVELS } from "./types.ts";

/** How a key's value is checked by the generic reader. */
export type KeyKind =
  | "string"
  | "integer"
  | "boolean"
  | "duration"
  | "strings"
  | "table"
  | "tables"
  | "any";

/** One allowed key. */
export interface KeySpec {
  readonly kind: KeyKind;
  /** Human-readable type for docs when `kind` is "any" (e.g. "string | table"). */
  readonly type?: string;
  readonly doc: string;
  /** The default as written in TOML (durations as strings); absent means none/null. */
  readonly default?: string | number | boolean;
  /** Documented default when it is not a constant (e.g. "= interval"). */
  readonly defaultDoc?: string;
  readonly required?: boolean;
  /** Inclusive bounds: integers, or milliseconds for durations. */
  readonly min?: number;
  readonly max?: number;
  /** Allowed string values. */
  readonly values?: readonly string[];
  /** The schema section describing the table(s) at this key; none means free-form keys. */
  readonly section?: string;
  /** Unit suggested for bare numbers ("s" keepalived-style, "ms" HAProxy-style). */
  readonly unit?: "s" | "ms";
  /** Accepted but without effect: the warning printed when it is set. */
  readonly inert?: string;
}

/** The keys of one section. */
export type SectionSpec = Readonly<Record<string, KeySpec>>;

const FACILITIES = [
  "kern",
  "user",
  "mail",
  "daemon",
  "auth",
  "syslog",
  "lpr",
  "news",
  "uucp",
  "cron",
  "auth2",
  "ftp",
  "ntp",
  "audit",
  "alert",
  "cron2",
  "local0",
  "local1",
  "local2",
  "local3",
  "local4",
  "local5",
  "local6",
  "local7",
] as const;

const TRACK_WEIGHT = { min: -253, max: 253 } as const;

function msTimeout(doc: string): KeySpec {
  return { kind: "duration", unit: "ms", doc };
}

const T_CONNECT = msTimeout("max time to connect to a server (also the default of queue)");
const T_CLIENT = msTimeout("client inactivity timeout");
const T_SERVER = msTimeout("server inactivity timeout (504 on expiry)");
const T_HTTP_REQUEST = msTimeout("max time to receive complete request headers (408)");
const T_KEEP_ALIVE = msTimeout(
  "idle time between requests; unset: http_request, then client applies (at run time)",
);
const T_QUEUE = { ...msTimeout("max wait for a server slot (503)"), defaultDoc: "= connect" };
const T_CHECK = msTimeout("read timeout of a health check once connected; unset: inter bounds it");

const COND = {
  if: { kind: "string", doc: "condition (HAProxy ACL language) under which the rule applies" },
  unless: { kind: "string", doc: "condition under which the rule does not apply" },
} as const satisfies SectionSpec;

const PROXY_COMMON = {
  mode: { kind: "string", values: ["tcp", "http"], default: "tcp", doc: "proxy mode" },
  log: { kind: "boolean", default: false, doc: "log traffic (HAProxy `log global`)" },
  forwardfor: {
    kind: "any",
    type: "boolean | table",
    section: "forwardfor",
    doc: "option forwardfor: add X-Forwarded-For",
  },
  http_server_close: { kind: "boolean", default: false, doc: "option http-server-close" },
  httpclose: { kind: "boolean", default: false, doc: "option httpclose" },
  errorfile: {
    kind: "table",
    type: "table of status = path",
    doc: "status code → file holding the full HTTP response to send",
  },
} as const satisfies SectionSpec;

const FRONTEND_LOGGING = {
  httplog: { kind: "boolean", default: false, doc: "option httplog (tcplog in tcp mode)" },
  tcplog: { kind: "boolean", default: false, doc: "option tcplog" },
  dontlognull: { kind: "boolean", default: false, doc: "option dontlognull" },
  maxconn: { kind: "integer", min: 0, default: 0, doc: "frontend connection limit; 0 = global" },
} as const satisfies SectionSpec;

const BACKEND_LB = {
  balance: {
    kind: "string",
    default: "roundrobin",
    doc: "roundrobin | static-rr | leastconn | first | source | random[(draws)] | " +
      "uri [whole] [len N] [depth N] [path-only] | url_param(name) [check_post] | " +
      "hdr(name) [use_domain_only]",
  },
  hash_type: {
    kind: "string",
    default: "map-based",
    doc: "map-based | consistent, optionally followed by sdbm | djb2 | wt6 | crc32 and avalanche",
  },
  cookie: { kind: "table", section: "cookie", doc: "cookie persistence" },
  health_check: { kind: "table", section: "health_check", doc: "health check (option httpchk)" },
  allbackups: { kind: "boolean", default: false, doc: "use all backup servers at once" },
  redispatch: { kind: "boolean", default: false, doc: "option redispatch" },
  retries: { kind: "integer", min: 0, default: 3, doc: "connection retries" },
} as const satisfies SectionSpec;

const HTTP_RULES = {
  http_request: { kind: "tables", section: "http_request", doc: "http-request rules" },
  http_response: { kind: "tables", section: "http_response", doc: "http-response rules" },
  acl: {
    kind: "table",
    type: "table of name = string | string[]",
    doc: "named ACLs (a list appends criteria, ORed)",
  },
} as const satisfies SectionSpec;

const RULE_KEYS = {
  action: { kind: "string", required: true, doc: "the action" },
  name: { kind: "string", doc: "header name" },
  name_match: {
    kind: "string",
    values: ["str", "beg", "end", "sub", "reg"],
    default: "str",
    doc: "del-header: how `name` matches header names (HAProxy's -m): the whole name, its " +
      "beginning, end, a part (all ignoring case), or a regular expression tested on the " +
      "lower-cased name",
  },
  value: { kind: "string", doc: "value (with %[fetch] expressions)" },
  match: { kind: "string", doc: "regular expression (replace-header/replace-value)" },
  replace: { kind: "string", doc: "replacement (with \\1 and %[fetch])" },
  var: { kind: "string", doc: "variable name for set-var, e.g. txn.path" },
  expr: { kind: "string", doc: "sample expression for set-var, e.g. path or req.hdr(host)" },
  status: { kind: "integer", min: 100, max: 999, doc: "status code" },
  ...COND,
} as const satisfies SectionSpec;

const REDIRECT_KEYS = {
  scheme: { kind: "string", doc: "redirect scheme: new scheme, same host and URI" },
  location: { kind: "string", doc: "redirect location: the exact Location" },
  prefix: { kind: "string", doc: "redirect prefix: prefix + original URI" },
  code: { kind: "integer", default: 302, doc: "301 | 302 | 303 | 307 | 308" },
  drop_query: { kind: "boolean", default: false, doc: "drop the query string" },
  append_slash: { kind: "boolean", default: false, doc: "append a slash (with drop_query)" },
} as const satisfies SectionSpec;

/** Every section of halb.toml and its keys. */
export const SCHEMA: Readonly<Record<string, SectionSpec>> = {
  "": {
    global: { kind: "table", section: "global", doc: "process settings" },
    admin: { kind: "table", section: "admin", doc: "stats/admin HTTP endpoint" },
    vrrp: { kind: "table", section: "vrrp", doc: "VRRP (keepalived) settings" },
    defaults: { kind: "table", section: "defaults", doc: "HAProxy defaults" },
    frontend: { kind: "table", section: "frontend.*", doc: "frontends by name" },
    backend: { kind: "table", section: "backend.*", doc: "backends by name" },
  },
  global: {
    maxconn: { kind: "integer", min: 1, default: 4096, doc: "process-wide connection limit" },
    nbthread: {
      kind: "integer",
      min: 1,
      max: 64,
      default: 1,
      doc: "proxy threads sharing the listening ports (HAProxy's nbthread; extension, see docs)",
    },
    user: {
      kind: "string",
      doc: "user to run as once the first configuration is bound (started as root), keeping " +
        "CAP_NET_ADMIN, CAP_NET_RAW and CAP_NET_BIND_SERVICE; started as another user, it must " +
        "be that user (else exit 1)",
    },
    group: {
      kind: "string",
      doc: "group to run as, switched with `user` (default: the user's primary group); " +
        "supplementary groups are dropped",
    },
    pidfile: { kind: "string", doc: "file to write the pid to" },
    log: {
      kind: "string",
      default: "stdout",
      doc: '"stdout" | "stderr" | "syslog:/dev/log" | "syslog:udp://host:port"',
    },
    log_facility: { kind: "string", values: FACILITIES, default: "daemon", doc: "syslog facility" },
    log_level: { kind: "string", values: LOG_LEVELS, default: "info", doc: "minimum severity" },
    log_format: { kind: "string", values: ["text", "json"], default: "text", doc: "log format" },
    grace: {
      kind: "duration",
      unit: "s",
      default: "10s",
      doc: "time in-flight connections get to finish on stop/reload",
    },
    tls_dh_param: {
      kind: "integer",
      min: 1024,
      doc: "tune.ssl.default-dh-param",
      inert: "tls_dh_param has no effect: the TLS stack (rustls) has no DHE cipher suites",
    },
    daemon: {
      kind: "boolean",
      doc: "accepted for compatibility",
      inert: "daemon has no effect: halb runs in the foreground under a service manager",
    },
    chroot: {
      kind: "string",
      doc: "accepted for compatibility",
      inert: "chroot has no effect: halb runs in the foreground under a service manager",
    },
    notify: { kind: "table", section: "global.notify", doc: "email notifications" },
  },
  "global.notify": {
    email_to: { kind: "strings", required: true, doc: "recipients" },
    email_from: { kind: "string", default: "halb@localhost", doc: "sender address" },
    smtp_server: { kind: "string", required: true, doc: "SMTP server host[:port] (port 25)" },
    smtp_connect_timeout: { kind: "duration", unit: "s", default: "30s", doc: "SMTP timeout" },
  },
  admin: {
    bind: { kind: "string", required: true, doc: "address of the stats/admin endpoint" },
    stats_uri: { kind: "string", default: "/stats", doc: "stats page path" },
    realm: { kind: "string", default: "halb", doc: "basic auth realm" },
    auth: {
      kind: "strings",
      doc: '"user:password" entries; required unless bind is a loopback address',
    },
    refresh: { kind: "duration", unit: "s", doc: "stats page auto-refresh" },
    allow_changes: { kind: "boolean", default: false, doc: "stats admin: change server states" },
    socket: { kind: "string", doc: "runtime API unix socket path" },
  },
  vrrp: {
    router_id: { kind: "string", defaultDoc: "the host name", doc: "this node's name" },
    mcast_group4: { kind: "string", default: "224.0.0.18", doc: "IPv4 multicast group" },
    mcast_group6: { kind: "string", default: "ff02::12", doc: "IPv6 multicast group" },
    version: { kind: "integer", min: 2, max: 3, default: 2, doc: "default VRRP version" },
    garp_master_delay: {
      kind: "duration",
      unit: "s",
      default: "5s",
      doc: "delay of the second gratuitous ARP burst (0 = none)",
    },
    garp_master_repeat: { kind: "integer", min: 1, max: 255, default: 5, doc: "GARPs per burst" },
    lower_prio_no_advert: {
      kind: "boolean",
      default: false,
      doc: "do not answer a lower-priority advert with an immediate advert (RFC behaviour)",
    },
    script_user: { kind: "string", doc: "user scripts run as" },
    script: { kind: "table", section: "vrrp.script.*", doc: "check scripts by name" },
    instance: { kind: "tables", section: "vrrp.instance[]", doc: "VRRP instances" },
    sync_group: { kind: "tables", section: "vrrp.sync_group[]", doc: "sync groups" },
  },
  "vrrp.script.*": {
    script: { kind: "string", required: true, doc: "command; argv split like a shell" },
    shell: { kind: "boolean", default: false, doc: "run through /bin/sh -c" },
    interval: { kind: "duration", unit: "s", default: "1s", min: 1, doc: "run interval" },
    timeout: { kind: "duration", unit: "s", min: 1, defaultDoc: "= interval", doc: "timeout" },
    weight: { kind: "integer", ...TRACK_WEIGHT, default: 0, doc: "priority change; 0 = FAULT" },
    fall: { kind: "integer", min: 1, default: 1, doc: "failures before KO" },
    rise: { kind: "integer", min: 1, default: 1, doc: "successes before OK" },
    user: { kind: "string", defaultDoc: "vrrp.script_user", doc: "user to run as" },
  },
  "vrrp.instance[]": {
    name: { kind: "string", required: true, doc: "instance name" },
    state: {
      kind: "string",
      values: ["MASTER", "BACKUP"],
      default: "BACKUP",
      doc: "initial state wish",
    },
    interface: { kind: "string", required: true, doc: "VRRP interface" },
    virtual_router_id: { kind: "integer", min: 1, max: 255, required: true, doc: "VRID" },
    priority: { kind: "integer", min: 1, max: 255, default: 100, doc: "255 = address owner" },
    advert_int: {
      kind: "duration",
      unit: "s",
      default: "1s",
      doc: "advertisement interval (v2: whole seconds 1..255; v3: 10ms steps up to 40.95s)",
    },
    version: { kind: "integer", min: 2, max: 3, defaultDoc: "vrrp.version", doc: "VRRP version" },
    authentication: {
      kind: "table",
      section: "authentication",
      doc: "v2 authentication (PASS | AH)",
    },
    virtual_ipaddress: {
      kind: "strings",
      doc: 'VIPs: "IP[/prefix] [dev IF] [label L]", all of one family',
    },
    track_script: {
      kind: "any",
      type: "(string | table)[]",
      section: "track",
      doc: "scripts tracked",
    },
    track_interface: {
      kind: "any",
      type: "(string | table)[]",
      section: "track",
      doc: "interfaces tracked",
    },
    track_proxy: { kind: "table", section: "track_proxy", doc: "track this process's frontends" },
    preempt: { kind: "boolean", default: true, doc: "false = nopreempt (needs state BACKUP)" },
    preempt_delay: {
      kind: "duration",
      unit: "s",
      default: "0s",
      max: 1_000_000,
      doc: "delay before preempting",
    },
    unicast_src_ip: { kind: "string", doc: "unicast source address" },
    unicast_peer: { kind: "strings", doc: "unicast peers (unicast mode)" },
    v3_ipv4_checksum: {
      kind: "string",
      values: ["pseudo", "message"],
      default: "pseudo",
      doc: "VRRPv3 IPv4 checksum: pseudo-header (keepalived/FRR) or message only (RFC 9568)",
    },
    lower_prio_no_advert: {
      kind: "boolean",
      defaultDoc: "vrrp.lower_prio_no_advert",
      doc: "see [vrrp]",
    },
    garp_master_delay: {
      kind: "duration",
      unit: "s",
      defaultDoc: "vrrp.garp_master_delay",
      doc: "",
    },
    garp_master_repeat: {
      kind: "integer",
      min: 1,
      max: 255,
      defaultDoc: "vrrp.garp_master_repeat",
      doc: "",
    },
    notify_master: { kind: "string", doc: "run on becoming MASTER" },
    notify_backup: { kind: "string", doc: "run on becoming BACKUP" },
    notify_fault: { kind: "string", doc: "run on FAULT" },
    notify_stop: { kind: "string", doc: "run on stop" },
    notify: { kind: "string", doc: "run on every transition with INSTANCE name STATE priority" },
    smtp_alert: { kind: "boolean", default: false, doc: "email on transitions" },
  },
  authentication: {
    type: { kind: "string", values: ["PASS", "AH"], required: true, doc: "PASS | AH" },
    password: { kind: "string", required: true, doc: "at most 8 characters" },
  },
  track: {
    name: { kind: "string", required: true, doc: "script or interface name" },
    weight: { kind: "integer", ...TRACK_WEIGHT, doc: "overrides the script's weight" },
  },
  track_proxy: {
    frontends: { kind: "strings", required: true, doc: "frontends of this process" },
    weight: { kind: "integer", ...TRACK_WEIGHT, default: 0, doc: "0 = FAULT while any is down" },
  },
  "vrrp.sync_group[]": {
    name: { kind: "string", required: true, doc: "group name" },
    instances: { kind: "strings", required: true, doc: "member instances" },
  },
  defaults: {
    ...PROXY_COMMON,
    ...FRONTEND_LOGGING,
    ...BACKEND_LB,
    timeout: { kind: "table", section: "defaults.timeout", doc: "timeouts" },
    redirect: { kind: "tables", section: "redirect", doc: "redirect rules for frontends" },
  },
  "defaults.timeout": {
    connect: T_CONNECT,
    client: T_CLIENT,
    server: T_SERVER,
    http_request: T_HTTP_REQUEST,
    http_keep_alive: T_KEEP_ALIVE,
    queue: T_QUEUE,
    check: T_CHECK,
  },
  "frontend.*": {
    ...PROXY_COMMON,
    ...FRONTEND_LOGGING,
    ...HTTP_RULES,
    bind: { kind: "any", type: "(string | table)[]", section: "bind", doc: "listen addresses" },
    redirect: { kind: "tables", section: "redirect", doc: "redirect rules" },
    use_backend: { kind: "tables", section: "use_backend", doc: "backend switching rules" },
    default_backend: { kind: "string", doc: "backend when no use_backend matches" },
    timeout: { kind: "table", section: "frontend.*.timeout", doc: "timeouts" },
  },
  "frontend.*.timeout": {
    client: T_CLIENT,
    http_request: T_HTTP_REQUEST,
    http_keep_alive: T_KEEP_ALIVE,
  },
  bind: {
    address: { kind: "string", required: true, doc: "listen address" },
    crt: { kind: "any", type: "string | string[]", doc: "PEM bundles; enables TLS" },
    alpn: { kind: "strings", defaultDoc: '["http/1.1"]', doc: "ALPN protocols" },
  },
  use_backend: {
    backend: { kind: "string", required: true, doc: "target backend" },
    ...COND,
  },
  redirect: { ...REDIRECT_KEYS, ...COND },
  http_request: {
    ...RULE_KEYS,
    ...REDIRECT_KEYS,
    content_type: { kind: "string", doc: "return: Content-Type" },
    string: { kind: "string", doc: "return: body (with %[fetch] expressions)" },
  },
  http_response: { ...RULE_KEYS, reason: { kind: "string", doc: "set-status reason" } },
  forwardfor: {
    except: { kind: "string", doc: "network (CIDR) for which no header is added" },
    header: { kind: "string", default: "X-Forwarded-For", doc: "header name" },
    if_none: { kind: "boolean", default: false, doc: "only add when absent" },
  },
  "backend.*": {
    ...PROXY_COMMON,
    ...BACKEND_LB,
    ...HTTP_RULES,
    server: { kind: "tables", section: "server", doc: "servers" },
    timeout: { kind: "table", section: "backend.*.timeout", doc: "timeouts" },
  },
  "backend.*.timeout": { connect: T_CONNECT, server: T_SERVER, queue: T_QUEUE, check: T_CHECK },
  server: {
    name: { kind: "string", required: true, doc: "server name" },
    address: { kind: "string", required: true, doc: "host:port" },
    id: { kind: "integer", min: 1, defaultDoc: "position (1-based)", doc: "numeric id" },
    weight: { kind: "integer", min: 0, max: 256, default: 1, doc: "load-balancing weight" },
    maxconn: { kind: "integer", min: 0, default: 0, doc: "0 = unlimited" },
    maxqueue: { kind: "integer", min: 0, default: 0, doc: "0 = unlimited" },
    check: { kind: "boolean", default: false, doc: "enable health checks" },
    inter: { kind: "duration", unit: "ms", min: 1, default: "2s", doc: "check interval" },
    fastinter: { kind: "duration", unit: "ms", min: 1, defaultDoc: "= inter", doc: "" },
    downinter: { kind: "duration", unit: "ms", min: 1, defaultDoc: "= inter", doc: "" },
    rise: { kind: "integer", min: 1, default: 2, doc: "successes before UP" },
    fall: { kind: "integer", min: 1, default: 3, doc: "failures before DOWN" },
    cookie: { kind: "string", doc: "persistence cookie value" },
    backup: { kind: "boolean", default: false, doc: "backup server" },
    disabled: { kind: "boolean", default: false, doc: "start in MAINT" },
    slowstart: { kind: "duration", unit: "ms", default: "0s", doc: "ramp-up after recovery" },
    ssl: { kind: "boolean", default: false, doc: "TLS to the server" },
    verify: {
      kind: "string",
      values: ["none", "required"],
      default: "none",
      doc: "verify the server certificate (system CAs)",
    },
    sni: { kind: "string", doc: "SNI sent to the server" },
    check_ssl: { kind: "boolean", default: false, doc: "health checks over TLS" },
  },
  cookie: {
    name: { kind: "string", required: true, doc: "cookie name" },
    insert: { kind: "boolean", default: false, doc: "insert mode" },
    rewrite: { kind: "boolean", default: false, doc: "rewrite mode (the default mode)" },
    prefix: { kind: "boolean", default: false, doc: "prefix mode" },
    indirect: { kind: "boolean", default: false, doc: "" },
    nocache: { kind: "boolean", default: false, doc: "" },
    postonly: { kind: "boolean", default: false, doc: "" },
    preserve: { kind: "boolean", default: false, doc: "" },
    httponly: { kind: "boolean", default: false, doc: "" },
    secure: { kind: "boolean", default: false, doc: "" },
    domain: { kind: "any", type: "string | string[]", doc: "cookie domains" },
    attr: { kind: "strings", doc: "extra cookie attributes" },
    maxidle: {
      kind: "duration",
      unit: "s",
      doc: "insert mode: a cookie not seen for longer is ignored (its date is refreshed at most " +
        "every 4 s); whole seconds, at least 1s",
    },
    maxlife: {
      kind: "duration",
      unit: "s",
      doc: "insert mode: a cookie first set longer ago is ignored; whole seconds, at least 1s",
    },
  },
  health_check: {
    type: {
      kind: "string",
      values: ["tcp", "http"],
      defaultDoc: '"http" when any HTTP key is set, else "tcp"',
      doc: "check type",
    },
    method: { kind: "string", default: "OPTIONS", doc: "HTTP method" },
    uri: { kind: "string", default: "/", doc: "URI" },
    version: { kind: "string", default: "HTTP/1.0", doc: "HTTP version" },
    headers: { kind: "table", type: "table of name = value", doc: "request headers" },
    expect_status: { kind: "string", defaultDoc: "2xx or 3xx", doc: 'e.g. "200-399"' },
    expect_string: { kind: "string", doc: "body must contain this" },
    disable_on_404: { kind: "boolean", default: false, doc: "404 = drain" },
  },
};
