/**
 * The VRRP driver: runs every configured instance against the real network.
 *
 * - One raw socket per (interface, family, protocol, IPv6 source), joined to the multicast group
 *   when an instance on it is multicast; one {@linkcode Poller} over all of them and the netlink
 *   link monitor; received packets go to the instances with the packet's VRID (to every instance
 *   on the socket when none matches, which then counts the drop).
 * - Each instance (instance.ts) runs the pure state machine; its timers are `setTimeout`s keyed by
 *   the action's absolute µs deadline on an injectable clock (`performance.now()` by default).
 * - VIPs via rtnetlink (dev = `vip.dev` ?? the instance interface; label), GARP/NA bursts via
 *   `AF_PACKET`, notify scripts/email in a FIFO per instance (notify.ts).
 * - Tracking: `track_script` (track_script.ts), `track_interface` plus the instance's own
 *   interface (weight 0: down → FAULT, as keepalived without `dont_track_primary`), `track_proxy`
 *   through a callback polled every second. Σ weights → the machine's `priority` event; a failing
 *   weight-0 object → `fault`.
 * - Sync groups via sync_group.ts.
 * - Startup: each instance removes its stale VIPs, then enters BACKUP (or MASTER if owner).
 *   Stop: masters send priority 0 and remove their VIPs, notify STOP, then sockets close.
 *
 * @module
 */
import type { VirtualIp, VrrpConfig, VrrpInstanceConfig } from "../config/types.ts";
import type { Logger } from "../log/logger.ts";
import { Poller } from "../sys/poller.ts";
import { openVrrpSocket, type RawPacket, type RawSocket } from "../sys/raw_socket.ts";
import {
  linkIndex,
  type LinkMonitor,
  openLinkMonitor,
  openRtnetlink,
  type Rtnetlink,
} from "../sys/netlink.ts";
import { type Announcer, openAnnouncer } from "../sys/garp.ts";
import { parseIp } from "./address.ts";
import type { ReceivedPacket } from "./validate.ts";
import type { TimerName } from "./state.ts";
import { type InstanceIo, VrrpInstance, type VrrpSnapshot } from "./instance.ts";
import { NotifyQueue } from "./notify.ts";
import { ScriptTracker, type TrackedStatus, trackOutcome } from "./track_script.ts";
import { initialSyncGroup, type SyncGroupState, syncGroupStep } from "./sync_group.ts";
import type { NotifyConfig } from "../config/types.ts";

export type { VrrpSnapshot } from "./instance.ts";

/** The running VRRP subsystem. */
export interface Vrrp {
  /** Masters send priority 0 and drop their VIPs, notify STOP runs, sockets close. */
  stop(): Promise<void>;
  /** Status of every instance, in config order. */
  snapshot(): VrrpSnapshot[];
}

/** Options for {@linkcode startVrrp}. */
export interface StartVrrpOptions {
  readonly logger: Logger;
  /** `track_proxy`: whether the named frontends are serving. Polled every second. */
  readonly trackProxy?: (frontends: readonly string[]) => boolean;
  /** Monotonic clock in µs; default `performance.now()` × 1000. */
  readonly now?: () => number;
  /** `[global.notify]` for `smtp_alert`. */
  readonly mail?: NotifyConfig | null;
}

interface SocketEntry {
  readonly socket: RawSocket;
  readonly instances: VrrpInstance[];
}

const MAX_PACKETS_PER_WAKE = 2000;
const IFA_F_SECONDARY = 0x01;

function defaultNow(): number {
  return Math.round(performance.now() * 1000);
}

function primaryAddress(rtnl: Rtnetlink, cfg: VrrpInstanceConfig): string {
  if (cfg.unicastSrcIp) return cfg.unicastSrcIp;
  const ifindex = linkIndex(cfg.interface);
  const vips = new Set(cfg.virtualIpaddress.map((v) => v.address));
  const addrs = rtnl.listAddresses({ ifindex, family: cfg.family });
  const pick = cfg.family === 4
    ? addrs.find((a) => !(a.flags & IFA_F_SECONDARY) && !vips.has(a.address))
    : addrs.find((a) => a.address.toLowerCase().startsWith("fe80:") && !vips.has(a.address));
  if (!pick) {
    throw new Error(
      `Cannot start VRRP instance ${cfg.name}: interface ${cfg.interface} has no ${
        cfg.family === 4 ? "IPv4" : "IPv6 link-local"
      } address`,
    );
  }
  return pick.address;
}

function toReceived(pkt: RawPacket, family: 4 | 6, group: string): ReceivedPacket | null {
  if (family === 4) {
    const header = pkt.ipHeader ?? new Uint8Array(0);
    const packet = new Uint8Array(header.length + pkt.data.length);
    packet.set(header, 0);
    packet.set(pkt.data, header.length);
    return { family: 4, packet };
  }
  const src = parseIp(pkt.from.split("%")[0]);
  const dst = parseIp(pkt.dst ?? group);
  if (!src || !dst) return null;
  return { family: 6, message: pkt.data, hopLimit: pkt.hopLimit ?? null, src, dst };
}

function peekVrid(pkt: RawPacket, family: 4 | 6): number | undefined {
  const ah = family === 4 && pkt.ipHeader?.[9] === 51;
  return pkt.data[ah ? 25 : 1];
}

/**
 * Starts every VRRP instance of the config. Throws when a socket cannot be opened (e.g. no
 * CAP_NET_RAW) or an interface lacks an address; nothing is left open then.
 *
 * @param config `[vrrp]`
 * @param options logger, track_proxy callback, clock, mail settings
 * @returns the running subsystem
 * @example
 * ```ts ignore
 * const vrrp = await startVrrp(config.vrrp!, { logger });
 * Deno.addSignalListener("SIGTERM", () => vrrp.stop());
 * ```
 */
export async function startVrrp(config: VrrpConfig, options: StartVrrpOptions): Promise<Vrrp> {
  const { logger } = options;
  const now = options.now ?? defaultNow;
  const rtnl = openRtnetlink();
  const sockets = new Map<string, SocketEntry>();
  const announcers = new Map<string, Announcer>();
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const queues = new Map<string, NotifyQueue>();
  const instances: VrrpInstance[] = [];
  const groups = new Map<string, SyncGroupState>();
  /** Sync-group members held in BACKUP although their master-down timer expired. */
  const wantMaster = new Set<string>();
  const poller = new Poller({
    onError: (fd, err) => logger.log("err", `VRRP poll on fd ${fd}: ${(err as Error).message}`),
  });
  let monitor: LinkMonitor | null = null;
  const trackers = new Map<string, ScriptTracker>();
  const links = new Map<string, boolean>();
  let proxyTimer: ReturnType<typeof setInterval> | undefined;
  const proxyUp = new Map<string, boolean>();
  let stopped = false;

  function closeAll(): void {
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
    for (const { socket } of sockets.values()) socket.close();
    for (const a of announcers.values()) a.close();
    monitor?.close();
    rtnl.close();
  }

  function announcer(dev: string): Announcer {
    let a = announcers.get(dev);
    if (!a) {
      a = openAnnouncer(dev);
      announcers.set(dev, a);
    }
    return a;
  }

  function vipSpec(inst: VrrpInstanceConfig, vip: VirtualIp) {
    return {
      ifindex: linkIndex(vip.dev ?? inst.interface),
      address: vip.address,
      prefixLen: vip.prefix,
      ...(vip.label ? { label: vip.label } : {}),
    };
  }

  function makeIo(
    cfg: VrrpInstanceConfig,
    entry: SocketEntry,
    get: () => VrrpInstance,
  ): InstanceIo {
    const fire = (timer: TimerName, at: number) => {
      const key = `${cfg.name}/${timer}`;
      const left = at - now();
      if (left > 0) {
        timers.set(key, setTimeout(() => fire(timer, at), Math.ceil(left / 1000)));
        return;
      }
      timers.delete(key);
      if (stopped) return;
      if (timer === "masterDown" && !canGoMaster(get())) {
        // keepalived's vrrp_sync_can_goto_master: a sync-group member whose master-down timer
        // expired waits (wanting MASTER) while another member still hears a master; the last
        // member to expire takes the whole group to MASTER.
        wantMaster.add(cfg.name);
        return;
      }
      get().dispatch({ type: "timer", timer });
    };
    return {
      send: (bytes, dest) => void entry.socket.send(bytes, dest),
      addVip: (vip) => void rtnl.addAddress(vipSpec(cfg, vip)),
      removeVip: (vip) => void rtnl.deleteAddress(vipSpec(cfg, vip)),
      announce(vip, repeat) {
        const a = announcer(vip.dev ?? cfg.interface);
        for (let i = 0; i < repeat; i++) {
          if (vip.family === 4) a.sendGarp(vip.address);
          else a.sendUnsolicitedNa(vip.address);
        }
      },
      arm(timer, at) {
        const key = `${cfg.name}/${timer}`;
        // Re-armed by an advert (or a new backup period): it no longer wants MASTER.
        if (timer === "masterDown") wantMaster.delete(cfg.name);
        clearTimeout(timers.get(key));
        timers.set(
          key,
          setTimeout(() => fire(timer, at), Math.max(0, Math.ceil((at - now()) / 1000))),
        );
      },
      cancel(timer) {
        const key = `${cfg.name}/${timer}`;
        clearTimeout(timers.get(key));
        timers.delete(key);
      },
      notify: (event) => queues.get(cfg.name)?.push(event),
    };
  }

  /** Whether a sync-group member may leave BACKUP for MASTER now (see `fire`). */
  function canGoMaster(inst: VrrpInstance): boolean {
    for (const group of groups.values()) {
      if (!group.members.includes(inst.name)) continue;
      for (const m of group.members) {
        if (m === inst.name) continue;
        const other = instances.find((i) => i.name === m);
        if (other === undefined) continue;
        const st = other.state.name;
        if (st === "backup" && !wantMaster.has(m)) return false;
      }
    }
    return true;
  }

  function onStep(inst: VrrpInstance): void {
    for (const [name, group] of groups) {
      if (!group.members.includes(inst.name)) continue;
      const r = syncGroupStep(group, {
        member: inst.name,
        state: inst.state.name,
        fault: inst.state.fault,
      });
      groups.set(name, r.group);
      for (const cmd of r.commands) {
        instances.find((i) => i.name === cmd.member)?.dispatch(cmd.event);
      }
    }
  }

  function drain(entry: SocketEntry, family: 4 | 6, group: string): void {
    for (let n = 0; n < MAX_PACKETS_PER_WAKE; n++) {
      let pkt: RawPacket | null;
      try {
        pkt = entry.socket.tryRecv();
      } catch (err) {
        logger.log("err", `VRRP receive failed: ${(err as Error).message}`);
        return;
      }
      if (pkt === null) return;
      try {
        const rx = toReceived(pkt, family, group);
        if (rx === null) continue;
        const vrid = peekVrid(pkt, family);
        const mine = entry.instances.filter((i) => i.config.virtualRouterId === vrid);
        for (const inst of mine.length > 0 ? mine : entry.instances) inst.receive(rx);
      } catch (err) {
        logger.log("err", `VRRP packet handling failed: ${(err as Error).message}`);
      }
    }
  }

  function retrack(inst: VrrpInstance): void {
    const cfg = inst.config;
    const items: TrackedStatus[] = [{ ok: links.get(cfg.interface) ?? true, weight: 0 }];
    for (const ref of cfg.trackScript) {
      items.push({ ok: trackers.get(ref.name)?.ok ?? true, weight: ref.weight });
    }
    for (const ref of cfg.trackInterface) {
      items.push({ ok: links.get(ref.name) ?? false, weight: ref.weight });
    }
    if (cfg.trackProxy) {
      items.push({ ok: proxyUp.get(cfg.name) ?? true, weight: cfg.trackProxy.weight });
    }
    const { delta, fault } = trackOutcome(items);
    if (delta !== inst.state.trackDelta) inst.dispatch({ type: "priority", delta });
    if (fault !== inst.state.fault) inst.dispatch({ type: "fault", on: fault });
  }

  try {
    for (const cfg of config.instances) {
      const src = primaryAddress(rtnl, cfg);
      const protocol = cfg.version === 2 && cfg.authentication?.type === "AH" ? 51 : 112;
      const unicast = cfg.unicastPeer.length > 0;
      const group = cfg.family === 4 ? config.mcastGroup4 : config.mcastGroup6;
      const key = `${cfg.interface}/${cfg.family}/${protocol}/${cfg.family === 6 ? src : ""}`;
      let entry = sockets.get(key);
      if (!entry) {
        const wantsGroup = config.instances.some((o) =>
          o.interface === cfg.interface && o.family === cfg.family && o.unicastPeer.length === 0
        );
        const socket = openVrrpSocket(cfg.interface, {
          family: cfg.family,
          protocol,
          group: wantsGroup ? group : null,
          ...(cfg.family === 6 ? { source: src } : {}),
        });
        entry = { socket, instances: [] };
        sockets.set(key, entry);
        const e = entry;
        poller.add(socket.fd, () => drain(e, cfg.family, group));
      }
      let inst: VrrpInstance | null = null;
      inst = new VrrpInstance(cfg, {
        primaryAddress: src,
        io: makeIo(cfg, entry, () => inst!),
        logger,
        now,
        mcastGroup4: config.mcastGroup4,
        mcastGroup6: config.mcastGroup6,
        onStep,
      });
      entry.instances.push(inst);
      instances.push(inst);
      queues.set(
        cfg.name,
        new NotifyQueue(cfg, {
          logger,
          routerId: config.routerId,
          mail: options.mail ?? null,
          scriptUser: config.scriptUser,
        }),
      );
      if (unicast) logger.log("info", `(${cfg.name}) unicast to ${cfg.unicastPeer.join(", ")}`);
    }
    for (const g of config.syncGroups) groups.set(g.name, initialSyncGroup(g));

    monitor = openLinkMonitor();
    for (const link of rtnl.listLinks()) links.set(link.name, link.up && link.lowerUp);
    const mon = monitor;
    poller.add(mon.fd, () => {
      let changed = false;
      for (const ev of mon.drain()) {
        if (ev.kind === "link") {
          const up = ev.action === "new" && ev.link.up && ev.link.lowerUp;
          if (links.get(ev.link.name) !== up) {
            logger.log("info", `Netlink reports ${ev.link.name} ${up ? "up" : "down"}`);
            links.set(ev.link.name, up);
            changed = true;
          }
        }
      }
      if (changed && !stopped) { for (const inst of instances) retrack(inst); }
    });
    poller.start();
  } catch (err) {
    await poller.stop();
    closeAll();
    throw err;
  }

  const scriptsByName = new Map(config.scripts.map((s) => [s.name, s]));
  for (const inst of instances) {
    for (const ref of inst.config.trackScript) {
      const sc = scriptsByName.get(ref.name);
      if (!sc || trackers.has(ref.name)) continue;
      trackers.set(
        ref.name,
        new ScriptTracker(sc, {
          logger,
          onChange: () => {
            if (stopped) return;
            for (const i of instances) {
              if (i.config.trackScript.some((r) => r.name === ref.name)) retrack(i);
            }
          },
        }),
      );
    }
  }
  const { trackProxy } = options;
  const proxyInstances = instances.filter((i) => i.config.trackProxy);
  if (trackProxy && proxyInstances.length > 0) {
    const poll = (initial: boolean) => {
      for (const i of proxyInstances) {
        const frontends = i.config.trackProxy!.frontends;
        let up = false;
        try {
          up = trackProxy(frontends);
        } catch (err) {
          logger.log("err", `(${i.name}) track_proxy failed: ${(err as Error).message}`);
        }
        if (proxyUp.get(i.name) === up) continue;
        proxyUp.set(i.name, up);
        if (initial) continue;
        logger.log("info", `(${i.name}) track_proxy ${frontends.join(",")} ${up ? "up" : "down"}`);
        retrack(i);
      }
    };
    poll(true);
    proxyTimer = setInterval(() => poll(false), 1000);
  }

  for (const inst of instances) retrack(inst);
  for (const inst of instances) inst.dispatch({ type: "startup" });
  for (const t of trackers.values()) t.start();

  let stopping: Promise<void> | null = null;
  return {
    snapshot: () => instances.map((i) => i.snapshot()),
    stop() {
      stopping ??= (async () => {
        clearInterval(proxyTimer);
        await Promise.all([...trackers.values()].map((t) => t.stop()));
        for (const inst of instances) inst.dispatch({ type: "shutdown" });
        stopped = true;
        await Promise.all([...queues.values()].map((q) => q.idle()));
        await poller.stop();
        closeAll();
      })();
      return stopping;
    },
  };
}
