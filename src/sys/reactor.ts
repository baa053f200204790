/**
 * The proxy's event loop for its own TCP sockets: one edge-triggered epoll set per isolate.
 *
 * Why: a Deno socket read or write is an async op, and each op costs more on the JS thread than
 * the system call under it. Here the system calls are made synchronously through FFI, and only a
 * wait for readiness crosses to Deno's blocking pool — and only when nothing is ready. Under load
 * the loop runs `epoll_wait(…, 0)` on the JS thread, dispatches, lets the promise reactions run
 * (a microtask) and goes again; every {@linkcode FAIR_BATCHES} batches it gives Deno's event
 * loop a whole turn, so Deno's own work (timers, signals, admin, health checks, TLS) keeps going,
 * and it looks a few turns more before it sleeps in the pool. It never blocks the JS thread.
 *
 * Registrations are edge-triggered for input, output and peer shutdown at once, so no
 * `epoll_ctl(MOD)` is ever needed; a closed fd leaves the set by itself. Each registration gets
 * its own token (the epoll user data), so an event that races a close and a reused fd number
 * finds nothing rather than the wrong socket. The loop ends when the last watcher is removed, so
 * an idle process (or a test) has no pending call left behind.
 *
 * @module
 */
import {
  closeFd,
  drainEventFd,
  errno,
  libc,
  openEventFd,
  signalEventFd,
  sysError,
} from "./libc.ts";

/** `EPOLLIN`. */
export const EPOLLIN = 0x1;
/** `EPOLLOUT`. */
export const EPOLLOUT = 0x4;
/** `EPOLLERR`. */
export const EPOLLERR = 0x8;
/** `EPOLLHUP`. */
export const EPOLLHUP = 0x10;
/** `EPOLLRDHUP` (the peer shut down its side). */
export const EPOLLRDHUP = 0x2000;
const EPOLLET = 0x80000000;
const EPOLL_CTL_ADD = 1;
const EPOLL_CLOEXEC = 0x80000;
const EINTR = 4;

/** Batches handled on the JS thread before Deno's event loop gets a turn. */
export const FAIR_BATCHES = 8;
/** Empty looks, each after a turn of Deno's loop, before the loop sleeps in the pool. */
const SPIN_TURNS = 8;
/** Longest wait in the pool while idle (bounds how long a lost wakeup could last). */
const IDLE_WAIT_MS = 1000;
const MAX_EVENTS = 256;
/**
 * `struct epoll_event` is u32 events + u64 data: packed on x86_64 (12 bytes, data at 4), natural
 * alignment elsewhere, e.g. aarch64 (16 bytes, data at 8).
 */
const PACKED = Deno.build.arch === "x86_64";
const EVENT_SIZE = PACKED ? 12 : 16;
const DATA_OFFSET = PACKED ? 4 : 8;

/** Something registered with the reactor; called on the JS thread with the epoll event bits. */
export interface Watcher {
  onReady(events: number): void;
}

/** One epoll set and its loop (see the module doc). Use {@linkcode reactor} for the isolate's. */
export class Reactor {
  readonly #ep: number;
  readonly #wakeFd: number;
  readonly #watchers = new Map<number, Watcher>();
  #nextToken = 1;
  #running = false;
  readonly #ctl = new Uint8Array(EVENT_SIZE);
  readonly #ctlView = new DataView(this.#ctl.buffer);
  readonly #events = new Uint8Array(EVENT_SIZE * MAX_EVENTS);
  readonly #eventsView = new DataView(this.#events.buffer);
  /** A second buffer for the pool's wait: it must stay untouched while that call runs. */
  readonly #poolEvents = new Uint8Array(EVENT_SIZE * MAX_EVENTS);
  readonly #poolEventsView = new DataView(this.#poolEvents.buffer);
  /**
   * Called when a watcher throws (its socket is the watcher's business; the loop goes on) or
   * the loop itself fails (it restarts with the next registration). Default: see
   * {@linkcode setReactorErrorHandler}.
   */
  onError: (error: unknown) => void = errorHandler;

  /** Opens the epoll set and its wakeup eventfd; throws FfiUnavailableError/SysError. */
  constructor() {
    const ep = libc().epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) throw sysError("epoll_create1");
    this.#ep = ep;
    this.#wakeFd = openEventFd();
    // Token 0 is the wakeup fd; level-triggered, drained when seen.
    this.#register(this.#wakeFd, 0, EPOLLIN);
  }

  /** Number of registered watchers. */
  get size(): number {
    return this.#watchers.size;
  }

  /** Registers `fd` (edge-triggered in, out and peer shutdown); returns its token. */
  add(fd: number, watcher: Watcher): number {
    const token = this.#nextToken;
    this.#nextToken = token >= 0x7fffffff ? 1 : token + 1;
    this.#register(fd, token, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
    this.#watchers.set(token, watcher);
    if (!this.#running) {
      this.#running = true;
      this.#loop().catch(this.onError);
    }
    return token;
  }

  /**
   * Forgets a token. Call it before closing the fd (the close itself removes the fd from the
   * set). The last removal ends the loop.
   */
  remove(token: number): void {
    if (this.#watchers.delete(token) && this.#watchers.size === 0) signalEventFd(this.#wakeFd);
  }

  #register(fd: number, token: number, events: number): void {
    const v = this.#ctlView;
    v.setUint32(0, events >>> 0, true);
    v.setUint32(DATA_OFFSET, token, true);
    v.setUint32(DATA_OFFSET + 4, 0, true);
    if (libc().epoll_ctl(this.#ep, EPOLL_CTL_ADD, fd, this.#ctl) < 0) {
      throw sysError(`epoll_ctl(ADD, ${fd})`);
    }
  }

  async #loop(): Promise<void> {
    const c = libc();
    const turn = eventLoopTurn();
    let batches = 0;
    let emptyTurns = 0;
    try {
      while (this.#watchers.size > 0) {
        const n = c.epoll_wait(this.#ep, this.#events, MAX_EVENTS, 0);
        if (n > 0) {
          emptyTurns = 0;
          this.#dispatch(this.#eventsView, n);
          // Let this batch's promise reactions run; now and then a whole turn of Deno's loop.
          if (++batches % FAIR_BATCHES === 0) await turn.next();
          else await null;
          continue;
        }
        if (n < 0 && errno() !== EINTR) throw sysError("epoll_wait");
        if (emptyTurns < SPIN_TURNS) {
          // Nothing ready yet, but the reactions of the last batch may still be about to write,
          // and under load the next event is microseconds away: a few turns of Deno's loop
          // (~3 µs each) cost less than sleeping in the pool, whose wakeup is two thread
          // switches. Measured with one client connection: p50 320 → 230 µs (HAProxy 225).
          emptyTurns++;
          await turn.next();
          continue;
        }
        emptyTurns = 0;
        // Never wait on the JS thread itself: promise reactions of this isolate may still be
        // queued behind this one (a message turn is not a barrier for them), and a blocked
        // thread would hold them back — measured: 2 ms of latency per request.
        const m = await c.epoll_wait_blocking(this.#ep, this.#poolEvents, MAX_EVENTS, IDLE_WAIT_MS);
        // errno of a pool call is lost; -1 there is EINTR in practice: just go round.
        if (m > 0) this.#dispatch(this.#poolEventsView, m);
      }
    } finally {
      // The next add() starts a new loop (after a failure too: it is reported through onError).
      this.#running = false;
      turn.close();
      drainEventFd(this.#wakeFd);
    }
  }

  #dispatch(view: DataView, n: number): void {
    for (let i = 0; i < n; i++) {
      const off = i * EVENT_SIZE;
      const token = view.getUint32(off + DATA_OFFSET, true);
      if (token === 0) {
        drainEventFd(this.#wakeFd);
        continue;
      }
      const watcher = this.#watchers.get(token);
      if (watcher === undefined) continue;
      try {
        watcher.onReady(view.getUint32(off, true));
      } catch (err) {
        this.onError(err);
      }
    }
  }

  /** Closes the epoll set (only once the loop has ended and no watcher is left; for tests). */
  close(): void {
    if (this.#watchers.size > 0 || this.#running) throw new Error("reactor still running");
    closeFd(this.#wakeFd);
    closeFd(this.#ep);
  }
}

/**
 * One turn of Deno's event loop, as cheaply as it comes: a message to ourselves over a
 * `MessageChannel` (~3 µs here) runs every pending microtask and lets Deno poll its ops and
 * timers once. (`setTimeout(0)` took ~2 ms; a round trip through the blocking pool ~25-60 µs.)
 */
function eventLoopTurn(): { next(): Promise<void>; close(): void } {
  const channel = new MessageChannel();
  let wake: (() => void) | null = null;
  channel.port1.onmessage = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  return {
    next() {
      const { promise, resolve } = Promise.withResolvers<void>();
      wake = resolve;
      channel.port2.postMessage(null);
      return promise;
    },
    close() {
      channel.port1.close();
      channel.port2.close();
    },
  };
}

let errorHandler: (error: unknown) => void = () => {};

/** Where reactors created from now on (and this isolate's, if it exists) report failures. */
export function setReactorErrorHandler(handler: (error: unknown) => void): void {
  errorHandler = handler;
  if (shared !== null) shared.onError = handler;
}

let shared: Reactor | null = null;

/** This isolate's reactor, created on first use; throws FfiUnavailableError without FFI. */
export function reactor(): Reactor {
  shared ??= new Reactor();
  return shared;
}
