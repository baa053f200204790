/**
 * The per-configuration handler of one `mode tcp` frontend: admission against frontend and
 * global `maxconn` (the listener stops accepting while either is reached), the accept-time
 * "Connect from" log line, session bookkeeping, counters and graceful draining. Listeners feed it
 * through {@linkcode AcceptHandler}, so the same listener can later feed another generation.
 *
 * @module
 */
import type { FrontendConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { formatPeer } from "../log/format.ts";
import { formatConnectLine } from "../log/tcplog.ts";
import { type AcceptHandler, type BoundListener, ConnLimit } from "./listener.ts";
import type { ServerPool } from "./server_pool.ts";
import { type SessionHost, TcpSession } from "./tcp_session.ts";

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

/** Plain-data counters of a frontend. */
export interface FrontendCounters {
  cur: number;
  max: number;
  limit: number;
  total: number;
  bytesIn: number;
  bytesOut: number;
}

/** Handles the connections of one tcp frontend. */
export class TcpFrontend implements AcceptHandler, SessionHost {
  readonly config: FrontendConfig;
  readonly name: string;
  readonly pool: ServerPool | null;
  readonly backendName: string;
  readonly timeoutClient: number | null;
  readonly limit: ConnLimit;
  readonly global: ConnLimit;
  readonly trafficLog: ((line: string) => void) | null;
  readonly dontlognull: boolean;
  /** Live sessions. */
  readonly sessions: Set<TcpSession> = new Set();
  bytesIn = 0;
  bytesOut = 0;
  total = 0;
  #logger: Logger;
  #connectLine: boolean;
  #stopping = false;
  #drained: (() => void) | null = null;

  constructor(config: FrontendConfig, options: TcpFrontendOptions) {
    this.config = config;
    this.name = config.name;
    this.pool = options.pool;
    this.backendName = options.backendName;
    this.timeoutClient = config.timeout.client;
    this.limit = new ConnLimit(config.maxconn);
    this.global = options.global;
    this.#logger = options.logger;
    this.dontlognull = config.dontlognull;
    // `httplog` on a tcp frontend falls back to tcplog, as HAProxy does.
    const logger = options.logger;
    this.trafficLog = config.log && config.logStyle !== "connect"
      ? (line: string) => logger.traffic(line)
      : null;
    this.#connectLine = config.log && config.logStyle === "connect";
  }

  /** Null while below frontend and global maxconn; else resolves when a slot may have freed. */
  admit(): Promise<void> | null {
    if (!this.limit.hasRoom()) return this.limit.whenRoom();
    if (!this.global.hasRoom()) return this.global.whenRoom();
    return null;
  }

  /** Starts a session for an accepted connection (or holds it until a slot frees). */
  accept(conn: Deno.Conn, listener: BoundListener): void {
    if (this.#stopping) {
      closeQuietly(conn);
      return;
    }
    if (this.admit() === null) this.#start(conn, listener);
    else this.#startLater(conn, listener).catch((e) => this.internalError(String(e)));
  }

  /** SessionHost: bookkeeping once a session has ended and logged. */
  sessionDone(session: TcpSession): void {
    this.sessions.delete(session);
    this.limit.release();
    this.global.release();
    if (this.#drained !== null && this.sessions.size === 0) this.#drained();
  }

  /** SessionHost: an unexpected error inside a session. */
  internalError(message: string): void {
    this.#logger.log("err", `frontend '${this.name}': ${message}`);
  }

  /**
   * Lets in-flight sessions finish for up to `graceMs`, then kills the rest (termination `K`);
   * resolves when none is left. New connections handed over meanwhile are refused.
   */
  async drain(graceMs: number): Promise<void> {
    this.#stopping = true;
    this.limit.wakeAll();
    this.global.wakeAll();
    if (this.sessions.size === 0) return;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#drained = resolve;
    const timer = setTimeout(() => {
      for (const s of [...this.sessions]) s.kill();
    }, Math.max(0, graceMs));
    await promise;
    clearTimeout(timer);
  }

  /** Plain-data counters. */
  counters(): FrontendCounters {
    return {
      cur: this.limit.cur,
      max: this.limit.peak,
      limit: this.limit.max,
      total: this.total,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
    };
  }

  #start(conn: Deno.Conn, listener: BoundListener): void {
    this.limit.take();
    this.global.take();
    this.total++;
    const peer = formatPeer(conn.remoteAddr, listener.id);
    if (this.#connectLine) {
      this.#logger.traffic(formatConnectLine(peer, {
        localPeer: formatPeer(conn.localAddr, listener.id),
        frontendName: this.name,
        mode: "tcp",
      }));
    }
    const session = new TcpSession(conn, this, peer);
    this.sessions.add(session);
    session.run().catch((e) => this.internalError(String(e)));
  }

  async #startLater(conn: Deno.Conn, listener: BoundListener): Promise<void> {
    for (let wait = this.admit(); wait !== null && !this.#stopping; wait = this.admit()) {
      await wait;
    }
    if (this.#stopping) closeQuietly(conn);
    else this.#start(conn, listener);
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
