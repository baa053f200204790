/**
 * The health-check driver of one backend: it owns the timers, runs the probes that the pure
 * server state machines ask for, logs HAProxy's transition lines (rate limited) and reports each
 * change through `onChange(serverName, snapshot)` so that the pool can recompute its eligible
 * servers. First checks are spread over the interval as HAProxy's `start_checks()` does
 * (server i of n starts at `mininter * i / n`, where mininter is the smallest check interval of
 * at least 1 s), so a large backend is not probed in one burst.
 *
 * @module
 */
import type { BackendConfig } from "../../config/types.ts";
import type { Logger } from "../../log/logger.ts";
import {
  DEFAULT_RATE_LIMIT,
  type LogLine,
  noServerMessage,
  RATE_INITIAL,
  rateAdmit,
  rateFlush,
  type RateLimit,
  type RateState,
  type ServerLoad,
  suppressedMessage,
  transitionMessage,
} from "./messages.ts";
import { type ProbeOptions, type ProbeSpec, probeSpec, runProbe } from "./probe.ts";
import {
  checkInterval,
  initialState,
  isUsable,
  type ProbeResult,
  type ServerAction,
  type ServerEvent,
  type ServerParams,
  serverParams,
  type ServerSnapshot,
  type ServerState,
  snapshot,
  step,
} from "./server_state.ts";

export type { ServerSnapshot } from "./server_state.ts";

/** HAProxy's `SRV_CHK_INTER_THRES`: shorter intervals do not dictate the start spread. */
const SPREAD_THRESHOLD = 1000;

/** Options of {@linkcode createChecker}. */
export interface CheckerOptions {
  /** Called after every state change (including slowstart weight steps). */
  onChange(serverName: string, snapshot: ServerSnapshot): void;
  /** Where transition lines go; none → not logged. */
  logger?: Logger;
  /** Wall clock in ms; default `Date.now`. */
  clock?: () => number;
  /** The probe to run; default {@linkcode runProbe} (tests inject fakes). */
  probe?: (spec: ProbeSpec, options: ProbeOptions) => Promise<ProbeResult>;
  /** Sessions/queue figures for the log lines; default all 0. Called after `onChange`. */
  serverLoad?: (serverName: string) => ServerLoad;
  /** Flap limiter for log lines; default {@linkcode DEFAULT_RATE_LIMIT}. */
  rateLimit?: RateLimit;
  /**
   * The state a server starts in instead of HAProxy's initial one: on reload, the previous
   * generation's state of a server whose settings did not change (its parameters must match).
   */
  initial?: (serverName: string) => ServerState | null;
}

/** The running checker of one backend. */
export interface BackendChecker {
  readonly backend: string;
  /** Arms the first checks (spread). Idempotent. */
  start(): void;
  /** Cancels every timer and running probe; later results are ignored. */
  stop(): void;
  /** The current view of one server, or null if unknown. */
  snapshot(serverName: string): ServerSnapshot | null;
  /** All servers in config order. */
  snapshots(): ServerSnapshot[];
  /** The raw state (for the pure helpers of `server_state.ts`), or null. */
  state(serverName: string): ServerState | null;
  /** `set server <be>/<srv> state ready|drain|maint`; false if the server is unknown. */
  setAdmin(serverName: string, action: "ready" | "drain" | "maint"): boolean;
  /** `set weight <be>/<srv> <w>` (0..256); false if the server is unknown. */
  setWeight(serverName: string, weight: number): boolean;
}

interface Entry {
  state: ServerState;
  readonly spec: ProbeSpec;
  checkTimer: ReturnType<typeof setTimeout> | undefined;
  warmupTimer: ReturnType<typeof setTimeout> | undefined;
  probe: AbortController | null;
  /** Bumped on cancel so that a late probe result is dropped. */
  generation: number;
}

/** Creates the checker of one backend; call `start()` to begin probing. */
export function createChecker(backend: BackendConfig, options: CheckerOptions): BackendChecker {
  const clock = options.clock ?? Date.now;
  const probe = options.probe ?? runProbe;
  const limit = options.rateLimit ?? DEFAULT_RATE_LIMIT;
  const entries = new Map<string, Entry>();
  const limiters = new Map<string, RateState>();
  const flushTimers = new Map<string, ReturnType<typeof setTimeout>>();
  let started = false;
  let stopped = false;

  for (const server of backend.servers) {
    entries.set(server.name, {
      state: carried(options.initial?.(server.name), serverParams(backend, server)) ??
        initialState(serverParams(backend, server), clock()),
      spec: probeSpec(backend, server),
      checkTimer: undefined,
      warmupTimer: undefined,
      probe: null,
      generation: 0,
    });
  }

  function counts(): { active: number; backup: number } {
    let active = 0;
    let backup = 0;
    for (const e of entries.values()) {
      if (!isUsable(e.state)) continue;
      if (e.state.params.backup) backup++;
      else active++;
    }
    return { active, backup };
  }

  function emit(key: string, line: LogLine): void {
    if (options.logger === undefined) return;
    const verdict = rateAdmit(limiters.get(key) ?? RATE_INITIAL, clock(), limit);
    limiters.set(key, verdict.state);
    if (verdict.summarize > 0) {
      const s = suppressedMessage(key, verdict.summarize, limit);
      options.logger.log(s.level, s.message);
    }
    if (verdict.pass) {
      options.logger.log(line.level, line.message);
    } else if (!flushTimers.has(key)) {
      flushTimers.set(
        key,
        setTimeout(() => {
          flushTimers.delete(key);
          const flushed = rateFlush(limiters.get(key) ?? RATE_INITIAL, clock(), limit);
          limiters.set(key, flushed.state);
          if (flushed.summarize > 0) {
            const s = suppressedMessage(key, flushed.summarize, limit);
            options.logger?.log(s.level, s.message);
          }
        }, Math.max(0, verdict.windowEnd - clock())),
      );
    }
  }

  function cancelCheck(entry: Entry): void {
    clearTimeout(entry.checkTimer);
    entry.checkTimer = undefined;
    entry.probe?.abort();
    entry.probe = null;
    entry.generation++;
  }

  function perform(name: string, entry: Entry, action: ServerAction): void {
    switch (action.type) {
      case "schedule-check":
        clearTimeout(entry.checkTimer);
        entry.checkTimer = setTimeout(() => runCheck(name), Math.max(0, action.at - clock()));
        return;
      case "cancel-check":
        cancelCheck(entry);
        return;
      case "schedule-warmup":
        clearTimeout(entry.warmupTimer);
        entry.warmupTimer = setTimeout(
          () => apply(name, { type: "warmup" }),
          Math.max(0, action.at - clock()),
        );
        return;
      case "changed": {
        const now = clock();
        options.onChange(name, snapshot(entry.state, now));
        const line = transitionMessage(action.transition, {
          backend: backend.name,
          server: name,
          backup: entry.state.params.backup,
          counts: counts(),
          load: options.serverLoad?.(name),
        });
        if (line !== null) emit(`Server ${backend.name}/${name}`, line);
        return;
      }
    }
  }

  function apply(name: string, event: ServerEvent): boolean {
    const entry = entries.get(name);
    if (entry === undefined) return false;
    if (stopped) return true;
    const before = counts();
    const { state, actions } = step(entry.state, event, clock());
    entry.state = state;
    for (const action of actions) perform(name, entry, action);
    const after = counts();
    if (before.active + before.backup > 0 && after.active + after.backup === 0) {
      emit(`backend ${backend.name}`, noServerMessage(backend.name));
    }
    return true;
  }

  async function runCheck(name: string): Promise<void> {
    const entry = entries.get(name);
    if (entry === undefined || stopped) return;
    entry.checkTimer = undefined;
    const generation = entry.generation;
    apply(name, { type: "check-start" });
    const controller = new AbortController();
    entry.probe = controller;
    const result = await probe(entry.spec, {
      serverUp: entry.state.op !== "stopped",
      signal: controller.signal,
    });
    if (stopped || entry.generation !== generation) return;
    entry.probe = null;
    apply(name, { type: "check", result });
  }

  return {
    backend: backend.name,
    start() {
      if (started || stopped) return;
      started = true;
      const checked = [...entries.entries()].filter(([, e]) => e.state.params.checked);
      let mininter = 0;
      for (const [, e] of checked) {
        const inter = checkInterval(e.state);
        if (inter >= SPREAD_THRESHOLD && (mininter === 0 || inter < mininter)) mininter = inter;
      }
      checked.forEach(([name], i) => {
        apply(name, { type: "start", delay: Math.floor(mininter * i / checked.length) });
      });
    },
    stop() {
      stopped = true;
      for (const e of entries.values()) {
        cancelCheck(e);
        clearTimeout(e.warmupTimer);
        e.warmupTimer = undefined;
      }
      for (const t of flushTimers.values()) clearTimeout(t);
      flushTimers.clear();
    },
    snapshot(serverName) {
      const e = entries.get(serverName);
      return e === undefined ? null : snapshot(e.state, clock());
    },
    snapshots() {
      const now = clock();
      return [...entries.values()].map((e) => snapshot(e.state, now));
    },
    state(serverName) {
      return entries.get(serverName)?.state ?? null;
    },
    setAdmin(serverName, action) {
      return apply(serverName, { type: "admin", action });
    },
    setWeight(serverName, weight) {
      return apply(serverName, { type: "weight", weight });
    },
  };
}

/** A carried-over state when its parameters equal the new ones (else null: start afresh). */
function carried(state: ServerState | null | undefined, params: ServerParams): ServerState | null {
  if (state === null || state === undefined) return null;
  if (JSON.stringify(state.params) !== JSON.stringify(params)) return null;
  return { ...state, check: { ...state.check, inProgress: false } };
}
