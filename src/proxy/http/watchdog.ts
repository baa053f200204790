/**
 * The one timer of an HTTP client connection. The session arms it with the deadline of the phase
 * it is in (waiting for a request, receiving a head, waiting for the server, moving data); the
 * timer is rescheduled only when a deadline comes earlier than the one scheduled, so re-arming on
 * every request costs a comparison. On expiry the owner's callback learns which phase was late.
 * Its deadline lives in the shared heap of `deadlines.ts`.
 *
 * @module
 */

import { cancelDeadline, type Deadline, scheduleDeadline } from "../deadlines.ts";

/** No deadline. */
export const W_NONE = 0;
/** Waiting for the next request, nothing received yet: a silent close. */
export const W_IDLE = 1;
/** Receiving a request head: 408. */
export const W_HEAD = 2;
/** Client inactivity (body, writes): `cD`. */
export const W_CLIENT = 3;
/** Waiting for the server's response head: 504. */
export const W_SERVER = 4;
/** Data phase, either side's inactivity. */
export const W_DATA = 5;

/** A phase the watchdog times. */
export type Watch =
  | typeof W_NONE
  | typeof W_IDLE
  | typeof W_HEAD
  | typeof W_CLIENT
  | typeof W_SERVER
  | typeof W_DATA;

/** A lazily rescheduled deadline timer (see the module doc). */
export class Watchdog {
  /** The phase being timed. */
  watch: Watch = W_NONE;
  /** The phase whose deadline passed last, W_NONE since the last `arm`. */
  expired: Watch = W_NONE;
  #deadline = 0;
  #timer: Deadline | null = null;
  #stopped = false;
  readonly #onExpire: (watch: Watch) => void;
  readonly #onTimer = () => this.#check();

  constructor(onExpire: (watch: Watch) => void) {
    this.#onExpire = onExpire;
  }

  /** Times `watch` for `ms` (null: no limit) from `from` (epoch ms; 0 means now). */
  arm(watch: Watch, ms: number | null, from: number): void {
    this.watch = watch;
    this.expired = W_NONE;
    if (ms === null) {
      this.#deadline = 0;
      return;
    }
    const deadline = (from || Date.now()) + ms;
    this.#deadline = deadline;
    if (this.#timer === null || this.#timer.at > deadline) {
      if (this.#timer !== null) cancelDeadline(this.#timer);
      this.#timer = scheduleDeadline(deadline, this.#onTimer);
    }
  }

  /** The phase ended in time (an idle wait stays the phase until the next `arm`). */
  disarm(): void {
    if (this.watch !== W_IDLE) this.watch = W_NONE;
    this.#deadline = 0;
  }

  /** Cancels the timer for good. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) cancelDeadline(this.#timer);
    this.#timer = null;
  }

  #check(): void {
    this.#timer = null;
    if (this.#stopped || this.#deadline === 0) return;
    if (Date.now() < this.#deadline) {
      this.#timer = scheduleDeadline(this.#deadline, this.#onTimer);
      return;
    }
    const watch = this.watch;
    this.expired = watch;
    this.#deadline = 0;
    this.#onExpire(watch);
  }
}
