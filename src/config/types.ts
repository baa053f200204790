/**
 * The typed, validated and deeply frozen configuration that the config compiler produces from a
 * halb.toml. Everything here is plain data: no running object, no I/O handle. Durations are in
 * milliseconds; `null` means "not set" (for timeouts: infinite, as HAProxy). Names keep the TOML
 * keys' meaning, in camelCase.
 *
 * @module
 */

/** Proxy mode of a frontend or backend. */
export type Mode = "tcp" | "http";

/** A duration in milliseconds. */
export type Millis = number;

/** Where halb logs. */
export type LogTarget =
  | { readonly kind: "stdout" }
  | { readonly kind: "stderr" }
  | { readonly kind: "syslog-unix"; readonly path: string }
  | { readonly kind: "syslog-udp"; readonly host: string; readonly port: number };

/** Syslog severities, most severe first (their index is the syslog level). */
export const LOG_LEVELS = [
  "emerg",
  "alert",
  "crit",
  "err",
  "warning",
  "notice",
  "info",
  "debug",
] as const;
/** One of {@linkcode LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

/** An address to listen on. `host` is a literal IP ("0.0.0.0" and "::" for any). */
export type ListenAddress =
  | {
    readonly kind: "inet";
    readonly host: string;
    readonly port: number;
    readonly family: 4 | 6;
    /** The text as written, for messages and logs. */
    readonly text: string;
  }
  | { readonly kind: "unix"; readonly path: string; readonly text: string };

/** An address to connect to: a literal IP or a hostname (resolved when connecting). */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
  /** The text as written. */
  readonly text: string;
}

/** `[global.notify]`: keepalived's notification_email / smtp_* settings. */
export interface NotifyConfig {
  readonly emailTo: readonly string[];
  readonly emailFrom: string;
  readonly smtpServer: ServerAddress;
  readonly smtpConnectTimeout: Millis;
}

/** `[global]`. */
export interface GlobalConfig {
  /** Process-wide concurrent connection limit. */
  readonly maxconn: number;
  /**
   * Proxy threads (extension, HAProxy's `nbthread`): worker isolates that each run the proxy on
   * the same ports (SO_REUSEPORT); 1 = the main isolate only.
   */
  readonly nbthread: number;
  readonly user: string | null;
  readonly group: string | null;
  readonly pidfile: string | null;
  readonly log: LogTarget;
  readonly logFacility: string;
  readonly logLevel: LogLevel;
  readonly logFormat: "text" | "json";
  /** How long in-flight connections may take to finish on stop/reload (extension; default 10s). */
  readonly gracePeriod: Millis;
  readonly notify: NotifyConfig | null;
}

/** `[admin]`: the Hono stats/admin endpoint. */
export interface AdminConfig {
  readonly bind: ListenAddress;
  readonly statsUri: string;
  readonly realm: string;
  readonly auth: readonly { readonly user: string; readonly password: string }[];
  readonly refresh: Millis | null;
  readonly allowChanges: boolean;
  readonly socket: string | null;
}

// ---------------------------------------------------------------------------------------------
// Conditions (ACL language), parsed at compile time.

/** ACL match methods (`-m`). */
export type MatchMethod =
  | "str"
  | "beg"
  | "end"
  | "sub"
  | "reg"
  | "found"
  | "len"
  | "int"
  | "ip"
  | "bool"
  | "dir"
  | "dom";

/** One ACL criterion: `fetch[(arg)] [flags] [values...]`, e.g. `hdr_beg(host) -i www.`. */
export interface AclExpr {
  /** The fetch name as written without its suffix form, e.g. "path_beg", "hdr_beg", "src". */
  readonly fetch: string;
  /** The argument inside parentheses, e.g. "host" for `hdr_beg(host)`; null when none. */
  readonly arg: string | null;
  /** The match method: explicit `-m`, or the one implied by the fetch suffix (`_beg` → "beg"). */
  readonly match: MatchMethod;
  readonly ignoreCase: boolean;
  /** The patterns; several are ORed. */
  readonly values: readonly string[];
  /** The criterion as written, for messages. */
  readonly text: string;
}

/** One term of a condition: a (possibly negated) named or anonymous ACL. */
export interface CondTerm {
  readonly negate: boolean;
  /** The ACL name for named ACLs, null for anonymous `{ ... }` ones. */
  readonly name: string | null;
  /** The criteria behind the ACL; they are ORed (a re-declared name appends). */
  readonly exprs: readonly AclExpr[];
}

/** A condition in disjunctive normal form: OR of ANDs of terms; `unless` negates the whole. */
export interface Condition {
  readonly or: readonly (readonly CondTerm[])[];
  readonly unless: boolean;
  /** The condition as written. */
  readonly text: string;
}

/** A value with HAProxy sample expressions: literal text and `%[fetch(arg)]` parts. */
export type LogFormat = readonly (string | {
  readonly fetch: string;
  readonly arg: string | null;
})[];

// ---------------------------------------------------------------------------------------------
// HTTP rules.

/** Redirect (the top-level `redirect` list and the `redirect` action). */
export interface RedirectRule {
  readonly type: "scheme" | "location" | "prefix";
  readonly value: LogFormat;
  /** 301 | 302 | 303 | 307 | 308; default 302. */
  readonly code: number;
  readonly dropQuery: boolean;
  readonly appendSlash: boolean;
  readonly cond: Condition | null;
}

/**
 * How del-header's `name` matches header names (HAProxy's `-m`): `str`, `beg`, `end`, `sub`
 * ignore case; `reg` is a regular expression tested on the lower-cased name.
 */
export type NameMatch = "str" | "beg" | "end" | "sub" | "reg";

/** `http_request` actions. */
export type HttpRequestRule =
  & { readonly cond: Condition | null }
  & (
    | {
      readonly action: "set-header" | "add-header";
      readonly name: string;
      readonly value: LogFormat;
    }
    | { readonly action: "del-header"; readonly name: string; readonly nameMatch: NameMatch }
    | {
      readonly action: "replace-header" | "replace-value";
      readonly name: string;
      readonly match: string;
      readonly replace: LogFormat;
    }
    | { readonly action: "set-path" | "set-query"; readonly value: LogFormat }
    | { readonly action: "set-var"; readonly variable: string; readonly expr: LogFormat }
    | { readonly action: "deny"; readonly status: number }
    | {
      readonly action: "return";
      readonly status: number;
      readonly contentType: string | null;
      readonly body: LogFormat | null;
    }
    | { readonly action: "redirect"; readonly redirect: RedirectRule }
  );

/** `http_response` actions. */
export type HttpResponseRule =
  & { readonly cond: Condition | null }
  & (
    | {
      readonly action: "set-header" | "add-header";
      readonly name: string;
      readonly value: LogFormat;
    }
    | { readonly action: "del-header"; readonly name: string; readonly nameMatch: NameMatch }
    | {
      readonly action: "replace-header";
      readonly name: string;
      readonly match: string;
      readonly replace: LogFormat;
    }
    | { readonly action: "set-var"; readonly variable: string; readonly expr: LogFormat }
    | { readonly action: "deny"; readonly status: number }
    | { readonly action: "set-status"; readonly status: number; readonly reason: string | null }
  );

/** `option forwardfor`. */
export interface ForwardFor {
  /** Networks (CIDR text) for which no header is added. */
  readonly except: string | null;
  readonly header: string;
  readonly ifNone: boolean;
}

/** Traffic log style: HAProxy's `option httplog` / `option tcplog` / neither (connect line). */
export type LogStyle = "httplog" | "tcplog" | "connect";

// ---------------------------------------------------------------------------------------------
// Frontends and backends.

/** A TLS certificate loaded from a PEM bundle (cert + key + chain). */
export interface TlsCertificate {
  /** The file it came from (resolved path). */
  readonly file: string;
  /** The certificate chain PEM (leaf first). */
  readonly certPem: string;
  readonly keyPem: string;
  /** DNS names and IPs the leaf covers (SAN, else CN), for SNI selection. */
  readonly names: readonly string[];
}

/** One `bind` entry. */
export interface BindConfig {
  readonly address: ListenAddress;
  /** TLS certificates in the order given; the first is the default. Null for plain TCP. */
  readonly tls: {
    readonly certificates: readonly TlsCertificate[];
    readonly alpn: readonly string[];
  } | null;
}

/** `[frontend.NAME]` after inheritance from `[defaults]`. */
export interface FrontendConfig {
  readonly name: string;
  readonly mode: Mode;
  /** 0 means the global maxconn applies. */
  readonly maxconn: number;
  readonly binds: readonly BindConfig[];
  readonly redirect: readonly RedirectRule[];
  readonly httpRequest: readonly HttpRequestRule[];
  readonly httpResponse: readonly HttpResponseRule[];
  readonly useBackend: readonly { readonly backend: string; readonly cond: Condition | null }[];
  readonly defaultBackend: string | null;
  /** Traffic logging on (`log global`). */
  readonly log: boolean;
  readonly logStyle: LogStyle;
  readonly dontlognull: boolean;
  readonly forwardfor: ForwardFor | null;
  readonly httpServerClose: boolean;
  readonly httpclose: boolean;
  readonly timeout: {
    readonly client: Millis | null;
    readonly httpRequest: Millis | null;
    readonly httpKeepAlive: Millis | null;
  };
  /** Status code → the error file's full contents (an HTTP response). */
  readonly errorfiles: Readonly<Record<number, string>>;
}

/** Load-balancing algorithm with its parameters. */
export type Balance =
  | { readonly algorithm: "roundrobin" | "static-rr" | "leastconn" | "first" | "source" }
  | { readonly algorithm: "random"; readonly draws: number }
  | {
    readonly algorithm: "uri";
    readonly whole: boolean;
    readonly len: number;
    readonly depth: number;
    readonly pathOnly: boolean;
  }
  | { readonly algorithm: "url_param"; readonly name: string; readonly checkPost: boolean }
  | { readonly algorithm: "hdr"; readonly name: string; readonly useDomainOnly: boolean };

/** `hash_type`. */
export interface HashType {
  readonly method: "map-based" | "consistent";
  readonly fn: "sdbm" | "djb2" | "wt6" | "crc32";
  readonly avalanche: boolean;
}

/** `cookie = { ... }` persistence settings. */
export interface CookieConfig {
  readonly name: string;
  readonly mode: "insert" | "rewrite" | "prefix";
  readonly indirect: boolean;
  readonly nocache: boolean;
  readonly postonly: boolean;
  readonly preserve: boolean;
  readonly httponly: boolean;
  readonly secure: boolean;
  readonly domain: readonly string[];
  readonly attr: readonly string[];
  /** `maxidle`, whole seconds; 0: off. */
  readonly maxidle: Millis;
  /** `maxlife`, whole seconds; 0: off. */
  readonly maxlife: Millis;
}

/** A status matcher like "200-399" or "200,201,300-310" (optionally negated with "!"). */
export interface StatusMatcher {
  readonly ranges: readonly (readonly [number, number])[];
  readonly negate: boolean;
  readonly text: string;
}

/** `health_check = { ... }`. */
export interface HealthCheckConfig {
  readonly type: "tcp" | "http";
  readonly method: string;
  readonly uri: string;
  readonly version: string;
  readonly headers: readonly (readonly [string, string])[];
  /** Null means HAProxy's implicit "2xx or 3xx". */
  readonly expectStatus: StatusMatcher | null;
  readonly expectString: string | null;
  readonly disableOn404: boolean;
}

/** One `server` entry. */
export interface ServerConfig {
  readonly name: string;
  /** Numeric id: as written, else its position (1-based), as HAProxy assigns. */
  readonly id: number;
  readonly address: ServerAddress;
  /** 0..256; default 1. */
  readonly weight: number;
  /** 0 = unlimited. */
  readonly maxconn: number;
  /** 0 = unlimited. */
  readonly maxqueue: number;
  readonly check: boolean;
  readonly inter: Millis;
  readonly fastinter: Millis;
  readonly downinter: Millis;
  readonly rise: number;
  readonly fall: number;
  readonly cookie: string | null;
  readonly backup: boolean;
  readonly disabled: boolean;
  readonly slowstart: Millis;
  readonly ssl: boolean;
  readonly verify: "none" | "required";
  readonly sni: string | null;
  readonly checkSsl: boolean;
}

/** `[backend.NAME]` after inheritance from `[defaults]`. */
export interface BackendConfig {
  readonly name: string;
  readonly mode: Mode;
  readonly balance: Balance;
  readonly hashType: HashType;
  readonly cookie: CookieConfig | null;
  readonly healthCheck: HealthCheckConfig;
  readonly servers: readonly ServerConfig[];
  readonly allbackups: boolean;
  readonly redispatch: boolean;
  readonly retries: number;
  readonly timeout: {
    readonly connect: Millis | null;
    readonly server: Millis | null;
    /** Defaults to `connect` as in HAProxy. */
    readonly queue: Millis | null;
    readonly check: Millis | null;
  };
  readonly httpRequest: readonly HttpRequestRule[];
  readonly httpResponse: readonly HttpResponseRule[];
  readonly forwardfor: ForwardFor | null;
  readonly httpServerClose: boolean;
  readonly httpclose: boolean;
  readonly log: boolean;
  readonly errorfiles: Readonly<Record<number, string>>;
}

// ---------------------------------------------------------------------------------------------
// VRRP.

/** `[vrrp.script.NAME]`. */
export interface VrrpScriptConfig {
  readonly name: string;
  /** The command as written. */
  readonly script: string;
  /** argv split like a shell would (no shell runs unless `shell`). */
  readonly argv: readonly string[];
  readonly shell: boolean;
  readonly interval: Millis;
  readonly timeout: Millis;
  /** -253..253; 0 = FAULT while failing. */
  readonly weight: number;
  readonly fall: number;
  readonly rise: number;
  readonly user: string | null;
}

/** One virtual IP of an instance. */
export interface VirtualIp {
  readonly address: string;
  readonly prefix: number;
  readonly family: 4 | 6;
  /** Interface; null means the instance's interface. */
  readonly dev: string | null;
  readonly label: string | null;
  /** The entry as written. */
  readonly text: string;
}

/** A tracked script or interface with its effective weight. */
export interface TrackRef {
  readonly name: string;
  readonly weight: number;
}

/** `[[vrrp.instance]]`. */
export interface VrrpInstanceConfig {
  readonly name: string;
  readonly state: "MASTER" | "BACKUP";
  readonly interface: string;
  readonly virtualRouterId: number;
  readonly priority: number;
  readonly advertInt: Millis;
  readonly version: 2 | 3;
  /** The family of the VIPs (all VIPs of one instance share it). */
  readonly family: 4 | 6;
  readonly authentication: { readonly type: "PASS" | "AH"; readonly password: string } | null;
  readonly virtualIpaddress: readonly VirtualIp[];
  readonly trackScript: readonly TrackRef[];
  readonly trackInterface: readonly TrackRef[];
  readonly trackProxy: { readonly frontends: readonly string[]; readonly weight: number } | null;
  readonly preempt: boolean;
  readonly preemptDelay: Millis;
  readonly unicastSrcIp: string | null;
  readonly unicastPeer: readonly string[];
  readonly v3Ipv4Checksum: "pseudo" | "message";
  /** keepalived's default: a master hearing a lower priority sends an advert at once. */
  readonly lowerPrioNoAdvert: boolean;
  readonly garpMasterDelay: Millis;
  readonly garpMasterRepeat: number;
  readonly notifyMaster: string | null;
  readonly notifyBackup: string | null;
  readonly notifyFault: string | null;
  readonly notifyStop: string | null;
  readonly notify: string | null;
  readonly smtpAlert: boolean;
}

/** `[[vrrp.sync_group]]`. */
export interface VrrpSyncGroupConfig {
  readonly name: string;
  readonly instances: readonly string[];
}

/** `[vrrp]`. */
export interface VrrpConfig {
  readonly routerId: string;
  readonly mcastGroup4: string;
  readonly mcastGroup6: string;
  readonly scriptUser: string | null;
  readonly scripts: readonly VrrpScriptConfig[];
  readonly instances: readonly VrrpInstanceConfig[];
  readonly syncGroups: readonly VrrpSyncGroupConfig[];
}

// ---------------------------------------------------------------------------------------------

/** The whole compiled configuration. */
export interface Config {
  /** The file it was read from (as given), for messages. */
  readonly file: string;
  readonly global: GlobalConfig;
  readonly admin: AdminConfig | null;
  readonly vrrp: VrrpConfig | null;
  /** In the order written. */
  readonly frontends: readonly FrontendConfig[];
  /** In the order written. */
  readonly backends: readonly BackendConfig[];
}

/** A problem found while compiling a config, located in the file. */
export interface Diagnostic {
  readonly severity: "error" | "warning";
  readonly file: string;
  /** 1-based; 0 when the problem has no place in the file (e.g. it cannot be read). */
  readonly line: number;
  readonly column: number;
  /** The key path, e.g. `vrrp.instance[0].advert_int` (TOML names, as the user wrote them). */
  readonly path: string;
  readonly message: string;
}
