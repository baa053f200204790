/**
 * Durations as written in halb.toml: a string with a unit (`"250ms"`, `"10s"`, `"1m"`, `"1h"`,
 * `"1d"`, `"500us"`). Bare numbers are rejected with a hint, because HAProxy (ms) and keepalived
 * (s) disagree on the default unit.
 *
 * @module
 */

import type { Millis } from "./types.ts";

/** The result of parsing a duration: milliseconds, or an error message. */
export type DurationResult =
  | { readonly ok: true; readonly value: Millis }
  | { readonly ok: false; readonly error: string };

const UNITS: Readonly<Record<string, number>> = {
  us: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a duration value. `value` is the raw TOML value; `hintUnit` is the unit suggested when
 * a bare number is given ("s" for keepalived-style keys, "ms" for HAProxy-style ones).
 */
export function parseDuration(value: unknown, hintUnit: "s" | "ms" = "s"): DurationResult {
  if (typeof value === "number") {
    const example = Number.isFinite(value) && value >= 0 ? value : 1;
    return { ok: false, error: `write a duration with a unit, e.g. "${example}${hintUnit}"` };
  }
  if (typeof value !== "string") {
    return { ok: false, error: `expected a duration string such as "1s"` };
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(value);
  if (m === null) {
    return { ok: false, error: `invalid duration "${value}" (write e.g. "250ms", "10s", "1m")` };
  }
  const [, num, unit] = m;
  if (unit === "") {
    return { ok: false, error: `write a duration with a unit, e.g. "${num}${hintUnit}"` };
  }
  const factor = UNITS[unit];
  if (factor === undefined) {
    return {
      ok: false,
      error: `unknown duration unit "${unit}" in "${value}" (use us, ms, s, m, h or d)`,
    };
  }
  return { ok: true, value: Number(num) * factor };
}

/** Formats milliseconds for messages: `"1s"`, `"250ms"`, `"40.95s"`. */
export function formatMillis(ms: Millis): string {
  if (ms !== 0 && ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${ms / 1000}s`;
  if (Number.isInteger(ms)) return `${ms}ms`;
  return `${Math.round(ms * 1000)}us`;
}
