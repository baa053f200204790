/**
 * One poll loop for every raw fd (VRRP sockets, netlink monitor, …): it owns an eventfd for wakeups,
 * runs the only nonblocking libc call (`poll`, bounded timeout) and calls each readable fd's
 * callback on the JS thread, where the callback drains the fd with synchronous nonblocking reads.
 *
 * @module
 */
import {
  closeFd,
  drainEventFd,
  openEventFd,
  pollAsync,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  signalEventFd,
} from "./libc.ts";
import { alloc } from "./sockaddr.ts";

/** Options for {@linkcode Poller}. */
export interface PollerOptions {
  /** Poll timeout in ms, clamped to 250–1000; default 500. Bounds how long `stop` can take. */
  timeoutMs?: number;
  /**
   * Called when a callback throws, an fd turns invalid (it is then removed) or the loop itself
   * fails (`fd` is the eventfd; the loop has stopped). Default: ignore.
   */
  onError?: (fd: number, error: unknown) => void;
}

/** Calls registered callbacks when their fds become readable. */
export class Poller {
  readonly #timeoutMs: number;
  readonly #onError: (fd: number, error: unknown) => void;
  readonly #callbacks = new Map<number, () => void>();
  #run: { wakeFd: number; running: boolean; done: Promise<void> } | null = null;

  /** Creates a stopped poller; no FFI is touched until {@linkcode Poller.start}. */
  constructor(options: PollerOptions = {}) {
    this.#timeoutMs = Math.min(1000, Math.max(250, options.timeoutMs ?? 500));
    this.#onError = options.onError ?? (() => {});
  }

  /** Whether the loop is running. */
  get running(): boolean {
    return this.#run?.running ?? false;
  }

  /** Registers (or replaces) the callback for `fd`; takes effect at once (the poll is woken). */
  add(fd: number, onReadable: () => void): void {
    this.#callbacks.set(fd, onReadable);
    this.wake();
  }

  /** Unregisters `fd`; call it before closing the fd. */
  remove(fd: number): void {
    if (this.#callbacks.delete(fd)) this.wake();
  }

  /** Interrupts the current poll so the fd set is rebuilt. */
  wake(): void {
    if (this.#run?.running) signalEventFd(this.#run.wakeFd);
  }

  /** Starts the loop (idempotent); throws `FfiUnavailableError`/`SysError` if eventfd fails. */
  start(): void {
    if (this.#run?.running) return;
    const run = { wakeFd: openEventFd(), running: true, done: Promise.resolve() };
    run.done = this.#loop(run);
    this.#run = run;
  }

  /** Stops the loop: wakes the poll and resolves once it has returned and the eventfd is closed. */
  async stop(): Promise<void> {
    const run = this.#run;
    if (!run) return;
    if (run.running) {
      run.running = false;
      signalEventFd(run.wakeFd);
    }
    await run.done;
  }

  async #loop(run: { wakeFd: number; running: boolean }): Promise<void> {
    try {
      while (run.running) {
        const fds = [run.wakeFd, ...this.#callbacks.keys()];
        const pollfds = alloc(8 * fds.length);
        const view = new DataView(pollfds.buffer);
        fds.forEach((fd, i) => {
          view.setInt32(8 * i, fd, true);
          view.setInt16(8 * i + 4, POLLIN, true);
        });
        const ready = await pollAsync(pollfds, fds.length, this.#timeoutMs);
        if (!run.running) break;
        if (ready <= 0) continue;
        if (view.getInt16(6, true) & POLLIN) drainEventFd(run.wakeFd);
        for (let i = 1; i < fds.length; i++) {
          const revents = view.getInt16(8 * i + 6, true);
          if (revents === 0) continue;
          const fd = fds[i];
          const callback = this.#callbacks.get(fd);
          if (!callback) continue;
          if (revents & POLLNVAL) {
            this.#callbacks.delete(fd);
            this.#onError(
              fd,
              new Error(`fd ${fd} is not open (POLLNVAL); removed from the poller`),
            );
            continue;
          }
          if (revents & (POLLIN | POLLERR | POLLHUP)) {
            try {
              callback();
            } catch (err) {
              this.#onError(fd, err);
            }
          }
        }
      }
    } catch (err) {
      this.#onError(run.wakeFd, err);
    } finally {
      run.running = false;
      closeFd(run.wakeFd);
    }
  }
}
