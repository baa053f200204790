/**
 * Builds {@linkcode Config} objects for engine tests directly (no TOML): plain objects with the
 * defaults the config compiler would produce, overridable field by field.
 *
 * @module
 */
import { DEFAULT_HEALTH_CHECK } from "../../src/config/lb.ts";
import type {
  BackendConfig,
  BindConfig,
  Config,
  FrontendConfig,
  GlobalConfig,
  ServerConfig,
} from "../../src/config/types.ts";

/** A plain (no TLS) bind on `host:port`; port 0 lets the OS choose. */
export function testBind(host = "127.0.0.1", port = 0): BindConfig {
  const family = host.includes(":") ? 6 : 4;
  const text = family === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  return { address: { kind: "inet", host, port, family, text }, tls: null };
}

/** A server entry pointing at `127.0.0.1:port` (weight 1, no limits). */
export function testServer(
  name: string,
  port: number,
  overrides: Partial<ServerConfig> = {},
): ServerConfig {
  return {
    name,
    id: 1,
    address: { host: "127.0.0.1", port, text: `127.0.0.1:${port}` },
    weight: 1,
    maxconn: 0,
    maxqueue: 0,
    check: false,
    inter: 2000,
    fastinter: 2000,
    downinter: 2000,
    rise: 2,
    fall: 3,
    cookie: null,
    backup: false,
    disabled: false,
    slowstart: 0,
    ssl: false,
    verify: "none",
    sni: null,
    checkSsl: false,
    ...overrides,
  };
}

/** A tcp backend; servers get ids 1..n in order unless they set one. */
export function testBackend(
  name: string,
  servers: readonly ServerConfig[],
  overrides: Partial<BackendConfig> = {},
): BackendConfig {
  return {
    name,
    mode: "tcp",
    balance: { algorithm: "roundrobin" },
    hashType: { method: "map-based", fn: "sdbm", avalanche: false },
    cookie: null,
    healthCheck: DEFAULT_HEALTH_CHECK,
    servers: servers.map((s, i) => (s.id === 1 && i > 0 ? { ...s, id: i + 1 } : s)),
    allbackups: false,
    redispatch: false,
    retries: 3,
    timeout: { connect: 1000, server: null, queue: null, check: null },
    httpRequest: [],
    httpResponse: [],
    forwardfor: null,
    httpServerClose: false,
    httpclose: false,
    log: true,
    errorfiles: {},
    ...overrides,
  };
}

/** A tcp frontend on one OS-chosen loopback port with tcplog on. */
export function testFrontend(
  name: string,
  backend: string,
  overrides: Partial<FrontendConfig> = {},
): FrontendConfig {
  return {
    name,
    mode: "tcp",
    maxconn: 0,
    binds: [testBind()],
    redirect: [],
    httpRequest: [],
    httpResponse: [],
    useBackend: [],
    defaultBackend: backend,
    log: true,
    logStyle: "tcplog",
    dontlognull: false,
    forwardfor: null,
    httpServerClose: false,
    httpclose: false,
    timeout: { client: null, httpRequest: null, httpKeepAlive: null },
    errorfiles: {},
    ...overrides,
  };
}

/** A whole config from frontends and backends. */
export function testConfig(parts: {
  frontends: readonly FrontendConfig[];
  backends: readonly BackendConfig[];
  global?: Partial<GlobalConfig>;
}): Config {
  return {
    file: "test.toml",
    global: {
      maxconn: 4000,
      user: null,
      group: null,
      pidfile: null,
      log: { kind: "stdout" },
      logFacility: "local0",
      logLevel: "info",
      logFormat: "text",
      gracePeriod: 10000,
      nbthread: 1,
      notify: null,
      ...parts.global,
    },
    admin: null,
    vrrp: null,
    frontends: parts.frontends,
    backends: parts.backends,
  };
}
