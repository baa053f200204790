/**
 * Listening sockets and their accept loops, kept apart from what handles the connections so a
 * listener can outlive one proxy generation and be handed to the next on reload. A listener asks
 * its {@linkcode AcceptHandler} before each accept: while the handler is at its `maxconn` (or
 * there is no handler) the loop does not call accept, so excess connections wait in the kernel's
 * listen backlog, as with HAProxy. Also holds {@linkcode ConnLimit}, the counting limit behind
 * frontend and global `maxconn`.
 *
 * @module
 */
import type { BindConfig, ListenAddress } from "../config/types.ts";
import type { ClientConn } from "./io.ts";
import { TlsListener } from "./tls.ts";
import { SysError } from "../sys/errors.ts";
import { nativeTcpAvailable, TcpListener } from "../sys/tcp.ts";

/** A listening socket: plain `Deno.Listener` or a {@linkcode TlsListener}. */
export interface Acceptor {
  accept(): Promise<ClientConn>;
  close(): void;
  readonly addr: Deno.Addr;
}

/** A counting limit (`maxconn`); `max` 0 means unlimited. Waiters wake when a slot frees. */
export class ConnLimit {
  max: number;
  /** Slots in use. */
  cur = 0;
  /** Highest `cur` seen. */
  peak = 0;
  #waiters: (() => void)[] = [];

  constructor(max: number) {
    this.max = max;
  }

  /** True when one more connection fits. */
  hasRoom(): boolean {
    return this.max <= 0 || this.cur < this.max;
  }

  /** Takes a slot (the caller checked {@linkcode hasRoom}, or accepts a brief overshoot). */
  take(): void {
    if (++this.cur > this.peak) this.peak = this.cur;
  }

  /** Frees a slot and wakes the waiters. */
  release(): void {
    this.cur--;
    if (this.#waiters.length > 0) this.wakeAll();
  }

  /** Resolves the next time a slot frees (or {@linkcode wakeAll} is called). */
  whenRoom(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.push(resolve);
    return promise;
  }

  /** Wakes every waiter (they re-check). */
  wakeAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** What a listener hands its connections to (one frontend of one proxy generation). */
export interface AcceptHandler {
  /** Null when a connection may be accepted now; else resolves when it may be re-asked. */
  admit(): Promise<void> | null;
  /** Takes ownership of an accepted connection. Must not throw. */
  accept(conn: ClientConn, listener: BoundListener): void;
}

/** The key under which a listener can be reused: its normalized address. */
export function bindKey(address: ListenAddress): string {
  if (address.kind === "unix") return "unix@" + address.path;
  return (address.family === 6 ? "[" + address.host + "]" : address.host) + ":" + address.port;
}

/** An open listening socket with its accept loop. */
export class BoundListener {
  readonly key: string;
  /** The bind it serves; a reload may give a TLS listener new certificates. */
  bind: BindConfig;
  readonly listener: Acceptor;
  /** The bound address (the real port when 0 was asked). */
  readonly addr: Deno.Addr;
  /** 1-based id within its frontend, HAProxy's listener id (used for unix peers in logs). */
  readonly id: number;
  #handler: AcceptHandler | null = null;
  #handlerSet: (() => void) | null = null;
  #closed = false;
  #closedSignal = Promise.withResolvers<void>();
  /** Resolves when the accept loop has ended (after {@linkcode close}). */
  readonly done: Promise<void>;

  constructor(bind: BindConfig, listener: Acceptor, id: number) {
    this.key = bindKey(bind.address);
    this.bind = bind;
    this.listener = listener;
    this.addr = listener.addr;
    this.id = id;
    this.done = this.#loop();
  }

  /** True once {@linkcode close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Reload: adopts `bind` (same address and kind). A TLS listener switches to its certificates
   * for new handshakes; returns true when something changed.
   */
  updateBind(bind: BindConfig): boolean {
    const changed = JSON.stringify(bind.tls) !== JSON.stringify(this.bind.tls);
    this.bind = bind;
    if (changed && bind.tls !== null && this.listener instanceof TlsListener) {
      this.listener.setCertificates(bind.tls.certificates);
    }
    return changed;
  }

  /** Routes new connections to `handler`; null pauses accepting. */
  setHandler(handler: AcceptHandler | null): void {
    this.#handler = handler;
    const wake = this.#handlerSet;
    this.#handlerSet = null;
    wake?.();
  }

  /** Stops accepting and closes the socket (pending connections in the backlog are reset). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closedSignal.resolve();
    this.setHandler(null);
    try {
      this.listener.close();
    } catch {
      // already closed
    }
  }

  async #loop(): Promise<void> {
    // A connection accepted just as the handler was removed waits here for the next handler.
    let orphan: ClientConn | null = null;
    while (!this.#closed) {
      const handler = this.#handler;
      if (handler === null) {
        const { promise, resolve } = Promise.withResolvers<void>();
        this.#handlerSet = resolve;
        await Promise.race([promise, this.#closedSignal.promise]);
        continue;
      }
      if (orphan !== null) {
        deliver(handler, orphan, this);
        orphan = null;
      }
      const wait = handler.admit();
      if (wait !== null) {
        await Promise.race([wait, this.#closedSignal.promise]);
        continue;
      }
      let conn: ClientConn;
      try {
        conn = await this.listener.accept();
      } catch {
        if (this.#closed) break;
        // EMFILE/ENFILE and the like: back off a little instead of spinning.
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (this.#handler === null) orphan = conn;
      else deliver(this.#handler, conn, this);
    }
    if (orphan !== null) orphan.close();
  }
}

/** Hands a connection over; a throwing handler costs that connection, never the loop. */
function deliver(handler: AcceptHandler, conn: ClientConn, listener: BoundListener): void {
  try {
    handler.accept(conn, listener);
  } catch {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

/** Failure to bind, with the errno-style reason in words. */
export class BindError extends Error {
  constructor(address: ListenAddress, cause: unknown) {
    super(`cannot bind ${address.text}: ${describeBindError(cause)}`, { cause });
    this.name = "BindError";
  }
}

function describeBindError(e: unknown): string {
  if (e instanceof Deno.errors.AddrInUse) return "address already in use";
  if (e instanceof Deno.errors.AddrNotAvailable) return "address not available";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof SysError) {
    if (e.code === "EADDRINUSE") return "address already in use";
    if (e.code === "EADDRNOTAVAIL") return "address not available";
    if (e.code === "EACCES" || e.code === "EPERM") return "permission denied";
  }
  return e instanceof Error ? e.message : String(e);
}

/**
 * Opens the socket for one bind (TCP, TLS with its certificate list, or a unix socket).
 * `reusePort` lets proxy threads share a plain TCP port (SO_REUSEPORT).
 */
export async function bindListener(
  bind: BindConfig,
  id: number,
  options: { reusePort?: boolean } = {},
): Promise<BoundListener> {
  const address = bind.address;
  let listener: Acceptor;
  try {
    if (address.kind === "unix") {
      await removeStaleSocket(address.path);
      listener = Deno.listen({ transport: "unix", path: address.path });
    } else if (bind.tls !== null && bind.tls.certificates.length > 0) {
      listener = await TlsListener.listen(bind);
    } else if (nativeTcpAvailable()) {
      listener = new TcpListener({
        host: address.host,
        port: address.port,
        reusePort: options.reusePort ?? false,
      });
    } else {
      listener = Deno.listen({
        hostname: address.host,
        port: address.port,
        reusePort: options.reusePort ?? false,
      });
    }
  } catch (e) {
    throw new BindError(address, e);
  }
  return new BoundListener(bind, listener, id);
}

async function removeStaleSocket(path: string): Promise<void> {
  try {
    const st = await Deno.lstat(path);
    if (st.isSocket) await Deno.remove(path);
  } catch {
    // absent: nothing to do
  }
}

/** True for a bind every proxy thread can open too: plain TCP (SO_REUSEPORT), not TLS or unix. */
export function shareableBind(bind: BindConfig): boolean {
  return bind.address.kind === "inet" && bind.tls === null;
}
