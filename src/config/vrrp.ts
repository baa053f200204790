/**
 * Compiles `[vrrp]`: check scripts, instances (with keepalived's rules on versions, intervals,
 * authentication, preemption and VIP families) and sync groups.
 *
 * @module
 */

import { ipFamily, parseVirtualIp } from "./address.ts";
import { didYouMean } from "./diagnostics.ts";
import { formatMillis } from "./duration.ts";
import { splitShellWords } from "./shell_words.ts";
import { isTable, Table, typeName } from "./table.ts";
import type {
  TrackRef,
  VirtualIp,
  VrrpConfig,
  VrrpInstanceConfig,
  VrrpScriptConfig,
  VrrpSyncGroupConfig,
} from "./types.ts";

/** What the VRRP compiler needs to know about the rest of the file. */
export interface VrrpContext {
  /** Names of the frontends, for `track_proxy`. */
  readonly frontends: readonly string[];
  /** Whether `[global.notify]` is configured, for `smtp_alert`. */
  readonly hasNotify: boolean;
}

function checkUser(t: Table, key: string): string | null {
  const user = t.optText(key);
  if (user !== null && !t.ctx.probe.userExists(user)) {
    t.warn(key, `user "${user}" does not exist on this machine`);
  }
  return user;
}

/** Warns when the program of a command line cannot be found (it fails at run time). */
function checkCommand(t: Table, key: string, argv: readonly string[]): void {
  const program = argv[0];
  if (program !== undefined && !t.ctx.probe.executableExists(program)) {
    t.warn(key, `"${program}" is not an executable on this machine; it will fail at run time`);
  }
}

function compileScript(t: Table, name: string, scriptUser: string | null): VrrpScriptConfig | null {
  if (!t.has("script")) return null;
  const script = t.text("script");
  const shell = t.bool("shell");
  let argv: readonly string[] = ["/bin/sh", "-c", script];
  if (!shell) {
    const split = splitShellWords(script);
    if (!split.ok) {
      t.error("script", `${split.error} in the command`);
      return null;
    }
    if (split.argv.length === 0) {
      t.error("script", "empty command");
      return null;
    }
    if (split.operators.length > 0) {
      t.warn(
        "script",
        `"${split.operators[0]}" is passed as an argument, not run by a shell; ` +
          "set shell = true to use shell syntax",
      );
    }
    argv = split.argv;
    checkCommand(t, "script", argv);
  }
  const interval = t.duration("interval");
  return {
    name,
    script,
    argv,
    shell,
    interval,
    timeout: t.optDuration("timeout") ?? interval,
    weight: t.int("weight"),
    fall: t.int("fall"),
    rise: t.int("rise"),
    user: checkUser(t, "user") ?? scriptUser,
  };
}

/** Reads `track_script` / `track_interface`: names or `{ name, weight }` tables. */
function compileTracks(
  t: Table,
  key: string,
  weightOf: (name: string, at: readonly (string | number)[]) => number | null,
): TrackRef[] {
  if (!t.has(key)) return [];
  const v = t.get(key);
  if (!Array.isArray(v)) {
    t.error(key, `expected an array of names or { name, weight } tables, found ${typeName(v)}`);
    return [];
  }
  const out: TrackRef[] = [];
  v.forEach((item, i) => {
    let name: string;
    let weight: number | null = null;
    if (typeof item === "string") name = item;
    else if (isTable(item)) {
      const r = new Table(t.ctx, t.at(key, i), item, "track");
      if (!r.has("name")) return;
      name = r.text("name");
      weight = r.optInt("weight");
    } else {
      t.error(key, `expected a name or { name, weight }, found ${typeName(item)}`, i);
      return;
    }
    const at = typeof item === "string" ? t.at(key, i) : t.at(key, i, "name");
    const def = weightOf(name, at);
    if (def !== null) out.push({ name, weight: weight ?? def });
  });
  return out;
}

function checkAdvertInt(t: Table, version: 2 | 3, ms: number): void {
  const shown = typeof t.get("advert_int") === "string" ? t.get("advert_int") : formatMillis(ms);
  if (version === 2) {
    if (ms % 1000 !== 0) {
      t.error(
        "advert_int",
        `VRRPv2 advertises whole seconds: "${shown}" is not (version = 3 allows 10ms steps)`,
      );
    } else if (ms < 1000 || ms > 255_000) {
      t.error("advert_int", `"${shown}" is out of range for VRRPv2 (1s..255s)`);
    }
  } else if (ms % 10 !== 0) {
    t.error("advert_int", `VRRPv3 advertises in 10ms steps: "${shown}" is not a multiple of 10ms`);
  } else if (ms < 10 || ms > 40_950) {
    t.error("advert_int", `"${shown}" is out of range for VRRPv3 (10ms..40.95s)`);
  }
}

function compileVips(t: Table): VirtualIp[] {
  const vips: VirtualIp[] = [];
  t.strings("virtual_ipaddress").forEach((text, i) => {
    const r = parseVirtualIp(text);
    if (!r.ok) {
      t.error("virtual_ipaddress", r.error, i);
      return;
    }
    if (vips.length > 0 && r.value.family !== vips[0].family) {
      t.error(
        "virtual_ipaddress",
        `"${r.value.address}" is IPv${r.value.family} but "${vips[0].address}" is ` +
          `IPv${vips[0].family}: all VIPs of an instance share one family`,
        i,
      );
      return;
    }
    if (r.value.dev !== null && !t.ctx.probe.interfaceExists(r.value.dev)) {
      t.warn("virtual_ipaddress", `interface "${r.value.dev}" does not exist on this machine`, i);
    }
    vips.push(r.value);
  });
  return vips;
}

interface InstanceInputs {
  readonly vrrp: Table;
  readonly scripts: ReadonlyMap<string, VrrpScriptConfig>;
  readonly scriptNames: readonly string[];
  readonly outer: VrrpContext;
}

function compileInstance(t: Table, inp: InstanceInputs): VrrpInstanceConfig {
  const { vrrp, scripts, outer } = inp;
  const state = t.text("state") as "MASTER" | "BACKUP";
  const iface = t.text("interface");
  if (t.has("interface") && !t.ctx.probe.interfaceExists(iface)) {
    t.warn("interface", `interface "${iface}" does not exist on this machine`);
  }
  const vips = compileVips(t);
  const unicastSrc = t.optText("unicast_src_ip");
  const peers = t.strings("unicast_peer");
  const family: 4 | 6 = vips[0]?.family ??
    (unicastSrc !== null && ipFamily(unicastSrc) === 6 ? 6 : 4);
  const explicitVersion = t.has("version") || vrrp.has("version");
  let version = (t.optInt("version") ?? vrrp.int("version")) as 2 | 3;
  if (family === 6 && version === 2) {
    if (explicitVersion) {
      const at = vips.length > 0 ? t.at("virtual_ipaddress", 0) : t.at("unicast_src_ip");
      t.ctx.diags.error(at, "IPv6 needs VRRP version 3 (version 2 is IPv4 only)");
    }
    version = 3;
  }
  const advertInt = t.duration("advert_int");
  if (t.has("advert_int") || version === 2) checkAdvertInt(t, version, advertInt);
  let authentication: VrrpInstanceConfig["authentication"] = null;
  const auth = t.table("authentication");
  if (auth !== null) {
    const password = auth.text("password");
    if (auth.has("password") && (password.length === 0 || password.length > 8)) {
      auth.error("password", `password must be 1 to 8 characters long, found ${password.length}`);
    }
    if (version === 3) {
      t.error("authentication", "authentication is VRRPv2 only (RFC 5798 removed it)");
    } else if (auth.has("type") && auth.has("password")) {
      authentication = { type: auth.text("type") as "PASS" | "AH", password };
    }
  }
  for (
    const [key, ip] of [
      ["unicast_src_ip", unicastSrc] as const,
      ...peers.map((p, i) => [i, p] as const),
    ]
  ) {
    if (ip === null) continue;
    const f = ipFamily(ip);
    const path = typeof key === "number" ? t.at("unicast_peer", key) : t.at(key);
    if (f === 0) t.ctx.diags.error(path, `"${ip}" is not an IP address`);
    else if (f !== family) {
      t.ctx.diags.error(path, `"${ip}" is IPv${f} but the instance is IPv${family}`);
    }
  }
  const priority = t.int("priority");
  let preempt = t.bool("preempt");
  if (!preempt && state === "MASTER") {
    t.warn("preempt", 'preempt = false needs state = "BACKUP" (as keepalived, it is ignored)');
    preempt = true;
  } else if (!preempt && priority === 255) {
    t.error("preempt", "preempt = false is invalid with priority 255 (the address owner)");
  }
  if (t.has("preempt_delay") && state === "MASTER") {
    t.warn("preempt_delay", 'preempt_delay needs state = "BACKUP" (as keepalived, it is ignored)');
  }
  const trackScript = compileTracks(t, "track_script", (name, at) => {
    const s = scripts.get(name);
    if (s !== undefined) return s.weight;
    if (!inp.scriptNames.includes(name)) {
      t.ctx.diags.error(at, `unknown vrrp script "${name}"${didYouMean(name, inp.scriptNames)}`);
    }
    return null;
  });
  const trackInterface = compileTracks(t, "track_interface", (name, at) => {
    if (!t.ctx.probe.interfaceExists(name)) {
      t.ctx.diags.warn(at, `interface "${name}" does not exist on this machine`);
    }
    return 0;
  });
  let trackProxy: VrrpInstanceConfig["trackProxy"] = null;
  const tp = t.table("track_proxy");
  if (tp !== null) {
    const frontends = tp.strings("frontends");
    frontends.forEach((f, i) => {
      if (!outer.frontends.includes(f)) {
        tp.error("frontends", `unknown frontend "${f}"${didYouMean(f, outer.frontends)}`, i);
      }
    });
    trackProxy = { frontends, weight: tp.int("weight") };
  }
  const notifies = ["notify_master", "notify_backup", "notify_fault", "notify_stop", "notify"];
  for (const key of notifies) {
    const cmd = t.optText(key);
    if (cmd === null) continue;
    const split = splitShellWords(cmd);
    if (!split.ok) t.error(key, `${split.error} in the command`);
    else checkCommand(t, key, split.argv);
  }
  const smtpAlert = t.bool("smtp_alert");
  if (smtpAlert && !outer.hasNotify) {
    t.warn("smtp_alert", "smtp_alert has no effect without [global.notify]");
  }
  return {
    name: t.text("name"),
    state,
    interface: iface,
    virtualRouterId: t.int("virtual_router_id"),
    priority,
    advertInt,
    version,
    family,
    authentication,
    virtualIpaddress: vips,
    trackScript,
    trackInterface,
    trackProxy,
    preempt,
    preemptDelay: state === "MASTER" ? 0 : t.duration("preempt_delay"),
    unicastSrcIp: unicastSrc,
    unicastPeer: peers,
    v3Ipv4Checksum: t.text("v3_ipv4_checksum") as "pseudo" | "message",
    lowerPrioNoAdvert: t.optBool("lower_prio_no_advert") ?? vrrp.bool("lower_prio_no_advert"),
    garpMasterDelay: t.optDuration("garp_master_delay") ?? vrrp.duration("garp_master_delay"),
    garpMasterRepeat: t.optInt("garp_master_repeat") ?? vrrp.int("garp_master_repeat"),
    notifyMaster: t.optText("notify_master"),
    notifyBackup: t.optText("notify_backup"),
    notifyFault: t.optText("notify_fault"),
    notifyStop: t.optText("notify_stop"),
    notify: t.optText("notify"),
    smtpAlert,
  };
}

function sharesVrid(a: VrrpInstanceConfig, b: VrrpInstanceConfig): boolean {
  if (a.virtualRouterId !== b.virtualRouterId) return false;
  if (a.interface !== b.interface || a.family !== b.family) return false;
  if (a.unicastPeer.length > 0 && b.unicastPeer.length > 0) {
    return a.unicastPeer.some((p) => b.unicastPeer.includes(p));
  }
  return true;
}

/** Compiles the instances; also returns every instance name written, valid or not. */
function compileInstances(
  vrrp: Table,
  inp: InstanceInputs,
): { instances: VrrpInstanceConfig[]; declared: string[] } {
  const out: VrrpInstanceConfig[] = [];
  const declared: string[] = [];
  const seen = new Map<string, number>();
  for (const t of vrrp.tables("instance")) {
    const index = t.path[t.path.length - 1] as number;
    const instance = compileInstance(t, inp);
    if (t.has("name")) declared.push(instance.name);
    if (!t.has("name") || !t.has("interface") || !t.has("virtual_router_id")) continue;
    const prev = seen.get(instance.name);
    if (prev !== undefined) {
      t.error("name", `duplicate instance name "${instance.name}" (also vrrp.instance[${prev}])`);
      continue;
    }
    seen.set(instance.name, index);
    const clash = out.find((o) => sharesVrid(o, instance));
    if (clash !== undefined) {
      t.error(
        "virtual_router_id",
        `virtual_router_id ${instance.virtualRouterId} is already used on ${instance.interface} ` +
          `(IPv${instance.family}) by instance "${clash.name}"`,
      );
      continue;
    }
    out.push(instance);
  }
  return { instances: out, declared };
}

function compileSyncGroups(vrrp: Table, instances: readonly string[]): VrrpSyncGroupConfig[] {
  const out: VrrpSyncGroupConfig[] = [];
  const member = new Map<string, string>();
  for (const t of vrrp.tables("sync_group")) {
    if (!t.has("name") || !t.has("instances")) continue;
    const name = t.text("name");
    if (out.some((g) => g.name === name)) {
      t.error("name", `duplicate sync group name "${name}"`);
      continue;
    }
    const names = t.strings("instances");
    names.forEach((n, i) => {
      if (!instances.includes(n)) {
        t.error("instances", `unknown vrrp instance "${n}"${didYouMean(n, instances)}`, i);
      } else if (member.has(n)) {
        t.error("instances", `instance "${n}" is already in sync group "${member.get(n)}"`, i);
      } else member.set(n, name);
    });
    out.push({ name, instances: names });
  }
  return out;
}

/** Compiles the `[vrrp]` table. */
export function compileVrrp(vrrp: Table, outer: VrrpContext): VrrpConfig {
  const mcast4 = vrrp.text("mcast_group4");
  if (ipFamily(mcast4) !== 4 || !/^2(2[4-9]|3\d)\./.test(mcast4)) {
    vrrp.error("mcast_group4", `"${mcast4}" is not an IPv4 multicast address`);
  }
  const mcast6 = vrrp.text("mcast_group6");
  if (ipFamily(mcast6) !== 6 || !/^ff/i.test(mcast6)) {
    vrrp.error("mcast_group6", `"${mcast6}" is not an IPv6 multicast address`);
  }
  const scriptUser = checkUser(vrrp, "script_user");
  const scripts = new Map<string, VrrpScriptConfig>();
  const scriptNames: string[] = [];
  for (const [name, value] of vrrp.entries("script")) {
    scriptNames.push(name);
    const t = Table.of(vrrp.ctx, ["vrrp", "script", name], value, "vrrp.script.*");
    const s = t === null ? null : compileScript(t, name, scriptUser);
    if (s !== null) scripts.set(name, s);
  }
  const { instances, declared } = compileInstances(vrrp, { vrrp, scripts, scriptNames, outer });
  const routerId = vrrp.optText("router_id") ?? vrrp.ctx.probe.hostname();
  if (routerId === "") vrrp.error("router_id", "router_id must not be empty");
  return {
    routerId,
    mcastGroup4: mcast4,
    mcastGroup6: mcast6,
    scriptUser,
    scripts: [...scripts.values()],
    instances,
    syncGroups: compileSyncGroups(vrrp, declared),
  };
}
