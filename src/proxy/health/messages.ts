/**
 * Server and backend state-change log lines in HAProxy 2.6's exact wording (`srv_update_status`,
 * `srv_append_status`, `set_backend_down` in haproxy src/server.c and src/backend.c; checked
 * against haproxy 2.6.12 with `log stdout format raw`), plus a pure rate limiter so that a
 * flapping server cannot flood the log.
 *
 * Examples:
 * - `Server be/s1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check
 *   duration: 0ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0
 *   remaining in queue.`
 * - `Server be/s1 is UP, reason: Layer7 check passed, code: 200, check duration: 1ms. 2 active
 *   and 0 backup servers online. 0 sessions requeued, 0 total in queue.`
 * - `backend be has no server available!`
 *
 * @module
 */
import type { LogLevel } from "../../config/types.ts";
import { CHECK_STATUSES, type LastCheck, type Transition } from "./server_state.ts";

/** Usable servers of the backend after the change (HAProxy `srv_act` / `srv_bck`). */
export interface BackendCounts {
  readonly active: number;
  readonly backup: number;
}

/** The server's traffic figures printed in the line; all 0 when unknown. */
export interface ServerLoad {
  /** Sessions currently on the server. */
  readonly sessions: number;
  /** Queued requests moved away (DOWN) or taken from the backend queue (UP). */
  readonly requeued: number;
  /** Requests still in the server's queue. */
  readonly queued: number;
}

/** A finished log line with its syslog severity. */
export interface LogLine {
  readonly level: LogLevel;
  readonly message: string;
}

/** Where and how a transition happened, for {@linkcode transitionMessage}. */
export interface MessageContext {
  readonly backend: string;
  readonly server: string;
  readonly backup: boolean;
  readonly counts: BackendCounts;
  readonly load?: ServerLoad;
}

/** HAProxy's `HCHK_DESC_LEN - 1`: the longest check description kept. */
const DESC_MAX = 127;

/**
 * Encodes a description as HAProxy's `chunk_asciiencode(.., '"')`: non-printable bytes, `<`,
 * `>` and `"` become `<XX>` (upper-case hex).
 */
export function asciiEncode(text: string | Uint8Array): string {
  let out = "";
  for (const byte of typeof text === "string" ? new TextEncoder().encode(text) : text) {
    const printable = byte >= 0x20 && byte < 0x7f;
    if (!printable || byte === 0x3c || byte === 0x3e || byte === 0x22) {
      out += `<${byte.toString(16).toUpperCase().padStart(2, "0")}>`;
    } else {
      out += String.fromCharCode(byte);
    }
  }
  return out;
}

/**
 * The check part of a line (`srv_append_status`): `, reason: <desc>[, code: N][, info:
 * "<text>"], check duration: Nms`; empty when no check caused the change.
 */
export function checkReason(check: LastCheck | null): string {
  if (check === null) return "";
  const info = CHECK_STATUSES[check.status];
  let out = `, reason: ${info.description}`;
  if (info.hasCode && check.code !== null) out += `, code: ${check.code}`;
  const desc = new TextEncoder().encode(check.description).subarray(0, DESC_MAX);
  if (desc.length > 0) out += `, info: "${asciiEncode(desc)}"`;
  if (check.durationMs !== null) out += `, check duration: ${check.durationMs}ms`;
  return out;
}

function countsSuffix(down: boolean, counts: BackendCounts, load: ServerLoad): string {
  const onBackup = counts.backup > 0 && counts.active === 0 ? " Running on backup." : "";
  if (down) {
    return `. ${counts.active} active and ${counts.backup} backup servers left.${onBackup}` +
      ` ${load.sessions} sessions active, ${load.requeued} requeued,` +
      ` ${load.queued} remaining in queue`;
  }
  return `. ${counts.active} active and ${counts.backup} backup servers online.${onBackup}` +
    ` ${load.requeued} sessions requeued, ${load.queued} total in queue`;
}

/**
 * The log line HAProxy prints for a transition, or null for changes it does not log (weight
 * changes and slowstart steps).
 */
export function transitionMessage(transition: Transition, context: MessageContext): LogLine | null {
  const load = context.load ?? { sessions: 0, requeued: 0, queued: 0 };
  const who = `${context.backup ? "Backup " : ""}Server ${context.backend}/${context.server}`;
  const suffix = countsSuffix(transition.down, context.counts, load);
  const upDown = transition.down ? "DOWN" : "UP";
  switch (transition.kind) {
    case "down":
      return {
        level: transition.wasStopping ? "notice" : "alert",
        message: `${who} is DOWN${checkReason(transition.check)}${suffix}.`,
      };
    case "stopping":
      return {
        level: "notice",
        message: `${who} is stopping${checkReason(transition.check)}${suffix}.`,
      };
    case "up":
      return { level: "notice", message: `${who} is UP${checkReason(transition.check)}${suffix}.` };
    case "maint":
      return {
        level: transition.wasStopping ? "notice" : "alert",
        message: `${who} is going DOWN for maintenance${suffix}.`,
      };
    case "maint-was-down":
      return { level: "notice", message: `${who} was DOWN and now enters maintenance.` };
    case "leave-maint":
      return {
        level: "notice",
        message: `${who} is ${upDown}/${
          transition.drain ? "DRAIN" : "READY"
        } (leaving forced maintenance).`,
      };
    case "drain":
      return { level: "notice", message: `${who} enters drain state${suffix}.` };
    case "leave-drain":
      return { level: "notice", message: `${who} is ${upDown} (leaving forced drain).` };
    case "weight":
      return null;
  }
}

/** `backend <name> has no server available!`, logged at emerg when the last server goes. */
export function noServerMessage(backend: string): LogLine {
  return { level: "emerg", message: `backend ${backend} has no server available!` };
}

// ---------------------------------------------------------------------------------------------
// Flap limiter.

/** Settings of the flap limiter. */
export interface RateLimit {
  /** Lines allowed per key within one window. */
  readonly burst: number;
  /** Window length in ms. */
  readonly windowMs: number;
}

/** A sensible default: 10 lines per server per minute. */
export const DEFAULT_RATE_LIMIT: RateLimit = { burst: 10, windowMs: 60_000 };

/** Limiter state for one key (a server, or a backend for its "no server" line). */
export interface RateState {
  /** Start of the current window (clock ms), null before the first line. */
  readonly windowStart: number | null;
  /** Lines let through in the current window. */
  readonly passed: number;
  /** Lines suppressed since the last summary. */
  readonly suppressed: number;
}

/** An empty limiter state. */
export const RATE_INITIAL: RateState = { windowStart: null, passed: 0, suppressed: 0 };

/** Verdict of {@linkcode rateAdmit}. */
export interface RateVerdict {
  readonly state: RateState;
  /** Whether to log this line. */
  readonly pass: boolean;
  /** Lines suppressed before this one that must be summarised first (0 = none). */
  readonly summarize: number;
  /** When the current window ends: a driver may flush a pending summary then. */
  readonly windowEnd: number;
}

/**
 * Decides whether one more line for a key may be logged at `now`: at most `burst` lines per
 * window; further lines are counted and summarised when the next window opens.
 */
export function rateAdmit(state: RateState, now: number, limit: RateLimit): RateVerdict {
  let s = state;
  let summarize = 0;
  if (s.windowStart === null || now - s.windowStart >= limit.windowMs) {
    summarize = s.suppressed;
    s = { windowStart: now, passed: 0, suppressed: 0 };
  }
  const windowEnd = (s.windowStart ?? now) + limit.windowMs;
  if (s.passed < limit.burst) {
    return { state: { ...s, passed: s.passed + 1 }, pass: true, summarize, windowEnd };
  }
  return { state: { ...s, suppressed: s.suppressed + 1 }, pass: false, summarize, windowEnd };
}

/**
 * Closes the window at `now` when it has ended, returning the number of suppressed lines to
 * summarise (for a timer-driven flush).
 */
export function rateFlush(
  state: RateState,
  now: number,
  limit: RateLimit,
): { state: RateState; summarize: number } {
  if (state.windowStart === null || now - state.windowStart < limit.windowMs) {
    return { state, summarize: 0 };
  }
  return { state: RATE_INITIAL, summarize: state.suppressed };
}

/** The summary line for suppressed messages (an extension; HAProxy has none). */
export function suppressedMessage(key: string, count: number, limit: RateLimit): LogLine {
  return {
    level: "warning",
    message: `${key}: ${count} state change messages suppressed in the last ${
      Math.round(limit.windowMs / 1000)
    }s (flapping).`,
  };
}
