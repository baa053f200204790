/**
 * The life cycle of one server as a pure state machine, modelled on HAProxy 2.6: the operational
 * state (`stopped`, `starting` = UP in slowstart, `running`, `stopping` = NOLB) driven by the
 * health counter of `rise`/`fall`, with the admin flags MAINT and DRAIN layered on top (HAProxy's
 * `SRV_ADMF_*`). {@linkcode step} never reads a clock or arms a timer: `now` is an argument and
 * timers come back as actions that a driver (see `checker.ts`) carries out.
 *
 * HAProxy rules kept here:
 * - a checked server starts UP with `health = rise`, so its first failed check marks it DOWN at
 *   once; it then needs `rise` successes (a failure that drops health below `rise` resets it to 0);
 * - next check after `inter` when fully healthy, `downinter` when fully DOWN, `fastinter`
 *   otherwise (in transition or not checked yet) — `srv_getinter()`;
 * - MAINT pauses checks and sets health to 0; leaving it sets health to `rise` (UP, re-checked);
 * - slowstart applies on every return to UP (not at process start): the weight ramps as
 *   `floor(16 * elapsed / slowstart + 1) / 16` of the user weight (dynamic algorithms only), the
 *   maxconn as `max(1, maxconn * floor(100 * elapsed / slowstart) / 100)`.
 *
 * @module
 */
import type { BackendConfig, ServerConfig } from "../../config/types.ts";

/** HAProxy's detailed check statuses (CSV `check_status`). */
export type CheckStatus =
  | "UNK"
  | "INI"
  | "SOCKERR"
  | "L4OK"
  | "L4TOUT"
  | "L4CON"
  | "L6OK"
  | "L6TOUT"
  | "L6RSP"
  | "L7OK"
  | "L7OKC"
  | "L7TOUT"
  | "L7RSP"
  | "L7STS";

/** What a check status means for the health counter, and its long description. */
export interface CheckStatusInfo {
  readonly result: "unknown" | "passed" | "condpass" | "failed";
  /** The description printed after `reason:` and in the CSV `check_desc`. */
  readonly description: string;
  /** True for statuses that carry an HTTP code (HAProxy's `>= HCHK_STATUS_L57DATA`). */
  readonly hasCode: boolean;
}

/** The table of {@linkcode CheckStatus} meanings (HAProxy's `check_statuses[]`). */
export const CHECK_STATUSES: Readonly<Record<CheckStatus, CheckStatusInfo>> = {
  UNK: { result: "unknown", description: "Unknown", hasCode: false },
  INI: { result: "unknown", description: "Initializing", hasCode: false },
  SOCKERR: { result: "failed", description: "Socket error", hasCode: false },
  L4OK: { result: "passed", description: "Layer4 check passed", hasCode: false },
  L4TOUT: { result: "failed", description: "Layer4 timeout", hasCode: false },
  L4CON: { result: "failed", description: "Layer4 connection problem", hasCode: false },
  L6OK: { result: "passed", description: "Layer6 check passed", hasCode: false },
  L6TOUT: { result: "failed", description: "Layer6 timeout", hasCode: false },
  L6RSP: { result: "failed", description: "Layer6 invalid response", hasCode: false },
  L7OK: { result: "passed", description: "Layer7 check passed", hasCode: true },
  L7OKC: {
    result: "condpass",
    description: "Layer7 check conditionally passed",
    hasCode: true,
  },
  L7TOUT: { result: "failed", description: "Layer7 timeout", hasCode: false },
  L7RSP: { result: "failed", description: "Layer7 invalid response", hasCode: false },
  L7STS: { result: "failed", description: "Layer7 wrong status", hasCode: true },
};

/** The outcome of one probe (see `probe.ts`). */
export interface ProbeResult {
  readonly status: CheckStatus;
  /** HTTP status code, for L7 results that read one. */
  readonly code?: number;
  readonly durationMs: number;
  /** HAProxy's `info:` text, e.g. "Connection refused" or a reason phrase; "" when none. */
  readonly description: string;
}

/** HAProxy's operational states (`SRV_ST_*`). */
export type OpState = "stopped" | "starting" | "running" | "stopping";

/** The static parameters of one server, taken from the config once. */
export interface ServerParams {
  readonly name: string;
  readonly backend: string;
  readonly backup: boolean;
  /** `check` configured. */
  readonly checked: boolean;
  readonly rise: number;
  readonly fall: number;
  readonly inter: number;
  readonly fastinter: number;
  readonly downinter: number;
  /** 0 = no slowstart. */
  readonly slowstart: number;
  /** Initial (configured) weight. */
  readonly weight: number;
  /** 0 = unlimited. */
  readonly maxconn: number;
  /** The algorithm's weights are dynamic (HAProxy `BE_LB_PROP_DYN`): slowstart ramps them. */
  readonly dynamicWeights: boolean;
  /** `disabled`: start in MAINT. */
  readonly disabled: boolean;
}

/** The last (or running) check as shown on the stats page. */
export interface LastCheck {
  readonly status: CheckStatus;
  /** HTTP code for L7OK/L7OKC/L7STS, else null. */
  readonly code: number | null;
  /** Null until a check completed. */
  readonly durationMs: number | null;
  readonly description: string;
  /** A check is running now (the CSV shows `* ` before the status). */
  readonly inProgress: boolean;
}

/** The whole state of one server. */
export interface ServerState {
  readonly params: ServerParams;
  readonly op: OpState;
  /** Forced maintenance (`disabled`, `set server ... state maint`). */
  readonly maint: boolean;
  /** Forced drain (`set server ... state drain`). */
  readonly drain: boolean;
  /** 0..rise-1 = bad, rise..rise+fall-1 = good. */
  readonly health: number;
  /** Current user weight (`set weight`), 0..256. */
  readonly uweight: number;
  /** When the operational or admin state last changed (clock ms). */
  readonly lastChange: number;
  /** Accumulated time spent DOWN before `lastChange` (ms). */
  readonly downtimeMs: number;
  readonly check: LastCheck;
  /** Failed checks (CSV `chkfail`). */
  readonly chkfail: number;
  /** UP→DOWN transitions (CSV `chkdown`). */
  readonly chkdown: number;
}

/** Inputs to {@linkcode step}. */
export type ServerEvent =
  /** Arms the first check `delay` ms from now (the driver spreads servers). */
  | { readonly type: "start"; readonly delay: number }
  /** A probe begins. */
  | { readonly type: "check-start" }
  /** A probe finished. */
  | { readonly type: "check"; readonly result: ProbeResult }
  /** `set server <be>/<srv> state ready|drain|maint`. */
  | { readonly type: "admin"; readonly action: "ready" | "drain" | "maint" }
  /** `set weight`: a new user weight 0..256. */
  | { readonly type: "weight"; readonly weight: number }
  /** The slowstart warm-up timer fired. */
  | { readonly type: "warmup" };

/** What changed; `messages.ts` turns it into HAProxy's log line. */
export type TransitionKind =
  | "down"
  | "up"
  | "stopping"
  | "maint"
  | "maint-was-down"
  | "leave-maint"
  | "drain"
  | "leave-drain"
  | "weight";

/** A state change, reported to the driver. */
export interface Transition {
  readonly kind: TransitionKind;
  /** The server was NOLB or draining before (a DOWN is then logged at notice, not alert). */
  readonly wasStopping: boolean;
  /** The check that caused it (for `reason:`), null for admin changes. */
  readonly check: LastCheck | null;
  /** Operational state after the change is DOWN. */
  readonly down: boolean;
  /** DRAIN is set after the change. */
  readonly drain: boolean;
}

/** Outputs of {@linkcode step}. */
export type ServerAction =
  | { readonly type: "schedule-check"; readonly at: number }
  | { readonly type: "cancel-check" }
  | { readonly type: "schedule-warmup"; readonly at: number }
  | { readonly type: "changed"; readonly transition: Transition };

/** Result of {@linkcode step}. */
export interface StepResult {
  readonly state: ServerState;
  readonly actions: readonly ServerAction[];
}

/** HAProxy's `BE_WEIGHT_SCALE`: effective weights have a 1/16 granularity. */
export const WEIGHT_SCALE = 16;

/**
 * Whether the backend's algorithm has dynamic weights (HAProxy `BE_LB_PROP_DYN`): roundrobin,
 * leastconn, first, random and consistent hashing do; static-rr and map-based hashing do not.
 */
export function isDynamicBalance(backend: Pick<BackendConfig, "balance" | "hashType">): boolean {
  switch (backend.balance.algorithm) {
    case "roundrobin":
    case "leastconn":
    case "first":
    case "random":
      return true;
    case "static-rr":
      return false;
    default:
      return backend.hashType.method === "consistent";
  }
}

/** Builds {@linkcode ServerParams} from the compiled config. */
export function serverParams(backend: BackendConfig, server: ServerConfig): ServerParams {
  return {
    name: server.name,
    backend: backend.name,
    backup: server.backup,
    checked: server.check,
    rise: Math.max(1, server.rise),
    fall: Math.max(1, server.fall),
    inter: server.inter,
    fastinter: server.fastinter,
    downinter: server.downinter,
    slowstart: server.slowstart,
    weight: server.weight,
    maxconn: server.maxconn,
    dynamicWeights: isDynamicBalance(backend),
    disabled: server.disabled,
  };
}

/**
 * The state at process start: UP (health = rise, so one failure marks it DOWN), or MAINT and
 * DOWN when `disabled`. Slowstart does not apply at start.
 */
export function initialState(params: ServerParams, now: number): ServerState {
  return {
    params,
    op: params.disabled ? "stopped" : "running",
    maint: params.disabled,
    drain: false,
    health: params.disabled ? 0 : params.rise,
    uweight: params.weight,
    lastChange: now,
    downtimeMs: 0,
    check: { status: "INI", code: null, durationMs: null, description: "", inProgress: false },
    chkfail: 0,
    chkdown: 0,
  };
}

/** The delay before the next check, as HAProxy's `srv_getinter()`. */
export function checkInterval(state: ServerState): number {
  const p = state.params;
  if (state.health === p.rise + p.fall - 1) return p.inter;
  if (state.op === "stopped" && state.health === 0) return p.downinter;
  return p.fastinter;
}

/** Advances one server's state machine. Pure: `now` is the only clock. */
export function step(state: ServerState, event: ServerEvent, now: number): StepResult {
  switch (event.type) {
    case "start":
      if (!state.params.checked || state.maint) return { state, actions: [] };
      return {
        state,
        actions: [{ type: "schedule-check", at: now + Math.max(0, event.delay) }],
      };
    case "check-start":
      if (!state.params.checked || state.maint) return { state, actions: [] };
      return { state: { ...state, check: { ...state.check, inProgress: true } }, actions: [] };
    case "check":
      return onCheck(state, event.result, now);
    case "admin":
      return onAdmin(state, event.action, now);
    case "weight":
      return onWeight(state, event.weight);
    case "warmup":
      return onWarmup(state, now);
  }
}

function transition(state: ServerState, kind: TransitionKind, extra: {
  wasStopping?: boolean;
  check?: LastCheck | null;
}): ServerAction {
  return {
    type: "changed",
    transition: {
      kind,
      wasStopping: extra.wasStopping ?? false,
      check: extra.check ?? null,
      down: state.op === "stopped",
      drain: state.drain,
    },
  };
}

function warmupDelay(params: ServerParams): number {
  return Math.max(1000, params.slowstart / 20);
}

/** Returns to UP (STARTING during slowstart), accounting the downtime. */
function goUp(state: ServerState, now: number): ServerState {
  const downtimeMs = state.op === "stopped"
    ? state.downtimeMs + Math.max(0, now - state.lastChange)
    : state.downtimeMs;
  return {
    ...state,
    op: state.params.slowstart > 0 ? "starting" : "running",
    lastChange: now,
    downtimeMs,
  };
}

function onCheck(state: ServerState, result: ProbeResult, now: number): StepResult {
  const p = state.params;
  if (!p.checked || state.maint) return { state, actions: [] };
  const info = CHECK_STATUSES[result.status];
  const check: LastCheck = {
    status: result.status,
    code: info.hasCode && result.code !== undefined ? result.code : null,
    durationMs: Math.max(0, Math.round(result.durationMs)),
    description: result.description,
    inProgress: false,
  };
  let next: ServerState = { ...state, check };
  const actions: ServerAction[] = [];
  if (info.result === "failed") {
    if (next.health > 0) {
      let health = next.health - 1;
      if (health < p.rise) health = 0;
      next = { ...next, health, chkfail: next.chkfail + 1 };
    }
    if (next.health === 0 && next.op !== "stopped") {
      const wasStopping = next.op === "stopping" || next.drain;
      next = { ...next, op: "stopped", lastChange: now, chkdown: next.chkdown + 1 };
      actions.push(transition(next, "down", { wasStopping, check }));
    }
  } else if (info.result === "passed" || info.result === "condpass") {
    if (next.health < p.rise + p.fall - 1) {
      let health = next.health + 1;
      if (health >= p.rise) health = p.rise + p.fall - 1;
      next = { ...next, health };
    }
    if (next.health >= p.rise) {
      if (info.result === "condpass") {
        if (next.op !== "stopping") {
          next = { ...next, op: "stopping", lastChange: now };
          actions.push(transition(next, "stopping", { check }));
        }
      } else if (next.op === "stopped" || next.op === "stopping") {
        next = goUp(next, now);
        actions.push(transition(next, "up", { check }));
        if (next.op === "starting") {
          actions.push({ type: "schedule-warmup", at: now + warmupDelay(p) });
        }
      }
    }
  }
  actions.unshift({ type: "schedule-check", at: now + checkInterval(next) });
  return { state: next, actions };
}

function enterMaint(state: ServerState, now: number): StepResult {
  const actions: ServerAction[] = [];
  if (state.params.checked) actions.push({ type: "cancel-check" });
  const paused = {
    ...state,
    maint: true,
    drain: false,
    health: state.params.checked ? 0 : state.health,
    check: { ...state.check, inProgress: false },
  };
  if (state.op === "stopped") {
    actions.push(transition(paused, "maint-was-down", {}));
    return { state: paused, actions };
  }
  const wasStopping = state.op === "stopping" || state.drain;
  const next: ServerState = {
    ...paused,
    op: "stopped",
    lastChange: now,
    chkdown: state.chkdown + 1,
  };
  actions.push(transition(next, "maint", { wasStopping }));
  return { state: next, actions };
}

function leaveMaint(state: ServerState, now: number): StepResult {
  const p = state.params;
  let next: ServerState = { ...state, maint: false };
  const actions: ServerAction[] = [];
  if (p.checked) next = { ...next, health: p.rise };
  next = goUp(next, now);
  if (p.checked) actions.push({ type: "schedule-check", at: now + checkInterval(next) });
  actions.push(transition(next, "leave-maint", {}));
  if (next.op === "starting") actions.push({ type: "schedule-warmup", at: now + warmupDelay(p) });
  return { state: next, actions };
}

function onAdmin(
  state: ServerState,
  action: "ready" | "drain" | "maint",
  now: number,
): StepResult {
  if (action === "maint") {
    if (state.maint) return { state: { ...state, drain: false }, actions: [] };
    return enterMaint(state, now);
  }
  let next = state;
  const actions: ServerAction[] = [];
  if (action === "drain" && !next.drain) {
    next = { ...next, drain: true };
    if (!next.maint) {
      next = { ...next, lastChange: now };
      actions.push(transition(next, "drain", {}));
    }
  }
  if (action === "ready" && next.drain) {
    next = { ...next, drain: false };
    if (!next.maint) {
      next = { ...next, lastChange: now };
      actions.push(transition(next, "leave-drain", {}));
    }
  }
  if (next.maint) {
    const left = leaveMaint(next, now);
    return { state: left.state, actions: [...actions, ...left.actions] };
  }
  return { state: next, actions };
}

function onWeight(state: ServerState, weight: number): StepResult {
  const uweight = Math.min(256, Math.max(0, Math.trunc(weight)));
  if (uweight === state.uweight) return { state, actions: [] };
  const next = { ...state, uweight };
  return { state: next, actions: [transition(next, "weight", {})] };
}

function onWarmup(state: ServerState, now: number): StepResult {
  if (state.op !== "starting") return { state, actions: [] };
  if (now >= state.lastChange + state.params.slowstart) {
    const next: ServerState = { ...state, op: "running" };
    return { state: next, actions: [transition(next, "weight", {})] };
  }
  return {
    state,
    actions: [
      { type: "schedule-warmup", at: now + warmupDelay(state.params) },
      transition(state, "weight", {}),
    ],
  };
}

/**
 * Whether the server may take new non-persistent traffic (HAProxy `srv_currently_usable()`):
 * UP or in slowstart, not MAINT, not DRAIN, user weight above 0.
 */
export function isUsable(state: ServerState): boolean {
  return !state.maint && !state.drain && state.uweight > 0 &&
    (state.op === "running" || state.op === "starting");
}

/** The slowstart factor in 1/16 units (1..16); 16 outside slowstart or for static algorithms. */
function rampSixteenths(state: ServerState, now: number): number {
  const ss = state.params.slowstart;
  if (state.op !== "starting" || !state.params.dynamicWeights || ss <= 0) return WEIGHT_SCALE;
  const elapsed = now - state.lastChange;
  if (elapsed < 0 || elapsed >= ss) return WEIGHT_SCALE;
  return Math.min(WEIGHT_SCALE, Math.floor((WEIGHT_SCALE * elapsed + ss) / ss));
}

/**
 * The effective weight for load balancing, in user-weight units (0..256): 0 when the server is
 * not usable; during slowstart a multiple of 1/16 of the user weight (HAProxy keeps weights
 * scaled by {@linkcode WEIGHT_SCALE}), ramping linearly from 1/16 to the full weight.
 */
export function effectiveWeight(state: ServerState, now: number): number {
  if (!isUsable(state)) return 0;
  return state.uweight * rampSixteenths(state, now) / WEIGHT_SCALE;
}

/**
 * The effective maxconn: the configured one, or during slowstart
 * `max(1, maxconn * floor(100 * elapsed / slowstart) / 100)` (HAProxy `srv_dynamic_maxconn`).
 * 0 means unlimited and stays unlimited.
 */
export function effectiveMaxconn(state: ServerState, now: number): number {
  const max = state.params.maxconn;
  const ss = state.params.slowstart;
  if (max === 0 || state.op !== "starting" || ss <= 0) return max;
  const elapsed = now - state.lastChange;
  if (elapsed < 0 || elapsed >= ss) return max;
  const ratio = Math.floor(100 * elapsed / ss);
  return Math.max(1, Math.floor(max * ratio / 100));
}

/** The CSV `throttle` percentage during slowstart, else null (HAProxy `server_throttle_rate`). */
export function throttle(state: ServerState, now: number): number | null {
  if (state.op !== "starting" || state.drain || state.uweight === 0) return null;
  return Math.ceil(100 * rampSixteenths(state, now) / WEIGHT_SCALE);
}

/**
 * The status text of the stats page and CSV, exactly as HAProxy prints it: `MAINT`, `UP`,
 * `UP 1/3` (going down), `DOWN`, `DOWN 1/2` (going up), `NOLB`, `NOLB 1/3`, `DRAIN`,
 * `DRAIN 1/3`, `no check`.
 */
export function statusText(state: ServerState): string {
  if (state.maint) return "MAINT";
  const p = state.params;
  const full = p.rise + p.fall - 1;
  const goingDown = `${state.health - p.rise + 1}/${p.fall}`;
  if (state.op === "running" || state.op === "starting") {
    const transitional = p.checked && state.health < full;
    if (state.drain) return transitional ? `DRAIN ${goingDown}` : "DRAIN";
    if (!p.checked) return "no check";
    return transitional ? `UP ${goingDown}` : "UP";
  }
  if (state.op === "stopping") {
    return !p.checked || state.health === full ? "NOLB" : `NOLB ${goingDown}`;
  }
  if (p.checked && state.health > 0) return `DOWN ${state.health}/${p.rise}`;
  return "DOWN";
}

/** Time spent DOWN so far (ms), HAProxy `srv_downtime()`. */
export function downtime(state: ServerState, now: number): number {
  if (state.op !== "stopped" || state.lastChange >= now) return state.downtimeMs;
  return state.downtimeMs + (now - state.lastChange);
}

/** A read-only view of one server for the pool, the stats page and the CSV. */
export interface ServerSnapshot {
  readonly backend: string;
  readonly name: string;
  readonly backup: boolean;
  /** {@linkcode statusText}. */
  readonly status: string;
  readonly op: OpState;
  readonly maint: boolean;
  readonly drain: boolean;
  /** {@linkcode isUsable}. */
  readonly usable: boolean;
  /** {@linkcode effectiveWeight} at snapshot time. */
  readonly weight: number;
  readonly uweight: number;
  /** Configured weight. */
  readonly iweight: number;
  /** {@linkcode effectiveMaxconn} at snapshot time (0 = unlimited). */
  readonly maxconn: number;
  /** {@linkcode throttle}. */
  readonly throttle: number | null;
  /** Null when no check is configured or checks are paused (MAINT): the CSV leaves it empty. */
  readonly check:
    | (LastCheck & { readonly rise: number; readonly fall: number; readonly health: number })
    | null;
  /** Clock ms of the last state change (CSV `lastchg` = now - this, in seconds). */
  readonly lastChange: number;
  /** Total downtime in ms (CSV `downtime`, in seconds). */
  readonly downtimeMs: number;
  readonly chkfail: number;
  readonly chkdown: number;
}

/** Takes a {@linkcode ServerSnapshot} of a state at `now`. */
export function snapshot(state: ServerState, now: number): ServerSnapshot {
  const p = state.params;
  return {
    backend: p.backend,
    name: p.name,
    backup: p.backup,
    status: statusText(state),
    op: state.op,
    maint: state.maint,
    drain: state.drain,
    usable: isUsable(state),
    weight: effectiveWeight(state, now),
    uweight: state.uweight,
    iweight: p.weight,
    maxconn: effectiveMaxconn(state, now),
    throttle: throttle(state, now),
    check: p.checked && !state.maint
      ? { ...state.check, rise: p.rise, fall: p.fall, health: state.health }
      : null,
    lastChange: state.lastChange,
    downtimeMs: downtime(state, now),
    chkfail: state.chkfail,
    chkdown: state.chkdown,
  };
}
