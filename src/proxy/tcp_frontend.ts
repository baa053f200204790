/**
 * The per-configuration handler of one `mode tcp` frontend: backend selection per connection
 * (`use_backend` conditions over the connection's fetches: src, src_port, dst, dst_port, ssl_fc,
 * ssl_fc_sni; first match, else `default_backend`), the accept-time "Connect from" log line and
 * a {@linkcode TcpSession} per connection, on top of the admission, bookkeeping and draining
 * every frontend shares ({@linkcode FrontendBase}).
 *
 * @module
 */
import type { FrontendConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import type { ConnLimit } from "./listener.ts";
import type { ServerPool } from "./server_pool.ts";
import { type SessionHost, TcpSession } from "./tcp_session.ts";
import { FrontendBase } from "./frontend_base.ts";
import type { ClientConn } from "./io.ts";
import { condMatches } from "./http/acl.ts";
import { connInfo, type HttpTxn } from "./http/txn.ts";
import type { RequestHead } from "./http1/types.ts";

export type { FrontendCounters } from "./frontend_base.ts";

/** Options for {@linkcode TcpFrontend}. */
export interface TcpFrontendOptions {
  /** The tcp backends' pools by name. */
  pools: ReadonlyMap<string, ServerPool>;
  /** The process-wide limit shared by all frontends. */
  global: ConnLimit;
  logger: Logger;
}

/** Handles the connections of one tcp frontend. */
export class TcpFrontend extends FrontendBase<TcpSession> implements SessionHost {
  /** The default backend's name (snapshots). */
  readonly backendName: string | null;
  readonly #pools: ReadonlyMap<string, ServerPool>;
  readonly timeoutClient: number | null;

  constructor(config: FrontendConfig, options: TcpFrontendOptions) {
    super(config, options);
    this.#pools = options.pools;
    this.backendName = config.defaultBackend;
    this.timeoutClient = config.timeout.client;
  }

  /** SessionHost: the first `use_backend` whose condition holds for this connection. */
  route(client: ClientConn): { pool: ServerPool | null; backendName: string } {
    const rules = this.config.useBackend;
    if (rules.length > 0) {
      const txn = connectionTxn(client, this.name);
      for (const rule of rules) {
        const pool = this.#pools.get(rule.backend);
        if (pool !== undefined && condMatches(rule.cond, txn, { side: "connection" })) {
          return { pool, backendName: rule.backend };
        }
      }
    }
    const name = this.config.defaultBackend;
    return {
      pool: name !== null ? this.#pools.get(name) ?? null : null,
      backendName: name ?? "<NOBACKEND>",
    };
  }

  protected createSession(conn: ClientConn, peer: string): TcpSession {
    return new TcpSession(conn, this, peer);
  }
}

/**
 * A tcp connection carries no HTTP request: rules evaluated on the "connection" side never read
 * one, so this empty head only fills the transaction's shape.
 */
const NO_REQUEST: RequestHead = Object.freeze({
  version: "",
  http11: false,
  headers: [],
  lowerNames: [],
  bodyKind: "none",
  contentLength: -1,
  connectionClose: false,
  connectionKeepAlive: false,
  connectionUpgrade: false,
  keepAlive: false,
  headLength: 0,
  method: "",
  target: "",
  expectContinue: false,
  upgrade: null,
  mustClose: false,
}) as RequestHead;

function connectionTxn(client: ClientConn, frontend: string): HttpTxn {
  return {
    conn: connInfo(client),
    req: NO_REQUEST,
    res: null,
    vars: new Map(),
    frontend,
    backend: null,
    server: null,
  };
}
