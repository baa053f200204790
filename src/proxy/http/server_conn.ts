/**
 * Server-side connections of the HTTP engine: connecting (plain or TLS, within `timeout
 * connect`), and per-server pools of idle keep-alive connections reused across client
 * connections, as HAProxy's default `http-reuse safe` does for requests after the first one.
 *
 * @module
 */
import { ResponseParser } from "../http1/parser.ts";
import type { PoolServer } from "../server_pool.ts";
import { type ByteConn, closeQuietly, ReadBuffer } from "../io.ts";
import { dialServer } from "../establish.ts";

/** An open connection to one server with its response parser and read buffer. */
export class ServerConn {
  readonly conn: ByteConn;
  readonly server: PoolServer;
  readonly rbuf: ReadBuffer = new ReadBuffer();
  /** Heads point into `rbuf` (pinned there) until released or detached. */
  readonly parser: ResponseParser = new ResponseParser({ borrow: true });
  /** True once it carried a request (a failure before any response byte may be retried). */
  reused = false;
  /** When it went idle (ms), for pruning. */
  idleSince = 0;

  constructor(conn: ByteConn, server: PoolServer) {
    this.conn = conn;
    this.server = server;
  }

  /** Closes the connection (its read buffer goes back to the pool). */
  close(): void {
    closeQuietly(this.conn);
    this.rbuf.release();
  }
}

/** Connects to `server` (see `dialServer`) and wraps the connection with its parser. */
export async function connectServer(
  server: PoolServer,
  options: { timeoutMs: number | null; signal: AbortSignal },
): Promise<ServerConn | "timeout" | "error"> {
  const conn = await dialServer(server.config, options);
  return typeof conn === "string" ? conn : new ServerConn(conn, server);
}

/** Most idle connections kept per server. */
const MAX_IDLE_PER_SERVER = 64;

/**
 * Idle keep-alive server connections of one proxy generation, per server (LIFO, so the warmest
 * is reused first). Connections idle longer than `idleMs` are closed by a periodic sweep.
 */
export class IdlePool {
  readonly #idle = new Map<PoolServer, ServerConn[]>();
  readonly #idleMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: { idleMs: number }) {
    this.#idleMs = options.idleMs;
  }

  /** Takes an idle connection to `server`, if any. */
  take(server: PoolServer): ServerConn | null {
    const list = this.#idle.get(server);
    return list?.pop() ?? null;
  }

  /** Keeps a connection whose last response ended cleanly (closes it when the pool is full). */
  put(sc: ServerConn): void {
    let list = this.#idle.get(sc.server);
    if (list === undefined) {
      list = [];
      this.#idle.set(sc.server, list);
    }
    if (list.length >= MAX_IDLE_PER_SERVER || !sc.rbuf.empty) {
      sc.close();
      return;
    }
    sc.idleSince = Date.now();
    sc.parser.reset();
    list.push(sc);
    this.#timer ??= setInterval(() => this.#sweep(), Math.max(250, this.#idleMs / 2));
  }

  /** Closes every idle connection and stops the sweep (the generation is stopping). */
  closeAll(): void {
    for (const list of this.#idle.values()) {
      for (const sc of list) sc.close();
      list.length = 0;
    }
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    const limit = Date.now() - this.#idleMs;
    let left = 0;
    for (const list of this.#idle.values()) {
      let keep = 0;
      for (const sc of list) {
        if (sc.idleSince < limit) sc.close();
        else list[keep++] = sc;
      }
      list.length = keep;
      left += keep;
    }
    if (left === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
