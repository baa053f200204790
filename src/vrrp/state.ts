/**
 * The VRRP instance state machine (RFC 5798 §6, RFC 3768's v2 skew rule), as keepalived 2.2.7
 * behaves. Pure: `step(state, event, now) → { state, actions }`. Time is an injected clock in
 * integer **microseconds** (any monotonic origin); timers are returned as `arm`/`cancel` actions
 * with absolute deadlines, and the driver feeds `{ type: "timer" }` events back.
 *
 * Driver contract:
 * - Carry out actions in the order given (e.g. on becoming master: advert, add VIPs, GARP burst,
 *   notify, as keepalived does so the old master drops the VIPs before the GARPs).
 * - `arm` replaces any earlier arming of the same timer; `cancel` disarms it. Deliver a timer
 *   event at or after its deadline. Timer events for a timer that is not armed in
 *   `state.timers` are ignored, so a late, already-cancelled timer is harmless.
 * - `advert` events carry adverts that passed `validateAdvert()` (validate.ts) with the sender's
 *   IP source address.
 * - `priority` carries Σ of the tracking adjustments; `fault` the aggregated "a weight-0 tracked
 *   object is failing" condition; `sync` the commands from the sync-group coordinator
 *   (sync_group.ts).
 *
 * keepalived behaviour reproduced on purpose (see shared/reference/vrrp.md §2 and §3):
 * - Startup removes stale VIPs first, then enters BACKUP (notify BACKUP) and arms
 *   Master_Down_Interval; the address owner (255) becomes MASTER at once.
 * - A Backup that preempts and hears a lower priority discards the advert and leaves its down
 *   timer untouched (keepalived "rewinds" its timer to the remaining time: the measured takeover
 *   happens MDI after the last *accepted* advert).
 * - `preempt_delay`: until `preemptAt` (set at startup and on leaving FAULT, cleared by a
 *   higher-or-equal advert, started by the first lower one) lower-priority adverts are accepted.
 * - A Master hearing a lower priority logs "forcing new election", sends an advert at once
 *   (unless `lowerPrioNoAdvert`) and re-sends the GARP burst (garp_lower_prio_repeat defaults to
 *   garp_master_repeat and is independent of lower_prio_no_advert in keepalived).
 * - A Master hearing priority 0 sends an advert at once.
 * - Both ends 255: keepalived logs a configuration error and lowers the local priority to 254.
 * - FAULT from MASTER sends priority 0 twice and removes the VIPs; leaving FAULT → BACKUP
 *   (MASTER if owner).
 *
 * @module
 */
import type { VrrpInstanceConfig } from "../config/types.ts";
import type { VrrpAdvert } from "./codec.ts";
import { compareIp, formatIp } from "./address.ts";
import { fieldToUs, intervalField, masterDownIntervalUs, skewTimeUs } from "./timers.ts";

/** Protocol states; "initialize" before startup, "stopped" after shutdown. */
export type VrrpStateName = "initialize" | "backup" | "master" | "fault" | "stopped";

/** The instance's timers. "garp" is the delayed second GARP burst (garp_master_delay). */
export type TimerName = "adver" | "masterDown" | "garp";

/** States reported to notify scripts, email and the FIFO (keepalived's names). */
export type NotifyState = "MASTER" | "BACKUP" | "FAULT" | "STOP";

/** Sync-group commands (see sync_group.ts). */
export type SyncCommand = "master" | "backup" | "fault" | "clear-fault";

/** The per-instance constants the machine needs, derived once from the config. */
export interface InstanceParams {
  readonly name: string;
  readonly version: 2 | 3;
  readonly vrid: number;
  /** The local Advertisement_Interval in µs (after v2/v3 rounding). */
  readonly adverIntUs: number;
  readonly preempt: boolean;
  readonly preemptDelayUs: number;
  readonly lowerPrioNoAdvert: boolean;
  /** Delay of the second GARP burst; 0 = none. */
  readonly garpMasterDelayUs: number;
  /** GARPs/NAs per VIP per burst. */
  readonly garpMasterRepeat: number;
}

/** The whole state of one instance (immutable; `step` returns a new one). */
export interface VrrpState {
  readonly name: VrrpStateName;
  readonly params: InstanceParams;
  /** The address adverts are sent from (IPv4 primary or IPv6 link-local): the tie-breaker. */
  readonly primaryAddress: Uint8Array;
  /** Configured priority (lowered to 254 on an owner conflict, as keepalived). */
  readonly basePriority: number;
  /** Σ of the tracking adjustments last reported. */
  readonly trackDelta: number;
  /** The priority in use: see {@linkcode effectivePriority}. */
  readonly effectivePriority: number;
  /** Master_Adver_Interval in µs (v3 adopts the master's; v2 equals the local one). */
  readonly masterAdverIntUs: number;
  /** Absolute deadlines (µs) of the armed timers, null when disarmed. */
  readonly timers: Readonly<Record<TimerName, number | null>>;
  /** keepalived's preempt_time: until then lower-priority adverts are accepted. */
  readonly preemptAt: number | null;
  /** The master last heard (address, priority), for status displays. */
  readonly master: { readonly address: Uint8Array; readonly priority: number } | null;
  /** A weight-0 tracked object is failing. */
  readonly fault: boolean;
  /** The sync group holds this instance in FAULT. */
  readonly syncFault: boolean;
}

/** Inputs of {@linkcode step}. */
export type VrrpEvent =
  | { readonly type: "startup" }
  | { readonly type: "shutdown" }
  | { readonly type: "timer"; readonly timer: TimerName }
  | { readonly type: "advert"; readonly advert: VrrpAdvert; readonly source: Uint8Array }
  | { readonly type: "priority"; readonly delta: number }
  | { readonly type: "fault"; readonly on: boolean }
  | { readonly type: "sync"; readonly command: SyncCommand };

/** Outputs of {@linkcode step}, to be carried out in order. */
export type VrrpAction =
  | { readonly type: "arm"; readonly timer: TimerName; readonly at: number }
  | { readonly type: "cancel"; readonly timer: TimerName }
  | { readonly type: "send-advert"; readonly priority: number }
  | { readonly type: "add-vips" }
  | { readonly type: "remove-vips" }
  | { readonly type: "send-garp"; readonly repeat: number }
  | { readonly type: "notify"; readonly state: NotifyState; readonly priority: number }
  | { readonly type: "log"; readonly level: "info" | "warning"; readonly message: string };

/** Result of {@linkcode step}. */
export interface StepResult {
  readonly state: VrrpState;
  readonly actions: readonly VrrpAction[];
}

/** Options for {@linkcode initialState}. */
export interface InitialStateOptions {
  /** Source address of adverts (IPv4 primary / `unicast_src_ip`, or the IPv6 link-local). */
  readonly primaryAddress: Uint8Array;
}

/**
 * The effective priority: base + Σ adjustments clamped to 1..254; the owner (255) is exempt.
 *
 * @param base configured priority
 * @param delta Σ of tracking adjustments
 * @returns the priority to advertise and compare with
 * @example
 * ```ts
 * effectivePriority(150, -60); // 90
 * effectivePriority(250, 20); // 254
 * effectivePriority(255, -100); // 255
 * ```
 */
export function effectivePriority(base: number, delta: number): number {
  if (base === 255) return 255;
  return Math.min(254, Math.max(1, base + delta));
}

/**
 * Builds the "initialize" state of an instance. Feed `{ type: "startup" }` next.
 *
 * @param config the instance config
 * @param options the primary (source) address
 * @returns the initial state
 * @example
 * ```ts
 * import { instanceConfig } from "./testdata/instance_config.ts";
 * const s0 = initialState(instanceConfig(), { primaryAddress: new Uint8Array([192, 0, 2, 1]) });
 * s0.name; // "initialize"
 * ```
 */
export function initialState(
  config: VrrpInstanceConfig,
  options: InitialStateOptions,
): VrrpState {
  const adverIntUs = fieldToUs(config.version, intervalField(config.version, config.advertInt));
  const params: InstanceParams = {
    name: config.name,
    version: config.version,
    vrid: config.virtualRouterId,
    adverIntUs,
    preempt: config.preempt,
    preemptDelayUs: config.preemptDelay * 1000,
    lowerPrioNoAdvert: config.lowerPrioNoAdvert,
    garpMasterDelayUs: config.garpMasterDelay * 1000,
    garpMasterRepeat: config.garpMasterRepeat,
  };
  return {
    name: "initialize",
    params,
    primaryAddress: options.primaryAddress,
    basePriority: config.priority,
    trackDelta: 0,
    effectivePriority: effectivePriority(config.priority, 0),
    masterAdverIntUs: adverIntUs,
    timers: { adver: null, masterDown: null, garp: null },
    preemptAt: null,
    master: null,
    fault: false,
    syncFault: false,
  };
}

/** Mutable working copy used inside one step. */
interface Work {
  s: VrrpState;
  acts: VrrpAction[];
  now: number;
}

function set(w: Work, patch: Partial<VrrpState>): void {
  w.s = { ...w.s, ...patch };
}

function log(w: Work, message: string, level: "info" | "warning" = "info"): void {
  w.acts.push({ type: "log", level, message: `(${w.s.params.name}) ${message}` });
}

function arm(w: Work, timer: TimerName, at: number): void {
  set(w, { timers: { ...w.s.timers, [timer]: at } });
  w.acts.push({ type: "arm", timer, at });
}

function cancel(w: Work, ...timers: TimerName[]): void {
  for (const timer of timers) {
    if (w.s.timers[timer] === null) continue;
    set(w, { timers: { ...w.s.timers, [timer]: null } });
    w.acts.push({ type: "cancel", timer });
  }
}

function mdi(s: VrrpState): number {
  return masterDownIntervalUs({
    version: s.params.version,
    priority: s.effectivePriority,
    masterAdverIntUs: s.masterAdverIntUs,
  });
}

function skew(s: VrrpState): number {
  return skewTimeUs({
    version: s.params.version,
    priority: s.effectivePriority,
    masterAdverIntUs: s.masterAdverIntUs,
  });
}

function garpBurst(w: Work): void {
  const { garpMasterRepeat, garpMasterDelayUs } = w.s.params;
  if (garpMasterRepeat <= 0) return;
  w.acts.push({ type: "send-garp", repeat: garpMasterRepeat });
  if (garpMasterDelayUs > 0) arm(w, "garp", w.now + garpMasterDelayUs);
}

function becomeMaster(w: Work): void {
  cancel(w, "masterDown");
  set(w, { name: "master", master: null });
  w.acts.push({ type: "send-advert", priority: w.s.effectivePriority });
  log(w, "Entering MASTER STATE");
  w.acts.push({ type: "add-vips" });
  garpBurst(w);
  w.acts.push({ type: "notify", state: "MASTER", priority: w.s.effectivePriority });
  arm(w, "adver", w.now + w.s.params.adverIntUs);
}

function becomeBackup(w: Work, why: string): void {
  const wasMaster = w.s.name === "master";
  cancel(w, "adver", "garp");
  set(w, { name: "backup" });
  log(w, `Entering BACKUP STATE${why}`);
  if (wasMaster) {
    log(w, "removing VIPs.");
    w.acts.push({ type: "remove-vips" });
  }
  w.acts.push({ type: "notify", state: "BACKUP", priority: w.s.effectivePriority });
  arm(w, "masterDown", w.now + mdi(w.s));
}

function enterFault(w: Work): void {
  const wasMaster = w.s.name === "master";
  if (wasMaster) {
    // keepalived was seen sending the priority-0 advert twice on entering FAULT.
    w.acts.push({ type: "send-advert", priority: 0 }, { type: "send-advert", priority: 0 });
  }
  cancel(w, "adver", "garp", "masterDown");
  set(w, { name: "fault", master: null });
  log(w, "Entering FAULT STATE");
  if (wasMaster) {
    log(w, "removing VIPs.");
    w.acts.push({ type: "remove-vips" });
  }
  w.acts.push({ type: "notify", state: "FAULT", priority: w.s.effectivePriority });
}

function leaveFault(w: Work): void {
  set(w, {
    masterAdverIntUs: w.s.params.adverIntUs,
    preemptAt: w.s.params.preemptDelayUs > 0 ? w.now + w.s.params.preemptDelayUs : null,
  });
  if (w.s.effectivePriority === 255) becomeMaster(w);
  else becomeBackup(w, " (from fault)");
}

function stop(w: Work): void {
  const wasMaster = w.s.name === "master";
  cancel(w, "adver", "garp", "masterDown");
  if (wasMaster) {
    w.acts.push({ type: "send-advert", priority: 0 });
    log(w, "sent 0 priority");
    log(w, "removing VIPs.");
    w.acts.push({ type: "remove-vips" });
  }
  set(w, { name: "stopped" });
  w.acts.push({ type: "notify", state: "STOP", priority: w.s.effectivePriority });
}

function startup(w: Work): void {
  set(w, {
    masterAdverIntUs: w.s.params.adverIntUs,
    preemptAt: w.s.params.preemptDelayUs > 0 ? w.now + w.s.params.preemptDelayUs : null,
    master: null,
  });
  log(w, "removing VIPs.");
  w.acts.push({ type: "remove-vips" });
  if (w.s.fault || w.s.syncFault) {
    set(w, { name: "fault" });
    log(w, "Entering FAULT STATE (init)");
    w.acts.push({ type: "notify", state: "FAULT", priority: w.s.effectivePriority });
  } else if (w.s.effectivePriority === 255) {
    becomeMaster(w);
  } else {
    becomeBackup(w, " (init)");
  }
}

function advertIntervalUs(s: VrrpState, advert: VrrpAdvert): number {
  return advert.version === 3 ? fieldToUs(3, advert.maxAdverInt) : s.masterAdverIntUs;
}

function backupAdvert(w: Work, advert: VrrpAdvert, source: Uint8Array): void {
  const s = w.s;
  const prio = advert.priority;
  if (prio === 0) {
    log(w, "Backup received priority 0 advertisement");
    arm(w, "masterDown", w.now + skew(s));
    return;
  }
  const delaying = s.params.preemptDelayUs > 0 && (s.preemptAt === null || s.preemptAt > w.now);
  if (!s.params.preempt || prio >= s.effectivePriority || delaying) {
    const interval = advertIntervalUs(s, advert);
    if (interval !== s.masterAdverIntUs) {
      log(
        w,
        `advertisement interval updated from ${s.masterAdverIntUs / 1000}ms to ${
          interval / 1000
        }ms by master`,
      );
    }
    set(w, { masterAdverIntUs: interval, master: { address: source, priority: prio } });
    if (s.params.preemptDelayUs > 0) {
      if (prio >= s.effectivePriority) set(w, { preemptAt: null });
      else if (s.preemptAt === null) set(w, { preemptAt: w.now + s.params.preemptDelayUs });
    }
    arm(w, "masterDown", w.now + mdi(w.s));
    return;
  }
  // Preempting and lower priority: discard; the down timer keeps its deadline (keepalived).
  log(w, `received lower priority (${prio}) advert from ${formatIp(source)} - discarding`);
  set(w, { master: { address: source, priority: prio } });
}

function masterAdvert(w: Work, advert: VrrpAdvert, source: Uint8Array): void {
  const prio = advert.priority;
  const from = formatIp(source);
  if (prio === 0) {
    w.acts.push({ type: "send-advert", priority: w.s.effectivePriority });
    arm(w, "adver", w.now + w.s.params.adverIntUs);
    log(w, "Master received priority 0 message");
    return;
  }
  const cmp = compareIp(source, w.s.primaryAddress);
  if (prio === w.s.effectivePriority) {
    if (cmp === 0) {
      log(
        w,
        "WARNING - equal priority advert received from remote host with our IP address.",
        "warning",
      );
    } else if (w.s.effectivePriority === 255) {
      log(
        w,
        "CONFIGURATION ERROR: local instance and a remote instance are both configured as address owner, please fix - reducing local priority",
        "warning",
      );
      set(w, { basePriority: 254, effectivePriority: 254 });
    }
  }
  const mine = w.s.effectivePriority;
  if (prio < mine || (prio === mine && cmp < 0)) {
    const forcing = w.s.params.lowerPrioNoAdvert ? "" : ", forcing new election";
    log(w, `Received advert from ${from} with lower priority ${prio}, ours ${mine}${forcing}`);
    if (!w.s.params.lowerPrioNoAdvert) {
      w.acts.push({ type: "send-advert", priority: mine });
      arm(w, "adver", w.now + w.s.params.adverIntUs);
    }
    garpBurst(w);
    return;
  }
  if (prio > mine || (prio === mine && cmp > 0)) {
    log(
      w,
      prio > mine
        ? `Master received advert from ${from} with higher priority ${prio}, ours ${mine}`
        : `Master received advert from ${from} with same priority ${prio} but higher IP address than ours`,
    );
    set(w, {
      masterAdverIntUs: advertIntervalUs(w.s, advert),
      master: { address: source, priority: prio },
    });
    becomeBackup(w, "");
  }
}

function priorityChange(w: Work, delta: number): void {
  const eff = effectivePriority(w.s.basePriority, delta);
  if (eff !== w.s.effectivePriority) {
    log(w, `Changing effective priority from ${w.s.effectivePriority} to ${eff}`);
  }
  set(w, { trackDelta: delta, effectivePriority: eff });
}

function faultChange(w: Work, patch: Partial<VrrpState>): void {
  const before = w.s.fault || w.s.syncFault;
  set(w, patch);
  const after = w.s.fault || w.s.syncFault;
  if (w.s.name === "initialize" || w.s.name === "stopped" || before === after) return;
  if (after) enterFault(w);
  else leaveFault(w);
}

function sync(w: Work, command: SyncCommand): void {
  switch (command) {
    case "fault":
      return faultChange(w, { syncFault: true });
    case "clear-fault":
      return faultChange(w, { syncFault: false });
    case "master":
      if (w.s.name === "backup") becomeMaster(w);
      return;
    case "backup":
      if (w.s.name === "master") {
        set(w, { masterAdverIntUs: w.s.params.adverIntUs });
        becomeBackup(w, " (sync group)");
      }
      return;
  }
}

function timer(w: Work, name: TimerName): void {
  if (w.s.timers[name] === null) return;
  set(w, { timers: { ...w.s.timers, [name]: null } });
  if (name === "masterDown" && w.s.name === "backup") {
    becomeMaster(w);
  } else if (name === "adver" && w.s.name === "master") {
    w.acts.push({ type: "send-advert", priority: w.s.effectivePriority });
    arm(w, "adver", w.now + w.s.params.adverIntUs);
  } else if (name === "garp" && w.s.name === "master") {
    w.acts.push({ type: "send-garp", repeat: w.s.params.garpMasterRepeat });
  }
}

/**
 * Advances the machine by one event.
 *
 * @param state the current state
 * @param event what happened
 * @param now the current time in µs (monotonic)
 * @returns the new state and the actions to carry out, in order
 * @example
 * ```ts
 * import { instanceConfig } from "./testdata/instance_config.ts";
 * const s0 = initialState(instanceConfig(), { primaryAddress: new Uint8Array([192, 0, 2, 1]) });
 * const { state, actions } = step(s0, { type: "startup" }, 0);
 * state.name; // "backup"
 * actions.at(-1); // { type: "arm", timer: "masterDown", at: 3609375 }
 * // later: step(state, { type: "timer", timer: "masterDown" }, 3609375) gives, in order:
 * // send-advert, add-vips, send-garp, (arm garp), notify MASTER, arm adver
 * ```
 */
export function step(state: VrrpState, event: VrrpEvent, now: number): StepResult {
  const w: Work = { s: state, acts: [], now };
  const name = state.name;
  switch (event.type) {
    case "startup":
      if (name === "initialize" || name === "stopped") startup(w);
      break;
    case "shutdown":
      if (name !== "initialize" && name !== "stopped") stop(w);
      break;
    case "timer":
      timer(w, event.timer);
      break;
    case "advert":
      if (name === "backup") backupAdvert(w, event.advert, event.source);
      else if (name === "master") masterAdvert(w, event.advert, event.source);
      break;
    case "priority":
      priorityChange(w, event.delta);
      break;
    case "fault":
      faultChange(w, { fault: event.on });
      break;
    case "sync":
      sync(w, event.command);
      break;
  }
  return { state: w.s, actions: w.acts };
}
