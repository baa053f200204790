/**
 * What every frontend handler shares, whatever its mode: admission against frontend and global
 * `maxconn` (the listener stops accepting while either is reached, so excess connections wait in
 * the kernel backlog), session bookkeeping, byte counters and graceful draining. The TCP and
 * HTTP frontends extend it with how a session starts.
 *
 * @module
 */
import type { FrontendConfig } from "../config/types.ts";
import type { LogFields, Logger } from "../log/logger.ts";
import { type AcceptHandler, type BoundListener, ConnLimit } from "./listener.ts";
import type { ClientConn } from "./io.ts";
import { formatPeer } from "../log/format.ts";
import { formatConnectLine } from "../log/tcplog.ts";

/** Plain-data counters of a frontend. */
export interface FrontendCounters {
  cur: number;
  max: number;
  limit: number;
  total: number;
  bytesIn: number;
  bytesOut: number;
}

/** A session as the base runs it. */
export interface FrontendSession {
  /** Serves the connection to its end; never rejects. */
  run(): Promise<void>;
  /** Ends it now (the grace period of a stop ran out). */
  kill(): void;
}

/** The shared part of a frontend handler; `S` is its session type. */
export abstract class FrontendBase<S extends FrontendSession> implements AcceptHandler {
  readonly config: FrontendConfig;
  readonly name: string;
  readonly limit: ConnLimit;
  readonly global: ConnLimit;
  /** Live sessions. */
  readonly sessions: Set<S> = new Set();
  bytesIn = 0;
  bytesOut = 0;
  total = 0;
  /** Writes a finished traffic line (tcplog/httplog), or null when this frontend does not. */
  readonly trafficLog: ((line: string, fields: LogFields) => void) | null;
  /** `option dontlognull`. */
  readonly dontlognull: boolean;
  protected readonly logger: Logger;
  /** No log option: HAProxy's "Connect from" line at accept time instead. */
  readonly #connectLine: boolean;
  #stopping = false;
  #drained: (() => void) | null = null;

  constructor(config: FrontendConfig, options: { global: ConnLimit; logger: Logger }) {
    this.config = config;
    this.name = config.name;
    this.limit = new ConnLimit(config.maxconn);
    this.global = options.global;
    this.logger = options.logger;
    this.dontlognull = config.dontlognull;
    // tcplog and httplog are each frontend's detailed line (httplog falls back to tcplog in tcp
    // mode, as HAProxy does; an http frontend writes httplog for both).
    const logger = options.logger;
    this.trafficLog = config.log && config.logStyle !== "connect"
      ? (line: string, fields: LogFields) => logger.traffic(line, fields)
      : null;
    this.#connectLine = config.log && config.logStyle === "connect";
  }

  /** True once draining started. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /**
   * Creates the session of a connection that got its slots (the base runs it); `peer` is the
   * client as logs print it.
   */
  protected abstract createSession(conn: ClientConn, peer: string): S;

  /** Null while below frontend and global maxconn; else resolves when a slot may have freed. */
  admit(): Promise<void> | null {
    if (!this.limit.hasRoom()) return this.limit.whenRoom();
    if (!this.global.hasRoom()) return this.global.whenRoom();
    return null;
  }

  /** Starts a session for an accepted connection (or holds it until a slot frees). */
  accept(conn: ClientConn, listener: BoundListener): void {
    if (this.#stopping) {
      closeQuietly(conn);
      return;
    }
    if (this.admit() === null) this.#start(conn, listener);
    else this.#startLater(conn, listener).catch((e) => this.internalError(String(e)));
  }

  /** Bookkeeping once a session has ended and logged. */
  sessionDone(session: S): void {
    this.sessions.delete(session);
    this.limit.release();
    this.global.release();
    if (this.#drained !== null && this.sessions.size === 0) this.#drained();
  }

  /** An unexpected error inside a session. */
  internalError(message: string): void {
    this.logger.log("err", `frontend '${this.name}': ${message}`);
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

  /** Reload: continues the cumulative counters of the previous generation's frontend. */
  inheritFrom(old: FrontendBase<FrontendSession>): void {
    this.total = old.total;
    this.bytesIn = old.bytesIn;
    this.bytesOut = old.bytesOut;
    this.limit.peak = old.limit.peak;
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

  #start(conn: ClientConn, listener: BoundListener): void {
    this.limit.take();
    this.global.take();
    this.total++;
    const peer = formatPeer(conn.remoteAddr, listener.id);
    if (this.#connectLine) {
      this.logger.traffic(formatConnectLine(peer, {
        localPeer: formatPeer(conn.localAddr, listener.id),
        frontendName: this.name,
        mode: this.config.mode,
      }));
    }
    const session = this.createSession(conn, peer);
    this.sessions.add(session);
    session.run().catch((e) => this.internalError(String(e)));
  }

  async #startLater(conn: ClientConn, listener: BoundListener): Promise<void> {
    for (let wait = this.admit(); wait !== null && !this.#stopping; wait = this.admit()) {
      await wait;
    }
    if (this.#stopping) closeQuietly(conn);
    else this.#start(conn, listener);
  }
}

function closeQuietly(conn: ClientConn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
