/**
 * One running VRRP instance: the pure state machine (state.ts) plus what carries out its actions
 * (advert encoding with the IPv4 header / AH, VIPs, GARP/NA, timers, notify), receive validation
 * with counted and rate-limited drops, and the status snapshot. All I/O goes through an
 * {@linkcode InstanceIo} given by the driver (driver.ts), so this is testable with fakes.
 *
 * @module
 */
import type { VirtualIp, VrrpInstanceConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { authKey, encodeAdvert, type VrrpAdvert } from "./codec.ts";
import { encodeIpv4Packet } from "./ipv4.ts";
import { formatIp, parseIp } from "./address.ts";
import { intervalField } from "./timers.ts";
import { initialState, step, type TimerName, type VrrpEvent, type VrrpState } from "./state.ts";
import {
  type DropReason,
  type ReceivedPacket,
  validateAdvert,
  type ValidationContext,
  validationContext,
} from "./validate.ts";
import { type LogLimitState, rateLimit } from "./log_limit.ts";
import type { NotifyEvent } from "./notify.ts";

/** What an instance needs from the outside world. Methods may throw; the instance logs it. */
export interface InstanceIo {
  /** Sends one datagram (IPv4: whole datagram with IP header; IPv6: the VRRP message). */
  send(bytes: Uint8Array, dest: string): void;
  /** Adds a VIP (on `vip.dev` or the instance interface). */
  addVip(vip: VirtualIp): void;
  /** Removes a VIP; absent is fine. */
  removeVip(vip: VirtualIp): void;
  /** Sends `repeat` gratuitous ARPs (IPv4) or unsolicited NAs (IPv6) for a VIP. */
  announce(vip: VirtualIp, repeat: number): void;
  /** Arms (or re-arms) a timer for an absolute time in µs on the driver clock. */
  arm(timer: TimerName, at: number): void;
  /** Disarms a timer. */
  cancel(timer: TimerName): void;
  /** Queues the notifications of a transition. */
  notify(event: NotifyEvent): void;
}

/** Counters of one instance. */
export interface InstanceCounters {
  advertsSent: number;
  advertsReceived: number;
  /** Drops by reason (validate.ts reasons, plus "own": our own advert looped back). */
  drops: Partial<Record<DropReason | "own", number>>;
}

/** The status of one instance, as `Vrrp.snapshot()` reports it. */
export interface VrrpSnapshot {
  readonly name: string;
  /** "initialize" | "backup" | "master" | "fault" | "stopped". */
  readonly state: string;
  /** The configured (base) priority. */
  readonly priority: number;
  readonly effectivePriority: number;
  /** The master last heard (null when we are master or none was heard). */
  readonly masterAddress: string | null;
  /** VIPs currently added by this instance (address/prefix). */
  readonly vips: readonly string[];
  /** When the state last changed (ms since the epoch), null before startup. */
  readonly lastTransition: number | null;
  readonly counters: Readonly<InstanceCounters>;
}

/** Options for {@linkcode VrrpInstance}. */
export interface VrrpInstanceOptions {
  /** Advert source: the interface's primary IPv4 (or unicast_src_ip), or IPv6 link-local. */
  readonly primaryAddress: string;
  readonly io: InstanceIo;
  readonly logger: Logger;
  /** The clock in µs (same as timers). */
  readonly now: () => number;
  /** `[vrrp] mcast_group4` / `mcast_group6`. */
  readonly mcastGroup4: string;
  readonly mcastGroup6: string;
  /** Called after every step with the new state (sync groups). */
  readonly onStep?: (instance: VrrpInstance) => void;
  /** Minimum µs between two drop lines of one reason; default 10 s. */
  readonly dropLogIntervalUs?: number;
}

/** A running instance. */
export class VrrpInstance {
  /** The instance's configuration. */
  readonly config: VrrpInstanceConfig;
  readonly #opts: VrrpInstanceOptions;
  readonly #ctx: ValidationContext;
  readonly #src: Uint8Array;
  readonly #key: Uint8Array | null;
  #state: VrrpState;
  #ahSeq = 0;
  /** The IPv4 packets of the last advert sent (one per destination), to spot our own echo. */
  #echoes: Uint8Array[] = [];
  #ipId = 0;
  #limit: LogLimitState = new Map();
  #held = false;
  #lastTransition: number | null = null;
  readonly #counters: InstanceCounters = { advertsSent: 0, advertsReceived: 0, drops: {} };

  /** Builds an instance in "initialize"; dispatch `{ type: "startup" }` to start it. */
  constructor(config: VrrpInstanceConfig, options: VrrpInstanceOptions) {
    const src = parseIp(options.primaryAddress);
    if (!src || src.length !== (config.family === 4 ? 4 : 16)) {
      throw new TypeError(
        `Cannot start VRRP instance ${config.name}: source address "${options.primaryAddress}" is not IPv${config.family}`,
      );
    }
    this.config = config;
    this.#opts = options;
    this.#src = src;
    this.#key = config.authentication ? authKey(config.authentication.password) : null;
    this.#ctx = validationContext(config, { mcastGroup4: options.mcastGroup4 });
    this.#state = initialState(config, { primaryAddress: src });
  }

  /** The instance name. */
  get name(): string {
    return this.config.name;
  }

  /** The current machine state. */
  get state(): VrrpState {
    return this.#state;
  }

  /** Feeds one event to the state machine and carries out the actions, in order. */
  dispatch(event: VrrpEvent): void {
    const before = this.#state.name;
    const { state, actions } = step(this.#state, event, this.#opts.now());
    this.#state = state;
    if (state.name !== before) this.#lastTransition = Date.now();
    for (const action of actions) {
      try {
        this.#perform(action);
      } catch (err) {
        this.#opts.logger.log(
          "err",
          `(${this.name}) cannot ${action.type}: ${(err as Error).message}`,
        );
      }
    }
    this.#opts.onStep?.(this);
  }

  #perform(action: ReturnType<typeof step>["actions"][number]): void {
    const io = this.#opts.io;
    switch (action.type) {
      case "arm":
        return io.arm(action.timer, action.at);
      case "cancel":
        return io.cancel(action.timer);
      case "send-advert":
        return this.#sendAdvert(action.priority);
      case "add-vips":
        this.#held = true;
        for (const vip of this.config.virtualIpaddress) io.addVip(vip);
        return;
      case "remove-vips":
        this.#held = false;
        for (const vip of this.config.virtualIpaddress) {
          try {
            io.removeVip(vip);
          } catch (err) {
            this.#opts.logger.log(
              "err",
              `(${this.name}) cannot remove VIP ${vip.text}: ${(err as Error).message}`,
            );
          }
        }
        return;
      case "send-garp":
        for (const vip of this.config.virtualIpaddress) io.announce(vip, action.repeat);
        return;
      case "notify":
        return io.notify({ instance: this.name, state: action.state, priority: action.priority });
      case "log":
        return this.#opts.logger.log(action.level, action.message);
    }
  }

  #destinations(): string[] {
    if (this.config.unicastPeer.length > 0) return [...this.config.unicastPeer];
    return [this.config.family === 4 ? this.#opts.mcastGroup4 : this.#opts.mcastGroup6];
  }

  #sendAdvert(priority: number): void {
    const c = this.config;
    const addresses = this.#ctx.vips;
    let advert: VrrpAdvert;
    if (c.version === 2) {
      const auth = c.authentication;
      advert = {
        version: 2,
        family: 4,
        vrid: c.virtualRouterId,
        priority,
        adverInt: intervalField(2, c.advertInt),
        authType: auth === null ? 0 : auth.type === "PASS" ? 1 : 2,
        authData: auth?.type === "PASS" && this.#key ? this.#key : new Uint8Array(8),
        addresses,
      };
    } else {
      advert = {
        version: 3,
        family: c.family,
        vrid: c.virtualRouterId,
        priority,
        maxAdverInt: intervalField(3, c.advertInt),
        addresses,
      };
    }
    const ah = c.version === 2 && c.authentication?.type === "AH" && this.#key;
    if (ah) this.#ahSeq = (this.#ahSeq + 1) >>> 0;
    this.#echoes.length = 0;
    for (const dest of this.#destinations()) {
      const dst = parseIp(dest);
      if (!dst) throw new TypeError(`destination "${dest}" is not an address`);
      let bytes: Uint8Array;
      if (c.family === 4) {
        this.#ipId = this.#ipId >= 0xffff ? 1 : this.#ipId + 1;
        bytes = encodeIpv4Packet(advert, {
          src: this.#src,
          dst,
          id: this.#ipId,
          ttl: 255,
          v3Ipv4Checksum: c.v3Ipv4Checksum,
          ah: ah
            ? { key: this.#key!, seq: this.#ahSeq, unicast: c.unicastPeer.length > 0 }
            : undefined,
        });
      } else {
        // The kernel fills the IPv6 checksum (IPV6_CHECKSUM); ours is overwritten.
        bytes = encodeAdvert(advert, { src: this.#src, dst });
      }
      this.#opts.io.send(bytes, dest);
      if (c.family === 4) this.#echoes.push(bytes);
      this.#counters.advertsSent++;
    }
  }

  /** Validates a received packet for this instance and feeds an accepted advert. Never throws. */
  receive(rx: ReceivedPacket): void {
    if (rx.family === 4 && this.#isEcho(rx.packet)) {
      // Our own advert looped back (unicast to a local address, e.g. the demo on lo).
      this.#counters.drops.own = (this.#counters.drops.own ?? 0) + 1;
      return;
    }
    let result;
    try {
      result = validateAdvert(rx, this.#ctx, { ahSeq: this.#ahSeq });
    } catch (err) {
      result = {
        ok: false as const,
        reason: "malformed" as const,
        detail: `(${this.name}) undecodable packet: ${(err as Error).message}`,
        ahSeq: this.#ahSeq,
      };
    }
    this.#ahSeq = result.ahSeq;
    if (!result.ok) {
      const drops = this.#counters.drops;
      drops[result.reason] = (drops[result.reason] ?? 0) + 1;
      if (result.silent || result.reason === "not-ours") return;
      const limited = rateLimit(this.#limit, {
        key: result.reason,
        now: this.#opts.now(),
        interval: this.#opts.dropLogIntervalUs ?? 10_000_000,
      });
      this.#limit = limited.state;
      if (limited.emit) {
        const more = limited.suppressed > 0 ? ` (${limited.suppressed} similar suppressed)` : "";
        this.#opts.logger.log(
          "info",
          `${result.detail} - advert dropped [${result.reason}]${more}`,
        );
      }
      return;
    }
    this.#counters.advertsReceived++;
    try {
      this.dispatch({ type: "advert", advert: result.value.advert, source: result.value.source });
    } catch (err) {
      this.#opts.logger.log(
        "err",
        `(${this.name}) advert handling failed: ${(err as Error).message}`,
      );
    }
  }

  /** True when `packet` is byte for byte one this instance sent last (same IP id too). */
  #isEcho(packet: Uint8Array): boolean {
    return this.#echoes.some((sent) =>
      sent.length === packet.length && sent.every((b, i) => b === packet[i])
    );
  }

  /** The instance status. */
  snapshot(): VrrpSnapshot {
    const s = this.#state;
    return {
      name: this.name,
      state: s.name,
      priority: this.config.priority,
      effectivePriority: s.effectivePriority,
      masterAddress: s.name === "master" || !s.master ? null : formatIp(s.master.address),
      vips: this.#held ? this.config.virtualIpaddress.map((v) => `${v.address}/${v.prefix}`) : [],
      lastTransition: this.#lastTransition,
      counters: {
        advertsSent: this.#counters.advertsSent,
        advertsReceived: this.#counters.advertsReceived,
        drops: { ...this.#counters.drops },
      },
    };
  }
}
