/**
 * One proxied TCP connection (HAProxy's stream in `mode tcp`): a server connection through
 * {@linkcode establish} (queues, retries, redispatch), then two read/write loops over pooled
 * 32 KiB buffers (two per direction) with half-close propagation (`closeWrite()`), and
 * `timeout client` / `timeout server` as inactivity timeouts enforced by a single lazily re-armed
 * timer. The session records HAProxy's two-letter termination state and its log fields.
 *
 * @module
 */
import { formatTcpLog, tcpLogFields, type TcpLogRecord } from "../log/tcplog.ts";
import type { LogFields } from "../log/logger.ts";
import { parseIP } from "../sys/sockaddr.ts";
import type { PoolServer, QueueTicket, ServerPool } from "./server_pool.ts";
import { dialServer, establish } from "./establish.ts";
import { cancelDeadline, type Deadline, scheduleDeadline } from "./deadlines.ts";
import type { ConnLimit } from "./listener.ts";
import { type ByteConn, type ClientConn, writeAll } from "./io.ts";

/** Termination cause letters (first character of `%ts`). */
export type TermCause = "-" | "C" | "S" | "c" | "s" | "P" | "R" | "I" | "K" | "D";
/** Session phase letters (second character of `%ts`). */
export type TermPhase = "-" | "R" | "Q" | "C" | "D" | "L";

/** What a session needs from its frontend (implemented by the TCP frontend). */
export interface SessionHost {
  readonly name: string;
  /** The backend of a new connection (its pool is null when the backend has no tcp pool). */
  route(client: ClientConn): { pool: ServerPool | null; backendName: string };
  readonly timeoutClient: number | null;
  /** Frontend connection limit (feconn). */
  readonly limit: ConnLimit;
  /** Process-wide limit (actconn). */
  readonly global: ConnLimit;
  /** Frontend byte counters. */
  bytesIn: number;
  bytesOut: number;
  /** Called once when the session has fully ended (after logging, slots released). */
  sessionDone(session: TcpSession): void;
  /** Writes a finished traffic line, or null when this frontend does not log traffic at end. */
  readonly trafficLog: ((line: string, fields: LogFields) => void) | null;
  /** `option dontlognull`. */
  readonly dontlognull: boolean;
  /** Reports an unexpected internal error. */
  internalError(message: string): void;
}

const BUF_SIZE = 32 * 1024;
const POOL_MAX = 256;
const freeBuffers: Uint8Array[] = [];

function getBuffer(): Uint8Array {
  return freeBuffers.pop() ?? new Uint8Array(BUF_SIZE);
}

function putBuffer(buf: Uint8Array): void {
  if (freeBuffers.length < POOL_MAX) freeBuffers.push(buf);
}

const IDLE = 0;
const READING = 1;
const WRITING = 2;
const DONE = 3;

/** Hash key for `balance source`: the client address bytes (IPv4-mapped IPv6 as IPv4). */
export function clientKey(addr: Deno.Addr): Uint8Array | null {
  if (addr.transport !== "tcp") return null;
  const ip = parseIP(addr.hostname);
  if (ip === null) return null;
  const b = ip.bytes;
  if (
    ip.family === 6 && b[10] === 0xff && b[11] === 0xff && b.subarray(0, 10).every((x) => x === 0)
  ) {
    return b.slice(12);
  }
  return b;
}

/** One client connection and, once established, its server connection. */
export class TcpSession implements TcpLogRecord {
  readonly client: ClientConn;
  server: ByteConn | null = null;
  readonly host: SessionHost;
  // ---- log record fields
  readonly clientPeer: string;
  readonly acceptDate: number;
  readonly frontendName: string;
  readonly backendName: string;
  /** The backend's pool; null when the frontend has no usable tcp backend. */
  readonly pool: ServerPool | null;
  serverName: string | null = null;
  tw = -1;
  tc = -1;
  tt = -1;
  /** Bytes client → server. */
  bytesIn = 0;
  /** Bytes server → client (`%B`). */
  bytesToClient = 0;
  actconn = 0;
  feconn = 0;
  beconn = 0;
  srvconn = 0;
  retries = 0;
  redispatched = false;
  srvQueue = 0;
  backendQueue = 0;
  cause: TermCause = "-";
  phase: TermPhase = "-";
  // ---- internals
  #srv: PoolServer | null = null;
  #inBackend = false;
  #ticket: QueueTicket | null = null;
  /** Aborted by a kill: ends a queue wait, a connect or a retry pause. */
  readonly #abort = new AbortController();
  #killed = false;
  #closed = false;
  #c2s = IDLE;
  #s2c = IDLE;
  #cliLast = 0;
  #srvLast = 0;
  #timer: Deadline | null = null;
  /** Two buffers per direction: one is read into while the other is being written. */
  #bufs: Uint8Array[] = [];
  readonly #onTimer: () => void;

  constructor(client: ClientConn, host: SessionHost, clientPeer: string) {
    this.client = client;
    this.host = host;
    this.clientPeer = clientPeer;
    this.acceptDate = Date.now();
    this.frontendName = host.name;
    const route = host.route(client);
    this.pool = route.pool;
    this.backendName = route.backendName;
    this.#onTimer = () => this.#checkTimeouts();
  }

  /** `%ts`. */
  get termination(): string {
    return this.cause + this.phase;
  }

  /** Runs the session to its end; never rejects. */
  async run(): Promise<void> {
    try {
      if (await this.#establish()) await this.#forward();
    } catch (e) {
      this.#fail("I", this.phase === "-" ? "D" : this.phase);
      this.host.internalError(`session ${this.clientPeer}: ${e instanceof Error ? e.stack : e}`);
    }
    this.#finish();
  }

  /**
   * Ends the session now (stop after the grace period, admin kill): termination `K`. Safe to call
   * at any phase and more than once.
   */
  kill(): void {
    if (this.#killed) return;
    this.#killed = true;
    if (this.cause === "-") this.cause = "K";
    this.#abort.abort("killed");
    if (this.#ticket !== null) {
      this.pool?.cancel(this.#ticket);
      this.#ticket.resolve(null);
    }
    this.#closeAll();
  }

  // ------------------------------------------------------------------ assignment and connect

  async #establish(): Promise<boolean> {
    const pool = this.pool;
    if (pool === null) {
      this.#fail("P", "R");
      return false;
    }
    const be = pool.backend;
    this.#inBackend = true;
    if (++pool.cur > pool.max) pool.max = pool.cur;
    pool.total++;
    const key = be.balance.algorithm === "source" ? clientKey(this.client.remoteAddr) : null;
    const r = await establish<ByteConn>({
      pool,
      record: this,
      signal: this.#abort.signal,
      pick: (avoid) => pool.assign(key, avoid),
      connect: (srv, signal) => dialServer(srv.config, { timeoutMs: be.timeout.connect, signal }),
      onTicket: (ticket) => this.#ticket = ticket,
      onPhase: (phase) => this.phase = phase,
    });
    this.#srv = r.server;
    if (r.kind === "ok") {
      this.server = r.conn;
      return true;
    }
    if (r.kind === "fail") this.#fail(r.cause, r.phase);
    return false;
  }

  // ------------------------------------------------------------------ data phase

  async #forward(): Promise<void> {
    const client = this.client;
    const server = this.server!;
    setNoDelay(client);
    setNoDelay(server);
    this.phase = "D";
    this.#bufs = [getBuffer(), getBuffer(), getBuffer(), getBuffer()];
    const now = Date.now();
    this.#cliLast = now;
    this.#srvLast = now;
    this.#armTimer();
    await Promise.all([this.#pumpC2S(), this.#pumpS2C()]);
  }

  #pumpC2S(): Promise<void> {
    const srv = this.#srv!;
    const pool = this.pool!;
    const host = this.host;
    return this.#pump({
      src: this.client,
      dst: this.server!,
      bufs: [this.#bufs[0], this.#bufs[1]],
      side: "C",
      count: (n) => {
        this.bytesIn += n;
        srv.bytesIn += n;
        pool.bytesIn += n;
        host.bytesIn += n;
      },
    });
  }

  #pumpS2C(): Promise<void> {
    const srv = this.#srv!;
    const pool = this.pool!;
    const host = this.host;
    return this.#pump({
      src: this.server!,
      dst: this.client,
      bufs: [this.#bufs[2], this.#bufs[3]],
      side: "S",
      count: (n) => {
        this.bytesToClient += n;
        srv.bytesOut += n;
        pool.bytesOut += n;
        host.bytesOut += n;
      },
    });
  }

  /**
   * Copies one direction until EOF, then half-closes the destination. A chunk's write is not
   * awaited before the next read (it goes into the other buffer); it is awaited before the next
   * write, so order is kept and at most one write is in flight. Deno resolves write ops a loop
   * turn later, so this saves a turn per chunk.
   */
  async #pump(o: {
    src: ByteConn;
    dst: ByteConn;
    bufs: [Uint8Array, Uint8Array];
    side: "C" | "S";
    count: (n: number) => void;
  }): Promise<void> {
    const { src, dst, bufs, side } = o;
    const c2s = side === "C";
    let cur = 0;
    let pending: Promise<boolean> | null = null;
    // A read failure is this side's; a write failure is the other side's.
    let writeFailed = false;
    try {
      for (;;) {
        if (c2s) this.#c2s = READING;
        else this.#s2c = READING;
        const buf = bufs[cur];
        const n = await src.read(buf);
        if (n === null) break;
        const t = Date.now();
        this.#cliLast = t;
        this.#srvLast = t;
        o.count(n);
        if (c2s) this.#c2s = WRITING;
        else this.#s2c = WRITING;
        if (pending !== null && !(await pending)) {
          writeFailed = true;
          throw new Error("write failed");
        }
        const chunk = n === buf.length ? buf : buf.subarray(0, n);
        const now = dst.writeNow?.(chunk) ?? 0;
        if (now === n) {
          // Written at once (our own sockets): the buffer is free again, nothing to wait for.
          pending = null;
          continue;
        }
        pending = writeAll(dst, now > 0 ? chunk.subarray(now) : chunk).then(
          () => {
            const t2 = Date.now();
            this.#srvLast = t2;
            this.#cliLast = t2;
            return true;
          },
          () => false,
        );
        cur ^= 1;
      }
      if (pending !== null && !(await pending)) {
        writeFailed = true;
        throw new Error("write failed");
      }
      if (c2s) this.#c2s = DONE;
      else this.#s2c = DONE;
      const other = c2s ? this.#s2c : this.#c2s;
      if (other === DONE) this.#closeAll();
      else await closeWriteQuietly(dst);
    } catch {
      this.#ioError(writeFailed ? (c2s ? "S" : "C") : side);
      if (c2s) this.#c2s = DONE;
      else this.#s2c = DONE;
    }
  }

  #ioError(side: "C" | "S"): void {
    if (this.cause === "-") {
      this.cause = side;
      this.phase = "D";
    }
    this.#closeAll();
  }

  /** True while an operation on the client side is pending (HAProxy: its timeout applies). */
  #clientWaiting(): boolean {
    return this.#c2s === READING || this.#s2c === WRITING;
  }

  #serverWaiting(): boolean {
    return this.#s2c === READING || this.#c2s === WRITING;
  }

  #armTimer(): void {
    const cli = this.host.timeoutClient;
    const srv = this.pool!.backend.timeout.server;
    if (cli === null && srv === null) return;
    this.#timer = scheduleDeadline(
      Date.now() + Math.min(cli ?? Infinity, srv ?? Infinity),
      this.#onTimer,
    );
  }

  #checkTimeouts(): void {
    this.#timer = null;
    if (this.#closed) return;
    const now = Date.now();
    const cli = this.host.timeoutClient;
    const srv = this.pool!.backend.timeout.server;
    let next = Infinity;
    if (cli !== null) {
      const exp = this.#cliLast + cli;
      if (this.#clientWaiting() && now >= exp) return this.#timeout("c");
      next = Math.min(next, exp > now ? exp : now + cli);
    }
    if (srv !== null) {
      const exp = this.#srvLast + srv;
      if (this.#serverWaiting() && now >= exp) return this.#timeout("s");
      next = Math.min(next, exp > now ? exp : now + srv);
    }
    this.#timer = scheduleDeadline(next, this.#onTimer);
  }

  #timeout(cause: "c" | "s"): void {
    if (this.cause === "-") {
      this.cause = cause;
      this.phase = "D";
    }
    this.#closeAll();
  }

  // ------------------------------------------------------------------ end

  #fail(cause: TermCause, phase: TermPhase): void {
    if (this.cause === "-") this.cause = cause;
    this.phase = phase;
  }

  #closeAll(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) {
      cancelDeadline(this.#timer);
      this.#timer = null;
    }
    closeQuietly(this.client);
    if (this.server !== null) closeQuietly(this.server);
  }

  #finish(): void {
    this.#closeAll();
    if (this.cause === "-") this.phase = "-";
    else if (this.cause === "K" && this.phase === "-") this.phase = "R";
    for (const b of this.#bufs) putBuffer(b);
    this.#bufs = [];
    const host = this.host;
    const pool = this.pool;
    const srv = this.#srv;
    if (srv !== null) {
      if (this.cause !== "-" && this.phase === "D") srv.aborts++;
      this.#srv = null;
      pool!.release(srv);
    }
    if (this.#inBackend) pool!.cur--;
    this.tt = Date.now() - this.acceptDate;
    const log = host.trafficLog;
    if (log !== null && !(host.dontlognull && this.bytesIn === 0)) {
      this.actconn = host.global.cur;
      this.feconn = host.limit.cur;
      this.beconn = pool?.cur ?? 0;
      this.srvconn = srv?.cur ?? 0;
      log(formatTcpLog(this), tcpLogFields(this));
    }
    host.sessionDone(this);
  }
}

function setNoDelay(conn: ByteConn): void {
  if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
}

function closeQuietly(conn: ByteConn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

async function closeWriteQuietly(conn: ByteConn): Promise<void> {
  try {
    await conn.closeWrite();
  } catch {
    // the peer is gone; the other direction reports it
  }
}
