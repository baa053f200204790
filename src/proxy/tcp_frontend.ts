/**
 * The per-configuration handler of one `mode tcp` frontend: the accept-time "Connect from" log
 * line and a {@linkcode TcpSession} per connection, on top of the admission, bookkeeping and
 * draining every frontend shares ({@linkcode FrontendBase}).
 *
 * @module
 */
import type { FrontendConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { formatPeer } from "../log/format.ts";
import { formatConnectLine } from "../log/tcplog.ts";
import type { BoundListener, ConnLimit } from "./listener.ts";
import type { ServerPool } from "./server_pool.ts";
import { type SessionHost, TcpSession } from "./tcp_session.ts";
import { FrontendBase } from "./frontend_base.ts";
import type { ClientConn } from "./io.ts";

export type { FrontendCounters } from "./frontend_base.ts";

/** Options for {@linkcode TcpFrontend}. */
export interface TcpFrontendOptions {
  /** The backend's pool; null when the frontend has no usable tcp backend. */
  pool: ServerPool | null;
  /** The backend name for logs. */
  backendName: string;
  /** The process-wide limit shared by all frontends. */
  global: ConnLimit;
  logger: Logger;
}

/** Handles the connections of one tcp frontend. */
export class TcpFrontend extends FrontendBase<TcpSession> implements SessionHost {
  readonly pool: ServerPool | null;
  readonly backendName: string;
  readonly timeoutClient: number | null;
  readonly trafficLog: ((line: string) => void) | null;
  readonly dontlognull: boolean;
  #connectLine: boolean;

  constructor(config: FrontendConfig, options: TcpFrontendOptions) {
    super(config, options);
    this.pool = options.pool;
    this.backendName = options.backendName;
    this.timeoutClient = config.timeout.client;
    this.dontlognull = config.dontlognull;
    // `httplog` on a tcp frontend falls back to tcplog, as HAProxy does.
    const logger = options.logger;
    this.trafficLog = config.log && config.logStyle !== "connect"
      ? (line: string) => logger.traffic(line)
      : null;
    this.#connectLine = config.log && config.logStyle === "connect";
  }

  protected createSession(conn: ClientConn, listener: BoundListener): TcpSession {
    const peer = formatPeer(conn.remoteAddr, listener.id);
    if (this.#connectLine) {
      this.logger.traffic(formatConnectLine(peer, {
        localPeer: formatPeer(conn.localAddr, listener.id),
        frontendName: this.name,
        mode: "tcp",
      }));
    }
    return new TcpSession(conn, this, peer);
  }
}
