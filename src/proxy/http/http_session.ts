/**
 * One client connection of a `mode http` frontend: a loop of HTTP/1.1 transactions (keep-alive,
 * pipelining) run in HAProxy's order — frontend `http_request` rules, `redirect`, `use_backend`,
 * backend `http_request` rules, forwardfor, cookie persistence, server assignment (queues,
 * retries, redispatch), forwarding with re-framing, response rules (backend then frontend),
 * connection-mode handling, `Upgrade` tunnels — with HAProxy's timeouts, errors and httplog.
 *
 * One {@linkcode Watchdog} per connection enforces every timeout; on expiry the session closes
 * the side that is late, which wakes the pending read, and the reader sees why.
 *
 * @module
 */
import type { BackendConfig } from "../../config/types.ts";
import { formatHttpLog, type HttpLogRecord } from "../../log/httplog.ts";
import type { LogFields } from "../../log/logger.ts";
import {
  clientKeepsAlive,
  encodeForwardedRequest,
  encodeForwardedResponse,
  type HttpConnectionMode,
  serverKeepsAlive,
} from "../http1/connection_header.ts";
import { RequestParser } from "../http1/parser.ts";
import {
  chunkHeader,
  CRLF,
  encodeLastChunk,
  LAST_CHUNK,
  serializeResponseHead,
} from "../http1/serializer.ts";
import type { RequestHead } from "../http1/types.ts";
import type { ParsedResponseHead } from "../http1/head.ts";
import { type PoolServer, QueueTicket, type ServerPool } from "../server_pool.ts";
import type { ConnLimit } from "../listener.ts";
import {
  type ClientConn,
  closeQuietly,
  ReadBuffer,
  tryWriteAll,
  writeAll,
  WRITTEN,
  WRITTEN_OK,
} from "../io.ts";
import { concatBytes } from "../bytes.ts";
import { connectServer, type IdlePool, type ServerConn } from "./server_conn.ts";
import { type ConnInfo, connInfo, type HttpTxn } from "./txn.ts";
import { type L7Backend, L7Pipeline, type RequestDecision } from "./pipeline.ts";
import { establish, type Established } from "../establish.ts";
import { tunnel } from "./tunnel.ts";
import { bodyWaitLimit, httpBodyBalanceKey, peekRequestBody, waitsForBody } from "./balance_key.ts";
import { delHeader } from "./headers.ts";
import { W_CLIENT, W_DATA, W_HEAD, W_IDLE, W_SERVER, type Watch, Watchdog } from "./watchdog.ts";

/** A backend as the HTTP engine runs it. */
export interface HttpBackend extends L7Backend {
  readonly pool: ServerPool;
  readonly idle: IdlePool;
}

/** Per-frontend HTTP counters (HAProxy's req_tot, dreq, ereq, hrsp_*). */
export interface HttpCounters {
  requests: number;
  denied: number;
  invalid: number;
  /** Responses by class: index 0 other, 1..5 for 1xx..5xx. */
  responses: number[];
}

/** What a session needs from its frontend. */
export interface HttpSessionHost {
  readonly name: string;
  readonly pipeline: L7Pipeline<HttpBackend>;
  readonly timeout: {
    readonly client: number | null;
    readonly httpRequest: number | null;
    readonly httpKeepAlive: number | null;
  };
  readonly limit: ConnLimit;
  readonly global: ConnLimit;
  readonly httpCounters: HttpCounters;
  bytesIn: number;
  bytesOut: number;
  /** True while the frontend drains: keep-alive connections close after their response. */
  readonly stopping: boolean;
  readonly trafficLog: ((line: string, fields: LogFields) => void) | null;
  readonly dontlognull: boolean;
  sessionDone(session: HttpSession): void;
  internalError(message: string): void;
}

/** Per-request log fields. */
interface Txr {
  requestDate: number;
  treq: number;
  tw: number;
  tc: number;
  tr: number;
  status: number;
  bytesToClient: number;
  cause: string;
  phase: string;
  backendName: string;
  serverName: string | null;
  retries: number;
  redispatched: boolean;
  srvQueue: number;
  backendQueue: number;
  requestLine: string | null;
  /** The persistence cookie's two termination-state characters. */
  cookie: string;
}

/** The backend side of one request. */
interface Exchange {
  readonly backend: HttpBackend;
  readonly mode: HttpConnectionMode;
  /** The server a persistence cookie names, if any. */
  readonly preferred: string | null;
}

/** Signals that the session ended (connection gone or timed out) inside a transaction. */
class SessionEnd extends Error {}

/** One client connection of an HTTP frontend. */
export class HttpSession {
  readonly client: ClientConn;
  readonly host: HttpSessionHost;
  readonly clientPeer: string;
  readonly acceptDate = Date.now();
  readonly #info: ConnInfo;
  readonly #rbuf = new ReadBuffer();
  /** Request heads point into `#rbuf` (pinned there) until the transaction ends. */
  readonly #parser = new RequestParser({ borrow: true });
  #server: ServerConn | null = null;
  #srv: PoolServer | null = null;
  #backend: HttpBackend | null = null;
  #ticket: QueueTicket | null = null;
  /** Aborted by a kill: ends a queue wait, a connect or a retry pause. */
  readonly #abort = new AbortController();
  #killed = false;
  #closed = false;
  #received = 0;
  readonly #dog = new Watchdog((watch) => this.#onExpire(watch));
  /** The current request is the connection's first (HAProxy `http-reuse safe`: it gets a
   * server connection of its own; later ones may reuse idle ones). */
  #firstRequest = true;
  /** A client write started without waiting for it, or null. */
  #clientPending: Promise<boolean> | null = null;
  /** The current request's body has been read to its end. */
  #bodyDone = false;
  /** The 408 sent when W_HEAD expires while a body is awaited (HAProxy's stream-side page);
   * null for a request head's. */
  #late408: Uint8Array | null = null;

  constructor(client: ClientConn, host: HttpSessionHost, clientPeer: string) {
    this.client = client;
    this.host = host;
    this.clientPeer = clientPeer;
    this.#info = connInfo(client);
  }

  /** Serves the connection to its end; never rejects. */
  async run(): Promise<void> {
    try {
      let first = true;
      while (!this.#killed) {
        // While the frontend drains, a kept-alive connection still gets its next request
        // served (with `connection: close`): closing it here would race the client's request.
        const keep = await this.#transaction(first);
        first = false;
        if (!keep) break;
      }
    } catch (e) {
      if (!(e instanceof SessionEnd)) {
        this.host.internalError(`session ${this.clientPeer}: ${e instanceof Error ? e.stack : e}`);
      }
    }
    await this.#finish();
  }

  /** Ends the connection now (after the grace period of a stop). */
  kill(): void {
    if (this.#killed) return;
    this.#killed = true;
    this.#abort.abort("killed");
    if (this.#ticket !== null && this.#backend !== null) {
      this.#backend.pool.cancel(this.#ticket);
      this.#ticket.resolve(null);
    }
    this.#closeAll();
  }

  // ------------------------------------------------------------------ one transaction

  /** Runs one request/response; resolves true when the client connection stays open. */
  async #transaction(first: boolean): Promise<boolean> {
    this.#firstRequest = first;
    const t: Txr = {
      requestDate: 0,
      treq: -1,
      tw: -1,
      tc: -1,
      tr: -1,
      status: -1,
      bytesToClient: 0,
      cause: "-",
      phase: "-",
      backendName: this.host.name,
      serverName: null,
      retries: 0,
      redispatched: false,
      srvQueue: 0,
      backendQueue: 0,
      requestLine: null,
      cookie: "--",
    };
    const req = await this.#readHead(first, t);
    if (req === null) return false;
    this.host.httpCounters.requests++;
    const txn: HttpTxn = {
      conn: this.#info,
      req,
      res: null,
      vars: new Map(),
      frontend: this.host.name,
      backend: null,
      server: null,
    };
    let keep: boolean;
    try {
      keep = await this.#serve(txn, t);
    } finally {
      this.#releaseServer(false);
      this.#rbuf.pin(null);
      if (this.host.trafficLog !== null) t.cookie = this.host.pipeline.cookieFlags(txn);
      this.#log(t);
    }
    return keep;
  }

  /** Reads the next request head; answers parse errors and timeouts itself (then null). */
  async #readHead(first: boolean, t: Txr): Promise<RequestHead | null> {
    const host = this.host;
    const rbuf = this.#rbuf;
    const parser = this.#parser;
    const reqMs = host.timeout.httpRequest ?? host.timeout.client;
    const idleMs = first ? reqMs : host.timeout.httpKeepAlive ?? reqMs;
    let started = !rbuf.empty;
    if (started) t.requestDate = Date.now();
    else if (first) t.requestDate = this.acceptDate;
    this.#dog.arm(
      started || first ? W_HEAD : W_IDLE,
      started ? reqMs : idleMs,
      first ? this.acceptDate : 0,
    );
    for (;;) {
      const ev = parser.execute(rbuf.view());
      rbuf.consume(ev.consumed);
      if (ev.type === "head") {
        this.#dog.disarm();
        this.#bodyDone = false;
        const head = ev.head;
        rbuf.pin(head);
        if (!started) t.requestDate = Date.now();
        t.treq = Date.now() - t.requestDate;
        t.requestLine = head.method + " " + head.target + " " + head.version;
        return head;
      }
      if (ev.type === "error") {
        this.#dog.disarm();
        if (!started) t.requestDate = Date.now();
        host.httpCounters.invalid++;
        t.status = ev.error.status;
        this.#setTerm(t, "P", "R");
        const bytes = this.host.pipeline.closingErrorPage(ev.error.status);
        if (await this.#writeClient(bytes)) t.bytesToClient += bytes.length;
        this.#countStatus(t.status);
        this.#log(t);
        return null;
      }
      if (ev.type !== "need_more") {
        // A body event cannot happen between messages; treat as a protocol error.
        throw new SessionEnd();
      }
      const n = await rbuf.fill(this.client);
      if (n === null) {
        this.#dog.disarm();
        const expired = this.#dog.expired;
        if (expired === W_HEAD) {
          t.status = 408;
          this.#setTerm(t, "c", "R");
          t.bytesToClient = this.host.pipeline.closingErrorPage(408).length;
          this.#countStatus(408);
          this.#log(t);
        } else if (started && !this.#killed) {
          // Client aborted mid-head: HAProxy logs CR-- with <BADREQ>.
          t.status = 400;
          this.#setTerm(t, "C", "R");
          this.#log(t);
        }
        return null;
      }
      this.#received += n;
      this.host.bytesIn += n;
      if (!started) {
        started = true;
        t.requestDate = Date.now();
        if (this.#dog.watch === W_IDLE) this.#dog.arm(W_HEAD, reqMs, t.requestDate);
      }
    }
  }

  /** Everything after the request head; resolves true when the client connection stays open. */
  async #serve(txn: HttpTxn, t: Txr): Promise<boolean> {
    const host = this.host;
    const decision: RequestDecision<HttpBackend> = host.pipeline.request(txn);
    const req = txn.req;
    if (decision.kind === "respond") {
      if (decision.denied) host.httpCounters.denied++;
      t.status = decision.status;
      if (decision.backend !== null) t.backendName = decision.backend.config.name;
      this.#setTerm(t, decision.denied ? "P" : "L", "R");
      const close = decision.close || !clientKeepsAlive(req, { mode: decision.mode });
      return await this.#respondLocal(decision.bytes, t, req, close);
    }
    const backend = decision.backend;
    this.#backend = backend;
    t.backendName = backend.config.name;
    const mode = decision.mode;
    const pool = backend.pool;
    if (++pool.cur > pool.max) pool.max = pool.cur;
    pool.total++;
    try {
      const o: Exchange = { backend, mode, preferred: decision.server };
      let bodyKey: Uint8Array | null = null;
      if (backend.config.balance.algorithm === "url_param" && req.method === "POST") {
        const r = await this.#awaitBalanceBody(txn, t, o);
        if (r === false) return false;
        bodyKey = r;
      }
      const got = this.#establish(txn, t, o, bodyKey);
      if (!(got === true || (got !== false && await got))) {
        t.status = 503;
        return await this.#respondError(503, t, req, o);
      }
      txn.server = this.#srv!.name;
      t.serverName = this.#srv!.name;
      return await this.#exchange(txn, t, o, true);
    } finally {
      pool.cur--;
      this.#backend = null;
    }
  }

  /**
   * Sends the request on the current server connection and relays the response. `mayRetry`:
   * a reused idle connection that fails before any response byte is retried once on a fresh
   * connection, as HAProxy does.
   */
  async #exchange(txn: HttpTxn, t: Txr, o: Exchange, mayRetry: boolean): Promise<boolean> {
    const { backend, mode } = o;
    const req = txn.req;
    const sc = this.#server!;
    sc.parser.setRequestMethod(req.method);
    const head = encodeForwardedRequest(req, { mode });
    const sent = this.#sendHeadOnly(head, req, sc)
      ? "ok"
      : await this.#sendRequest(head, req, sc, t);
    if (sent === "client-gone") return false;
    // Only a request without body can be sent again.
    const retry = mayRetry && sc.reused && req.bodyKind === "none";
    if (sent === "server-error") {
      if (retry) return await this.#retryFresh(txn, t, o);
      this.#setTerm(t, "S", "H");
      t.status = 502;
      return await this.#respondError(502, t, req, o);
    }
    const tSend = Date.now();
    const res = await this.#readResponseHead(sc, t, req);
    if (typeof res === "string") {
      if (res === "retry" && retry) return await this.#retryFresh(txn, t, o);
      const status = res === "timeout" ? 504 : 502;
      this.#setTerm(t, res === "timeout" ? "s" : res === "invalid" ? "P" : "S", "H");
      t.status = status;
      return await this.#respondError(status, t, req, o);
    }
    t.tr = Date.now() - tSend;
    txn.res = res;
    const verdict = this.host.pipeline.response(txn, backend);
    if (verdict !== null) {
      this.#closeServer();
      this.host.httpCounters.denied++;
      t.status = verdict.status;
      this.#setTerm(t, "P", "H");
      return await this.#respondLocal(verdict.bytes, t, req, !clientKeepsAlive(req, { mode }));
    }
    return await this.#sendResponse(txn, res, t, { mode, be: backend.config });
  }

  /** Retries on a fresh connection to the same server. */
  async #retryFresh(txn: HttpTxn, t: Txr, o: Exchange): Promise<boolean> {
    this.#closeServer();
    const srv = this.#srv!;
    const result = await connectServer(srv, {
      timeoutMs: o.backend.config.timeout.connect,
      signal: this.#abort.signal,
    });
    if (typeof result === "string") {
      srv.connectErrors++;
      o.backend.pool.connectErrors++;
      this.#setTerm(t, result === "timeout" ? "s" : "S", "C");
      t.status = 503;
      return await this.#respondError(503, t, txn.req, o);
    }
    this.#server = result;
    return await this.#exchange(txn, t, o, false);
  }

  // ------------------------------------------------------------------ server assignment

  /**
   * A server connection for the request: the persistence cookie's server when it can take it,
   * else balancing (see `establish`); the connection's first request gets a new connection, later
   * ones may reuse an idle one (HAProxy's `http-reuse safe`).
   */
  #establish(
    txn: HttpTxn,
    t: Txr,
    o: Exchange,
    bodyKey: Uint8Array | null,
  ): boolean | Promise<boolean> {
    const { backend } = o;
    const pool = backend.pool;
    const pipeline = this.host.pipeline;
    let preferred = o.preferred;
    const r = establish<ServerConn>({
      pool,
      record: t,
      signal: this.#abort.signal,
      pick: (avoid) => {
        if (preferred !== null) {
          const server = pool.server(preferred);
          preferred = null;
          const got = server !== undefined ? pool.assignTo(server) : null;
          if (got !== null) return got;
          pipeline.persistenceLost(txn);
        }
        return pool.assign(pipeline.balanceKey(txn, backend) ?? bodyKey, avoid);
      },
      connect: (srv, signal) =>
        connectServer(srv, { timeoutMs: backend.config.timeout.connect, signal }),
      reuse: (srv) => {
        const idle = this.#firstRequest ? null : backend.idle.take(srv);
        if (idle !== null) idle.reused = true;
        return idle;
      },
      onTicket: (ticket) => this.#ticket = ticket,
      onPhase: (phase) => t.phase = phase,
    });
    return r instanceof Promise ? r.then((r) => this.#established(r, t)) : this.#established(r, t);
  }

  /** Takes the result of `establish`: true with a server connection, false when none. */
  #established(r: Established<ServerConn>, t: Txr): boolean {
    this.#srv = r.server;
    if (r.kind === "killed") throw new SessionEnd();
    if (r.kind === "fail") {
      this.#setTerm(t, r.cause, r.phase);
      return false;
    }
    this.#server = r.conn;
    t.phase = "-";
    return true;
  }

  /**
   * `balance url_param` and a POST (see balance_key.ts): before a server is chosen, wait for the
   * body — all of it, or what HAProxy's buffer holds — under `timeout http_request` (from now)
   * and `timeout client` (per read), answering `Expect: 100-continue` ourselves as HAProxy does.
   * The bytes are only looked at: forwarding sends them unchanged. Resolves the body's key
   * (null: none), or false when the transaction ended (408 sent, or the client left).
   */
  async #awaitBalanceBody(txn: HttpTxn, t: Txr, o: Exchange): Promise<Uint8Array | null | false> {
    const req = txn.req;
    const balance = o.backend.config.balance;
    if (!waitsForBody(balance, req) || this.#bodyDone) return null;
    const named = o.preferred === null ? undefined : o.backend.pool.server(o.preferred);
    if (named !== undefined && named.up && !named.maint) return null;
    if (req.expectContinue) {
      delHeader(req, "expect");
      req.expectContinue = false;
      const bytes = serializeResponseHead({ status: 100, reason: "Continue" }, []);
      if (!(await this.#writeClient(bytes))) {
        this.#setTerm(t, "C", "R");
        return false;
      }
      t.bytesToClient += bytes.length;
    }
    const host = this.host;
    const rbuf = this.#rbuf;
    const limit = bodyWaitLimit(req);
    const reqMs = host.timeout.httpRequest;
    const deadline = reqMs === null ? 0 : Date.now() + reqMs;
    for (;;) {
      const peek = peekRequestBody(rbuf.view(), req, { limit });
      if (peek.complete) {
        this.#late408 = null;
        // HAProxy's Tq covers the wait.
        t.treq = Date.now() - t.requestDate;
        return httpBodyBalanceKey(balance, peek.data);
      }
      let ms = host.timeout.client;
      if (deadline !== 0) {
        const left = Math.max(0, deadline - Date.now());
        ms = ms === null ? left : Math.min(ms, left);
      }
      // W_HEAD: on expiry the watchdog answers this 408 and closes.
      this.#late408 ??= host.pipeline.errorPage(408, req, { mode: "close", backend: o.backend })
        .bytes;
      const n = await this.#fillTimed(rbuf, this.client, { watch: W_HEAD, ms });
      if (n !== null) {
        this.#received += n;
        host.bytesIn += n;
        continue;
      }
      const page = this.#late408;
      this.#late408 = null;
      if (this.#killed) throw new SessionEnd();
      if (this.#dog.expired === W_HEAD) {
        host.httpCounters.invalid++;
        t.status = 408;
        this.#setTerm(t, "c", "R");
        t.bytesToClient += page.length;
        this.#countStatus(408);
      } else {
        this.#setTerm(t, "C", "R");
        t.treq = Date.now() - t.requestDate;
      }
      return false;
    }
  }

  // ------------------------------------------------------------------ request forwarding

  /**
   * The common case, a request without body: sends its head without waiting (the response read
   * that follows fails anyway when the write fails), which saves an event-loop turn per
   * request. False when the request needs {@linkcode #sendRequest}.
   */
  #sendHeadOnly(head: Uint8Array, req: RequestHead, sc: ServerConn): boolean {
    if (req.bodyKind !== "none" || this.#bodyDone) return false;
    const rbuf = this.#rbuf;
    const ev = this.#parser.execute(rbuf.view());
    rbuf.consume(ev.consumed);
    if (ev.type !== "end") return false;
    this.#bodyDone = true;
    const srv = this.#srv!;
    const pool = this.#backend!.pool;
    const sent = writeAll(sc.conn, head);
    if (sent === WRITTEN) {
      srv.bytesIn += head.length;
      pool.bytesIn += head.length;
    } else {
      sent.then(() => {
        srv.bytesIn += head.length;
        pool.bytesIn += head.length;
      }, () => sc.close());
    }
    return true;
  }

  /**
   * Sends the request head and its body to the server. With `Expect: 100-continue` the body
   * waits for the server's interim response, which is relayed to the client.
   */
  async #sendRequest(
    head: Uint8Array,
    req: RequestHead,
    sc: ServerConn,
    t: Txr,
  ): Promise<"ok" | "client-gone" | "server-error"> {
    const parser = this.#parser;
    const rbuf = this.#rbuf;
    const chunked = req.bodyKind === "chunked";
    const out: Uint8Array[] = [head];
    let outLen = head.length;
    const flush = async (): Promise<boolean> => {
      if (out.length === 0) return true;
      const data = out.length === 1 ? out[0] : concatBytes(out);
      out.length = 0;
      outLen = 0;
      try {
        await writeAll(sc.conn, data);
        this.#srv!.bytesIn += data.length;
        this.#backend!.pool.bytesIn += data.length;
        return true;
      } catch {
        return false;
      }
    };
    if (this.#bodyDone) {
      // A retry: the request (without body) was read already.
      return (await flush()) ? "ok" : "server-error";
    }
    if (req.expectContinue && req.bodyKind !== "none" && rbuf.empty) {
      if (!(await flush())) return "server-error";
      const interim = await this.#awaitContinue(sc, t, req);
      if (interim !== "ok") return interim;
    }
    for (;;) {
      const ev = parser.execute(rbuf.view());
      rbuf.consume(ev.consumed);
      if (ev.type === "body") {
        if (chunked) {
          out.push(chunkHeader(ev.data.length), ev.data, CRLF);
        } else {
          out.push(ev.data);
        }
        outLen += ev.data.length;
        if (outLen >= 65536 && !(await flush())) return "server-error";
        continue;
      }
      if (ev.type === "end") {
        this.#bodyDone = true;
        if (chunked) out.push(ev.trailers === null ? LAST_CHUNK : encodeLastChunk(ev.trailers));
        return (await flush()) ? "ok" : "server-error";
      }
      if (ev.type === "error") {
        // A malformed body (bad chunk): 400 to the client, the server connection is dropped.
        this.#closeServer();
        this.host.httpCounters.invalid++;
        t.status = ev.error.status;
        this.#setTerm(t, "P", "D");
        const bytes = this.host.pipeline.closingErrorPage(ev.error.status);
        if (await this.#writeClient(bytes)) t.bytesToClient += bytes.length;
        throw new SessionEnd();
      }
      if (ev.type === "head") throw new SessionEnd();
      // need_more: send what we have, then read more of the body.
      if (!(await flush())) return "server-error";
      const n = await this.#fillTimed(rbuf, this.client, {
        watch: W_CLIENT,
        ms: this.host.timeout.client,
      });
      if (n === null) {
        this.#setTerm(t, this.#dog.expired === W_CLIENT ? "c" : "C", "D");
        this.#closeServer();
        return "client-gone";
      }
      this.#received += n;
      this.host.bytesIn += n;
    }
  }

  /** Waits for the server's answer to `Expect: 100-continue` and relays a 100 to the client. */
  async #awaitContinue(
    sc: ServerConn,
    t: Txr,
    req: RequestHead,
  ): Promise<"ok" | "client-gone" | "server-error"> {
    const res = await this.#readResponseHead(sc, t, req, true);
    if (typeof res === "string") return "server-error";
    if (res.status === 100) {
      const bytes = serializeResponseHead({ status: 100, reason: res.reason }, []);
      if (!(await this.#writeClient(bytes))) return "client-gone";
      t.bytesToClient += bytes.length;
      return "ok";
    }
    // A final response before the body: forward it after the body as usual (rare); treat the
    // exchange as failed to keep framing simple.
    return "server-error";
  }

  // ------------------------------------------------------------------ response

  /**
   * Reads the next response head from the server (skipping interim 1xx other than 100, which is
   * returned when `interim` is set). Strings report why there is none.
   */
  async #readResponseHead(
    sc: ServerConn,
    t: Txr,
    req: RequestHead,
    interim = false,
  ): Promise<ParsedResponseHead | "timeout" | "closed" | "invalid" | "retry"> {
    const rbuf = sc.rbuf;
    let got = 0;
    this.#dog.arm(W_SERVER, this.#backend!.config.timeout.server, 0);
    try {
      for (;;) {
        const ev = sc.parser.execute(rbuf.view());
        rbuf.consume(ev.consumed);
        if (ev.type === "head") {
          const h = ev.head;
          rbuf.pin(h);
          if (h.interim && !interim) {
            if (h.status === 100 && !req.expectContinue) continue;
            // Other 1xx (103 Early Hints): relay to the client as they come.
            const bytes = serializeResponseHead({ status: h.status, reason: h.reason }, h.headers);
            if (!(await this.#writeClient(bytes))) throw new SessionEnd();
            t.bytesToClient += bytes.length;
            continue;
          }
          return h;
        }
        if (ev.type === "error") return "invalid";
        if (ev.type !== "need_more") return "invalid";
        const n = await rbuf.fill(sc.conn);
        if (n === null) {
          if (this.#dog.expired === W_SERVER) return "timeout";
          if (this.#killed) throw new SessionEnd();
          return got === 0 && sc.reused ? "retry" : "closed";
        }
        got += n;
      }
    } finally {
      this.#dog.disarm();
    }
  }

  /** Forwards the response head and body; returns whether the client connection stays open. */
  async #sendResponse(
    txn: HttpTxn,
    res: ParsedResponseHead,
    t: Txr,
    o: { mode: HttpConnectionMode; be: BackendConfig },
  ): Promise<boolean> {
    const req = txn.req;
    const sc = this.#server!;
    const srv = this.#srv!;
    const pool = this.#backend!.pool;
    t.status = res.status;
    const tunnel = res.bodyKind === "tunnel";
    const clientKeeps = clientKeepsAlive(req, { mode: o.mode });
    let keepClient = !tunnel && clientKeeps && !this.host.stopping && res.bodyKind !== "close";
    // A small fixed-length body goes into room reserved after the head: one allocation, one
    // write, no concatenation.
    const reserve = res.bodyKind === "length" && res.contentLength <= 16384 ? res.contentLength : 0;
    const head = encodeForwardedResponse(res, req, {
      // Closing a connection the client expected to keep: say so.
      mode: !keepClient && !tunnel && clientKeeps ? "close" : o.mode,
      reserve,
    });
    // The head is written: its fields are not needed any more, and the body's reads may
    // overwrite the bytes they point to.
    sc.rbuf.pin(null);
    res.release();
    const headLen = head.length - reserve;
    let filled = 0;
    const chunked = res.bodyKind === "chunked";
    const out: Uint8Array[] = [head.subarray(0, headLen)];
    let outLen = headLen;
    const host = this.host;
    const sent = (n: number) => {
      t.bytesToClient += n;
      srv.bytesOut += n;
      pool.bytesOut += n;
      host.bytesOut += n;
    };
    /** Writes what `out` holds; a promise only when the write has to wait. */
    const flush = (last = false): Promise<void> | null => {
      if (out.length === 0) return null;
      const data = out.length === 1 ? out[0] : concatBytes(out);
      out.length = 0;
      outLen = 0;
      if (last) {
        // The response's last bytes: not awaited (the next client write or read waits for or
        // notices a failure), which saves an event-loop turn per request. The server connection
        // serves others from now on, so a view into its read buffer must not be lent to a write
        // that may still wait: Deno's own sockets (no `writeNow`) hold the bytes until written;
        // ours copy what they queue.
        this.#writeClientLater(
          this.client.writeNow === undefined && data.buffer === sc.rbuf.buf.buffer
            ? data.slice()
            : data,
        );
        sent(data.length);
        return null;
      }
      const p = this.#writeClient(data);
      if (p === WRITTEN_OK) {
        sent(data.length);
        return null;
      }
      return p.then((ok) => {
        if (!ok) {
          this.#setTerm(t, "C", "D");
          throw new SessionEnd();
        }
        sent(data.length);
      });
    };
    if (tunnel) {
      await flush();
      this.#countStatus(res.status);
      await this.#tunnel(sc, t);
      return false;
    }
    const rbuf = sc.rbuf;
    for (;;) {
      const ev = sc.parser.execute(rbuf.view());
      rbuf.consume(ev.consumed);
      if (ev.type === "body") {
        if (
          out.length === 1 && out[0].byteOffset === head.byteOffset &&
          out[0].buffer === head.buffer &&
          filled + ev.data.length <= reserve
        ) {
          head.set(ev.data, headLen + filled);
          filled += ev.data.length;
          out[0] = head.subarray(0, headLen + filled);
        } else if (chunked) out.push(chunkHeader(ev.data.length), ev.data, CRLF);
        else out.push(ev.data);
        outLen += ev.data.length;
        if (outLen >= 65536) await flush();
        continue;
      }
      if (ev.type === "end") {
        if (chunked) out.push(ev.trailers === null ? LAST_CHUNK : encodeLastChunk(ev.trailers));
        const last = flush(keepClient);
        if (last !== null) await last;
        this.#countStatus(res.status);
        const reusable = serverKeepsAlive(res, { mode: o.mode }) && !this.#killed;
        this.#releaseServer(reusable);
        return keepClient;
      }
      if (ev.type === "error") {
        await flush()?.catch(() => {});
        this.#setTerm(t, "S", "D");
        this.#countStatus(res.status);
        keepClient = false;
        throw new SessionEnd();
      }
      if (ev.type === "head") {
        this.#setTerm(t, "S", "D");
        throw new SessionEnd();
      }
      this.#dog.arm(W_CLIENT, host.timeout.client, 0);
      await flush();
      const n = await this.#fillTimed(rbuf, sc.conn, { watch: W_DATA, ms: o.be.timeout.server });
      if (n === null) {
        if (res.bodyKind === "close") {
          sc.parser.eof?.();
          this.#countStatus(res.status);
          this.#closeServer();
          return false;
        }
        this.#setTerm(t, this.#dog.expired === W_DATA ? "s" : "S", "D");
        this.#countStatus(res.status);
        throw new SessionEnd();
      }
    }
  }

  /** Raw bytes both ways after a 101 / CONNECT 2xx, until either side closes. */
  async #tunnel(sc: ServerConn, t: Txr): Promise<void> {
    const client = this.client;
    const pending = this.#rbuf.view();
    if (pending.length > 0) {
      if (!(await tryWriteAll(sc.conn, pending.slice()))) return;
      this.#rbuf.consume(pending.length);
    }
    const leftover = sc.rbuf.view();
    if (leftover.length > 0) {
      if (!(await this.#writeClient(leftover.slice()))) return;
      t.bytesToClient += leftover.length;
      sc.rbuf.consume(leftover.length);
    }
    await tunnel(client, sc.conn, { toClient: (n) => t.bytesToClient += n });
    this.#closeServer();
  }

  // ------------------------------------------------------------------ local responses

  /** Sends a response halb produced (rule, redirect); returns whether the connection stays. */
  async #respondLocal(
    bytes: Uint8Array,
    t: Txr,
    req: RequestHead,
    close: boolean,
  ): Promise<boolean> {
    // The request body (if any) must be consumed before the next request can be parsed.
    const drained = close ? false : this.#bodyDone || await this.#skipBody();
    if (!(await this.#writeClient(bytes))) return false;
    t.bytesToClient += bytes.length;
    this.host.bytesOut += bytes.length;
    this.#countStatus(t.status);
    return !close && drained && !this.host.stopping && req !== null;
  }

  /** Sends HAProxy's error page for `status` (or the backend/frontend errorfile). */
  #respondError(status: number, t: Txr, req: RequestHead, o: Exchange): Promise<boolean> {
    const bytes = this.host.pipeline.errorPage(status, req, o);
    return this.#respondLocal(bytes.bytes, t, req, bytes.close);
  }

  /** Consumes the rest of the current request body (bounded); false when it cannot. */
  async #skipBody(): Promise<boolean> {
    const parser = this.#parser;
    const rbuf = this.#rbuf;
    let budget = 1 << 20;
    for (;;) {
      const ev = parser.execute(rbuf.view());
      rbuf.consume(ev.consumed);
      if (ev.type === "end") {
        this.#bodyDone = true;
        return true;
      }
      if (ev.type === "body") {
        budget -= ev.data.length;
        if (budget < 0) return false;
        continue;
      }
      if (ev.type !== "need_more") return false;
      const n = await this.#fillTimed(rbuf, this.client, {
        watch: W_CLIENT,
        ms: this.host.timeout.client,
      });
      if (n === null) return false;
    }
  }

  // ------------------------------------------------------------------ client writes

  /**
   * Writes to the client after any write still in flight; false when the client is gone. Bytes
   * that must wait for that write are copied: they may be a view into a server connection's
   * read buffer, which goes on to serve another session.
   */
  #writeClient(data: Uint8Array): Promise<boolean> {
    const prev = this.#clientPending;
    if (prev === null) return tryWriteAll(this.client, data);
    this.#clientPending = null;
    const later = data.slice();
    return prev.then((ok) => ok && tryWriteAll(this.client, later));
  }

  /** Starts a client write without waiting; a failure closes the connection. */
  #writeClientLater(data: Uint8Array): void {
    const p = this.#writeClient(data);
    // Written at once (our own sockets): nothing to wait for or to watch.
    if (p === WRITTEN_OK) return;
    this.#clientPending = p;
    p.then((ok) => {
      if (!ok) this.#closeAll();
      // Done: the next write need not wait for (nor copy behind) it.
      if (this.#clientPending === p) this.#clientPending = null;
    });
  }

  // ------------------------------------------------------------------ bookkeeping

  #setTerm(t: Txr, cause: string, phase: string): void {
    if (t.cause === "-") t.cause = cause;
    t.phase = phase;
  }

  #countStatus(status: number): void {
    const cls = Math.trunc(status / 100);
    this.host.httpCounters.responses[cls >= 1 && cls <= 5 ? cls : 0]++;
  }

  /** Frees the server slot; keeps the server connection idle for reuse when `reusable`. */
  #releaseServer(reusable: boolean): void {
    const sc = this.#server;
    this.#server = null;
    if (sc !== null) {
      if (reusable && this.#backend !== null && !this.#closed) this.#backend.idle.put(sc);
      else sc.close();
    }
    const srv = this.#srv;
    if (srv !== null) {
      this.#srv = null;
      this.#backend?.pool.release(srv);
    }
  }

  #closeServer(): void {
    const sc = this.#server;
    this.#server = null;
    sc?.close();
  }

  #log(t: Txr): void {
    const host = this.host;
    if (host.trafficLog === null || t.requestDate === 0) return;
    if (t.requestLine === null && host.dontlognull && this.#received === 0) return;
    const pool = this.#backend?.pool;
    const cause = t.cause;
    const phase = cause === "-" ? "-" : t.phase;
    const record: HttpLogRecord = {
      clientPeer: this.clientPeer,
      requestDate: t.requestDate,
      frontendName: this.#info.ssl ? host.name + "~" : host.name,
      backendName: t.backendName,
      serverName: t.serverName,
      treq: t.treq,
      tw: t.tw,
      tc: t.tc,
      tr: t.tr,
      ta: Date.now() - t.requestDate,
      status: t.status,
      bytesToClient: t.bytesToClient,
      termination: cause + phase + t.cookie,
      actconn: host.global.cur,
      feconn: host.limit.cur,
      beconn: pool?.cur ?? 0,
      srvconn: pool?.server(t.serverName ?? "")?.cur ?? 0,
      retries: t.retries,
      redispatched: t.redispatched,
      srvQueue: t.srvQueue,
      backendQueue: t.backendQueue,
      requestLine: t.requestLine,
    };
    host.trafficLog(formatHttpLog(record), record);
    t.requestDate = 0;
  }

  // ------------------------------------------------------------------ watchdog

  /** One read under the watchdog: `watch` armed with `ms` while it waits. */
  async #fillTimed(
    rbuf: ReadBuffer,
    conn: ClientConn,
    o: { watch: Watch; ms: number | null },
  ): Promise<number | null> {
    this.#dog.arm(o.watch, o.ms, 0);
    const n = await rbuf.fill(conn);
    this.#dog.disarm();
    return n;
  }

  /** A phase ran out of time: close the side that is late (which wakes its pending read). */
  #onExpire(watch: Watch): void {
    if (this.#closed) return;
    switch (watch) {
      case W_IDLE:
        this.#closeAll();
        break;
      case W_HEAD: {
        const client = this.client;
        this.#closed = true;
        const page = this.#late408 ?? this.host.pipeline.closingErrorPage(408);
        this.#writeClient(page).finally(() => closeQuietly(client));
        this.#server?.close();
        break;
      }
      case W_SERVER:
      case W_DATA:
        this.#server?.close();
        if (watch === W_DATA) closeQuietly(this.client);
        break;
      case W_CLIENT:
        this.#closeAll();
        break;
    }
  }

  #closeAll(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.client);
    this.#server?.close();
  }

  async #finish(): Promise<void> {
    // The last response may still be on its way out.
    if (this.#clientPending !== null) await this.#clientPending;
    this.#dog.stop();
    this.#releaseServer(false);
    if (!this.#closed) {
      this.#closed = true;
      closeQuietly(this.client);
    }
    this.#rbuf.release();
    this.host.sessionDone(this);
  }
}
