/**
 * Getting a server connection for a session, the same for both engines and as HAProxy does it:
 * a slot from the backend's {@linkcode ServerPool} (persistence or balancing; waiting in a queue
 * when servers are full, bounded by `timeout queue`), then a connection within `timeout
 * connect` (or an idle one the caller can reuse), with `retries` separated by min(connect, 1 s)
 * pauses and, with `redispatch`, the last retry on another server. The session's log fields
 * (`%Tw`, `%Tc`, `%rc`, `%sq`/`%bq`, the server name) are filled in as it goes.
 *
 * @module
 */
import type { ServerConfig } from "../config/types.ts";
import type { ByteConn } from "./io.ts";
import type { AssignFailure, PoolServer, ServerPool } from "./server_pool.ts";
import { QueueTicket } from "./server_pool.ts";
import { connectTls } from "./tls.ts";
import { cancelDeadline, scheduleDeadline } from "./deadlines.ts";
import { connectTcp, isIpLiteral, nativeTcpAvailable } from "../sys/tcp.ts";

/** The log fields {@linkcode establish} fills (both engines' records have them). */
export interface EstablishRecord {
  tw: number;
  tc: number;
  retries: number;
  redispatched: boolean;
  srvQueue: number;
  backendQueue: number;
  serverName: string | null;
}

/** Options of {@linkcode establish}. */
export interface EstablishOptions<C> {
  pool: ServerPool;
  record: EstablishRecord;
  /** Aborted when the session is killed. */
  signal: AbortSignal;
  /** A slot: `pool.assign(key, avoid)`, or a persistence target first. */
  pick(avoid: PoolServer | undefined): PoolServer | QueueTicket | AssignFailure;
  /** Opens a connection to `server` within `timeout connect`. */
  connect(server: PoolServer, signal: AbortSignal): Promise<C | "timeout" | "error">;
  /** An idle connection to `server` to use instead of connecting, or null. */
  reuse?(server: PoolServer): C | null;
  /** The queue ticket while waiting in a queue (a kill cancels it), then null. */
  onTicket(ticket: QueueTicket | null): void;
  /** Entering the queue ("Q") or connect ("C") phase. */
  onPhase(phase: "Q" | "C"): void;
}

/** What {@linkcode establish} ends with; `server` holds a slot the caller must release. */
export type Established<C> =
  | { readonly kind: "ok"; readonly server: PoolServer; readonly conn: C; readonly reused: boolean }
  /** `cause`/`phase`: HAProxy's termination letters (e.g. S/C no server or refused, s/Q queue
   * timeout, s/C connect timeout). */
  | {
    readonly kind: "fail";
    readonly server: PoolServer | null;
    readonly cause: "S" | "s";
    readonly phase: "C" | "Q";
  }
  | { readonly kind: "killed"; readonly server: PoolServer | null };

/**
 * Assigns a server and connects (see the module doc). The common case under load — a slot at
 * once and an idle connection to reuse — completes synchronously (no promise, no event-loop
 * turn); anything that has to wait returns a promise.
 */
export function establish<C extends { close(): void }>(
  o: EstablishOptions<C>,
): Established<C> | Promise<Established<C>> {
  o.record.tw = 0;
  const start = Date.now();
  const got = o.pick(undefined);
  if (typeof got === "string" || got instanceof QueueTicket) return connectLoop(o, start, got);
  o.record.serverName = got.name;
  const idle = o.reuse?.(got) ?? null;
  if (idle === null) return connectLoop(o, start, got);
  o.record.tc = 0;
  return { kind: "ok", server: got, conn: idle, reused: true };
}

/** The rest of {@linkcode establish}, from the first pick's result. */
async function connectLoop<C extends { close(): void }>(
  o: EstablishOptions<C>,
  start: number,
  first: PoolServer | QueueTicket | AssignFailure,
): Promise<Established<C>> {
  const { pool, record, signal } = o;
  const be = pool.backend;
  let connectStart = -1;
  let avoid: PoolServer | undefined;
  let left = be.retries;
  let srv: PoolServer | null = null;
  let picked: PoolServer | QueueTicket | AssignFailure | null = first;
  for (;;) {
    if (srv === null) {
      const got = await slot(o, picked ?? o.pick(avoid), start);
      picked = null;
      if (got.kind !== "ok") return got;
      srv = got.server;
    }
    const idle = o.reuse?.(srv) ?? null;
    if (idle !== null) {
      if (connectStart < 0) record.tc = 0;
      return { kind: "ok", server: srv, conn: idle, reused: true };
    }
    if (connectStart < 0) connectStart = Date.now();
    o.onPhase("C");
    const result = await o.connect(srv, signal);
    if (signal.aborted) {
      if (typeof result !== "string") result.close();
      return { kind: "killed", server: srv };
    }
    if (typeof result !== "string") {
      record.tc = Date.now() - connectStart;
      return { kind: "ok", server: srv, conn: result, reused: false };
    }
    if (left === 0) {
      srv.connectErrors++;
      pool.connectErrors++;
      return { kind: "fail", server: srv, cause: result === "timeout" ? "s" : "S", phase: "C" };
    }
    left--;
    record.retries++;
    srv.retries++;
    pool.retries++;
    if (be.redispatch && left === 0 && pool.servers.length > 1) {
      srv.redispatches++;
      pool.redispatches++;
      record.redispatched = true;
      pool.release(srv);
      avoid = srv;
      srv = null;
      continue;
    }
    await sleep(Math.min(be.timeout.connect ?? 1000, 1000), signal);
    if (signal.aborted) return { kind: "killed", server: srv };
  }
}

/** One slot from a pick's result: at once, after a queue wait, or a failure. */
async function slot<C>(
  o: EstablishOptions<C>,
  got: PoolServer | QueueTicket | AssignFailure,
  start: number,
): Promise<
  | { kind: "ok"; server: PoolServer }
  | { kind: "fail"; server: null; cause: "S" | "s"; phase: "C" | "Q" }
  | { kind: "killed"; server: null }
> {
  const { pool, record } = o;
  if (got === "no-server" || got === "queue-full") {
    pool.noServer++;
    return { kind: "fail", server: null, cause: "S", phase: got === "queue-full" ? "Q" : "C" };
  }
  let server: PoolServer;
  if (got instanceof QueueTicket) {
    o.onPhase("Q");
    o.onTicket(got);
    const srv = await got.promise;
    o.onTicket(null);
    record.tw = Date.now() - start;
    if (got.srvQueuePos > 0) record.srvQueue = got.srvQueuePos;
    if (got.backendQueuePos > 0) record.backendQueue = got.backendQueuePos;
    if (o.signal.aborted) {
      if (srv !== null) pool.release(srv);
      return { kind: "killed", server: null };
    }
    if (srv === null) {
      pool.noServer++;
      return { kind: "fail", server: null, cause: "s", phase: "Q" };
    }
    server = srv;
  } else {
    server = got;
  }
  record.serverName = server.name;
  return { kind: "ok", server };
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/**
 * Opens a connection to a server (TLS when it has `ssl`) within `timeoutMs` (null: no limit);
 * `signal` aborts it (the session was killed).
 */
export async function dialServer(
  cfg: ServerConfig,
  options: { timeoutMs: number | null; signal: AbortSignal },
): Promise<ByteConn | "timeout" | "error"> {
  const ac = new AbortController();
  const onAbort = () => ac.abort("killed");
  options.signal.addEventListener("abort", onAbort);
  const ms = options.timeoutMs;
  const timer = ms !== null ? scheduleDeadline(Date.now() + ms, () => ac.abort("timeout")) : null;
  try {
    if (cfg.ssl) return await connectTls(cfg, ac.signal);
    if (nativeTcpAvailable() && isIpLiteral(cfg.address.host)) {
      return await connectTcp(cfg.address.host, cfg.address.port, { signal: ac.signal });
    }
    const tcp = await Deno.connect({
      hostname: cfg.address.host,
      port: cfg.address.port,
      signal: ac.signal,
    });
    tcp.setNoDelay(true);
    return tcp;
  } catch {
    return ac.signal.aborted && ac.signal.reason === "timeout" ? "timeout" : "error";
  } finally {
    if (timer !== null) cancelDeadline(timer);
    options.signal.removeEventListener("abort", onAbort);
  }
}
