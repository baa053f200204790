/**
 * VRRP timer arithmetic in integer microseconds, exactly as keepalived computes it:
 *
 * - v3 (RFC 5798): Skew_Time = ((256 − Priority) × Master_Adver_Interval) / 256, done as
 *   `(256 − p) × (interval_cs) × 625 / 16` µs with integer division (keepalived's
 *   VRRP_TIMER_SKEW); Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time.
 * - v2 (RFC 3768): Skew_Time = (256 − Priority) / 256 **seconds**, not scaled by the interval:
 *   `(256 − p) × 1e6 / 256` µs; Master_Down_Interval = 3 × Advertisement_Interval + Skew_Time.
 *
 * Worked values (see timers_test.ts): A=1 s p=100 → skew 609375 µs, MDI 3609375 µs;
 * v2 A=2 s p=100 → MDI 6609375 µs; v3 A=0.1 s p=100 → skew 60937 µs, MDI 360937 µs.
 *
 * @module
 */

/** Microseconds per second. */
export const US_PER_S = 1_000_000;
/** Microseconds per centisecond (the v3 interval unit). */
export const US_PER_CS = 10_000;

/**
 * The interval field to put in adverts from a configured interval in milliseconds:
 * v2 whole seconds (rounded, 1..255), v3 centiseconds (rounded, 1..4095), as keepalived clamps.
 *
 * @param version 2 or 3
 * @param advertIntMs the configured interval
 * @returns the wire value (seconds for v2, centiseconds for v3)
 * @example
 * ```ts
 * intervalField(3, 1000); // 100
 * intervalField(2, 1000); // 1
 * ```
 */
export function intervalField(version: 2 | 3, advertIntMs: number): number {
  if (version === 2) return Math.min(255, Math.max(1, Math.round(advertIntMs / 1000)));
  return Math.min(4095, Math.max(1, Math.round(advertIntMs / 10)));
}

/**
 * Converts an advert interval field to microseconds.
 *
 * @param version 2 (field in seconds) or 3 (field in centiseconds)
 * @param field the wire value
 * @returns microseconds
 * @example
 * ```ts
 * fieldToUs(3, 10); // 100000
 * ```
 */
export function fieldToUs(version: 2 | 3, field: number): number {
  return version === 2 ? field * US_PER_S : field * US_PER_CS;
}

/** Inputs of {@linkcode skewTimeUs} and {@linkcode masterDownIntervalUs}. */
export interface TimerInputs {
  readonly version: 2 | 3;
  /** The local (effective) priority. */
  readonly priority: number;
  /** Master_Adver_Interval in µs (v2: the local interval, which must equal the master's). */
  readonly masterAdverIntUs: number;
}

/**
 * Skew_Time in µs, integer as keepalived.
 *
 * @param inputs version, local priority, Master_Adver_Interval
 * @returns µs
 * @example
 * ```ts
 * skewTimeUs({ version: 3, priority: 100, masterAdverIntUs: 1_000_000 }); // 609375
 * ```
 */
export function skewTimeUs(inputs: TimerInputs): number {
  const weight = 256 - inputs.priority;
  if (inputs.version === 2) return Math.floor((weight * US_PER_S) / 256);
  const cs = Math.floor(inputs.masterAdverIntUs / US_PER_CS);
  return Math.floor((weight * cs * 625) / 16);
}

/**
 * Master_Down_Interval in µs: 3 × Master_Adver_Interval + Skew_Time.
 *
 * @param inputs version, local priority, Master_Adver_Interval
 * @returns µs
 * @example
 * ```ts
 * masterDownIntervalUs({ version: 2, priority: 100, masterAdverIntUs: 2_000_000 }); // 6609375
 * ```
 */
export function masterDownIntervalUs(inputs: TimerInputs): number {
  return 3 * inputs.masterAdverIntUs + skewTimeUs(inputs);
}
