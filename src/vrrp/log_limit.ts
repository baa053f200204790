/**
 * A pure rate limiter for log lines such as "advert dropped: reason": at most one line per key
 * (e.g. `${instance}:${reason}`) per interval, counting the lines it suppressed so the next
 * emitted line can say "(N similar suppressed)". RFC 9568 asks for rate-limited logs of invalid
 * adverts; keepalived floods (ka#255, ka#2444).
 *
 * @module
 */

/** Per-key bookkeeping. */
export interface LogLimitEntry {
  /** When the last line for this key was emitted (same clock as `now`). */
  readonly lastAt: number;
  /** Lines suppressed since then. */
  readonly suppressed: number;
}

/** The limiter state: an immutable map from key to entry. */
export type LogLimitState = ReadonlyMap<string, LogLimitEntry>;

/** Inputs of {@linkcode rateLimit}. */
export interface RateLimitOptions {
  /** What to limit by, e.g. `"VI_1:vip-missing"`. */
  readonly key: string;
  /** The current time (any monotonic unit). */
  readonly now: number;
  /** Minimum time between two lines of one key, in the unit of `now`. */
  readonly interval: number;
}

/** Result of {@linkcode rateLimit}. */
export interface RateLimitResult {
  readonly state: LogLimitState;
  /** Whether to log this line now. */
  readonly emit: boolean;
  /** When emitting: how many lines of this key were suppressed since the previous one. */
  readonly suppressed: number;
}

/**
 * Decides whether a line for `key` may be logged at `now`.
 *
 * @param state the limiter state (start with `new Map()`)
 * @param options the key, the current time and the interval
 * @returns the new state, whether to emit, and the suppressed count to report
 * @example
 * ```ts
 * let st: LogLimitState = new Map();
 * const a = rateLimit(st, { key: "VI_1:ttl", now: 0, interval: 10_000_000 }); // emit
 * st = a.state;
 * rateLimit(st, { key: "VI_1:ttl", now: 1, interval: 10_000_000 }).emit; // false
 * ```
 */
export function rateLimit(state: LogLimitState, options: RateLimitOptions): RateLimitResult {
  const { key, now } = options;
  const entry = state.get(key);
  const next = new Map(state);
  if (entry === undefined || now - entry.lastAt >= options.interval) {
    next.set(key, { lastAt: now, suppressed: 0 });
    return { state: next, emit: true, suppressed: entry?.suppressed ?? 0 };
  }
  next.set(key, { lastAt: entry.lastAt, suppressed: entry.suppressed + 1 });
  return { state: next, emit: false, suppressed: 0 };
}
