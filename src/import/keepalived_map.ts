/**
 * Maps a parsed keepalived.conf onto halb.toml sections: `global_defs` → `[vrrp]` and
 * `[global.notify]`, `vrrp_script` → `[vrrp.script.NAME]`, `vrrp_instance` →
 * `[[vrrp.instance]]`, `vrrp_sync_group` → `[[vrrp.sync_group]]`. LVS (`virtual_server`) and
 * the other blocks halb does not implement get one warning per block.
 *
 * @module
 */

import type { KaNode } from "./keepalived_parse.ts";
import { type Ledger, toDuration } from "./source.ts";
import { type Entry, entry, type InlineTable, type TomlSection, type Value } from "./toml_doc.ts";

/** What the keepalived.conf contributes to the document. */
export interface KeepalivedParts {
  /** `[global.notify]`, or null. */
  readonly notify: TomlSection | null;
  /** `[vrrp]`, its scripts, instances and sync groups (empty when there is no VRRP content). */
  readonly vrrp: TomlSection[];
}

const UNSUPPORTED_BLOCKS: Record<string, string> = {
  virtual_server: "halb does not implement LVS (IPVS) virtual servers; use a [frontend]",
  virtual_server_group: "halb does not implement LVS (IPVS) virtual servers",
  static_ipaddress: "halb manages only the VIPs of VRRP instances",
  static_routes: "halb manages no static routes",
  static_rules: "halb manages no static rules",
  vrrp_track_process: "halb has no process tracking; use a vrrp_script",
  vrrp_track_file: "halb has no file tracking; use a vrrp_script",
  bfd_instance: "halb has no BFD",
  garp_group: "halb has no GARP groups",
  linkbeat_interfaces: "halb has no linkbeat polling",
  virtual_ipaddress_excluded: "halb has no excluded VIPs; list them in virtual_ipaddress",
  virtual_routes: "halb manages no routes",
  virtual_rules: "halb manages no rules",
  track_file: "halb has no file tracking; use a vrrp_script",
  track_process: "halb has no process tracking; use a vrrp_script",
  track_bfd: "halb has no BFD",
};

const GLOBAL_WHY: Record<string, string> = {
  enable_script_security:
    "halb has no such switch: scripts run as vrrp.script_user and never as root unless it says so",
  vrrp_strict: "halb has no strict mode",
  vrrp_skip_check_adv_addr: "halb always checks the VIPs of adverts",
  vrrp_garp_interval: "halb sends GARP bursts back to back",
  vrrp_gna_interval: "halb sends NA bursts back to back",
  smtp_helo_name: "halb uses the host name in HELO",
  max_auto_priority: "halb does not change its scheduling priority",
};

function notes(n: KaNode) {
  return { comments: [...n.comments], trailing: n.trailing };
}

function section(path: string[], n: KaNode | null, array = false): TomlSection {
  return {
    path,
    array,
    entries: [],
    src: n?.src ?? null,
    comments: n === null ? [] : [...n.comments],
    trailing: n?.trailing ?? null,
  };
}

function bool(word: string | undefined): boolean {
  return word === undefined || !["off", "false", "no", "0"].includes(word.toLowerCase());
}

/** Maps a parsed keepalived.conf. */
export function mapKeepalived(nodes: readonly KaNode[], ledger: Ledger): KeepalivedParts {
  const m = new KaMapper(ledger);
  for (const n of nodes) m.top(n);
  return m.finish();
}

class KaMapper {
  readonly #ledger: Ledger;
  readonly #vrrp: TomlSection = section(["vrrp"], null);
  readonly #notify: TomlSection = section(["global", "notify"], null);
  readonly #scripts: TomlSection[] = [];
  readonly #instances: TomlSection[] = [];
  readonly #groups: TomlSection[] = [];
  #smtpAlert: boolean | null = null;
  #defaultInterface = "eth0";

  constructor(ledger: Ledger) {
    this.#ledger = ledger;
  }

  #warn(n: KaNode, why: string, directive = n.words[0] ?? "") {
    this.#ledger.warn(n.src, directive, why);
  }

  #block(n: KaNode, why: string) {
    this.#warn(n, why);
    this.#ledger.warnedBlock(n.src.file, n.src.line, n.endLine);
  }

  #ok(n: KaNode) {
    this.#ledger.mapped(n.src);
  }

  top(n: KaNode) {
    const kw = n.words[0];
    const why = UNSUPPORTED_BLOCKS[kw];
    if (why !== undefined) return this.#block(n, why);
    if (n.block === null) return this.#warn(n, "halb has no such top-level keyword");
    switch (kw) {
      case "global_defs":
        this.#ok(n);
        for (const c of n.block) this.#global(c);
        return;
      case "vrrp_script":
        return this.#script(n);
      case "vrrp_instance":
        return this.#instance(n);
      case "vrrp_sync_group":
        return this.#group(n);
    }
    this.#block(n, "halb has no such block");
  }

  #global(n: KaNode) {
    const w = n.words;
    const put = (s: TomlSection, key: string, value: Value) => {
      s.entries.push(entry(key, value, n.src, notes(n)));
      this.#ok(n);
    };
    const dur = (s: TomlSection, key: string) => {
      const d = toDuration(w[1] ?? "", "s");
      if (d === null) this.#warn(n, `"${w[1]}" is not a time`);
      else put(s, key, d);
    };
    const int = (s: TomlSection, key: string) => {
      if (/^\d+$/.test(w[1] ?? "")) put(s, key, Number(w[1]));
      else this.#warn(n, `"${w[1]}" is not a number`);
    };
    switch (w[0]) {
      case "router_id":
        return put(this.#vrrp, "router_id", w[1] ?? "");
      case "notification_email": {
        const to = (n.block ?? []).flatMap((c) => {
          this.#ok(c);
          return c.words;
        });
        return put(this.#notify, "email_to", to);
      }
      case "notification_email_from":
        return put(this.#notify, "email_from", w[1] ?? "");
      case "smtp_server": {
        const host = w[1] ?? "";
        const shown = host.includes(":") ? `[${host}]` : host;
        return put(this.#notify, "smtp_server", w[2] === undefined ? host : `${shown}:${w[2]}`);
      }
      case "smtp_connect_timeout":
        return dur(this.#notify, "smtp_connect_timeout");
      case "smtp_alert":
      case "smtp_alert_vrrp":
        this.#smtpAlert = bool(w[1]);
        return this.#ok(n);
      case "vrrp_mcast_group4":
        return put(this.#vrrp, "mcast_group4", w[1] ?? "");
      case "vrrp_mcast_group6":
        return put(this.#vrrp, "mcast_group6", w[1] ?? "");
      case "vrrp_garp_master_delay":
        return dur(this.#vrrp, "garp_master_delay");
      case "vrrp_garp_master_repeat":
        return int(this.#vrrp, "garp_master_repeat");
      case "vrrp_version":
        return int(this.#vrrp, "version");
      case "vrrp_lower_prio_no_advert":
        return put(this.#vrrp, "lower_prio_no_advert", bool(w[1]));
      case "script_user":
        put(this.#vrrp, "script_user", w[1] ?? "");
        if (w[2] !== undefined) this.#warn(n, "halb runs scripts with the user's own group");
        return;
      case "default_interface":
        this.#defaultInterface = w[1] ?? "eth0";
        return this.#ok(n);
    }
    if (n.block !== null) return this.#block(n, GLOBAL_WHY[w[0]] ?? "halb has no equivalent");
    this.#warn(n, GLOBAL_WHY[w[0]] ?? "halb has no equivalent");
  }

  #script(n: KaNode) {
    const name = n.words[1];
    if (name === undefined) return this.#block(n, "missing script name");
    this.#ok(n);
    const s = section(["vrrp", "script", name], n);
    for (const c of n.block ?? []) {
      const w = c.words;
      const put = (key: string, value: Value) => {
        s.entries.push(entry(key, value, c.src, notes(c)));
        this.#ok(c);
      };
      switch (w[0]) {
        case "script":
          put("script", w.slice(1).join(" "));
          continue;
        case "interval":
        case "timeout": {
          const d = toDuration(w[1] ?? "", "s");
          if (d === null) this.#warn(c, `"${w[1]}" is not a time`);
          else put(w[0], d);
          continue;
        }
        case "weight":
          if (!/^-?\d+$/.test(w[1] ?? "")) this.#warn(c, `"${w[1]}" is not a number`);
          else put("weight", Number(w[1]));
          if (w[2] === "reverse") this.#warn(c, "halb has no reversed weights");
          continue;
        case "rise":
        case "fall":
          if (!/^\d+$/.test(w[1] ?? "")) this.#warn(c, `"${w[1]}" is not a number`);
          else put(w[0], Number(w[1]));
          continue;
        case "user":
          put("user", w[1] ?? "");
          if (w[2] !== undefined) this.#warn(c, "halb runs scripts with the user's own group");
          continue;
      }
      this.#warn(c, "halb's vrrp scripts have no such setting");
    }
    this.#scripts.push(s);
  }

  #instance(n: KaNode) {
    const name = n.words[1];
    const body = n.block ?? [];
    if (name === undefined) return this.#block(n, "missing instance name");
    if (!body.some((c) => c.words[0] === "virtual_router_id")) {
      return this.#block(n, "no virtual_router_id");
    }
    this.#ok(n);
    const s = section(["vrrp", "instance"], n, true);
    s.entries.push(entry("name", name, n.src));
    let sawInterface = false, sawSmtp = false, sawVersion: number | null = null;
    let v6 = false;
    for (const c of body) {
      const w = c.words;
      const put = (key: string, value: Value) => {
        s.entries.push(entry(key, value, c.src, notes(c)));
        this.#ok(c);
      };
      const int = (key: string) => {
        if (/^\d+$/.test(w[1] ?? "")) put(key, Number(w[1]));
        else this.#warn(c, `"${w[1]}" is not a number`);
      };
      const dur = (key: string) => {
        const d = toDuration(w[1] ?? "", "s");
        if (d === null) this.#warn(c, `"${w[1]}" is not a time`);
        else put(key, d);
      };
      const why = UNSUPPORTED_BLOCKS[w[0]];
      if (why !== undefined) {
        this.#block(c, why);
        continue;
      }
      switch (w[0]) {
        case "state":
          if (w[1] === "MASTER" || w[1] === "BACKUP") put("state", w[1]);
          else this.#warn(c, `state "${w[1]}" is not MASTER or BACKUP`);
          continue;
        case "interface":
          sawInterface = true;
          put("interface", w[1] ?? "");
          continue;
        case "virtual_router_id":
        case "priority":
          int(w[0]);
          continue;
        case "version":
          if (/^\d+$/.test(w[1] ?? "")) sawVersion = Number(w[1]);
          int("version");
          continue;
        case "advert_int":
          dur("advert_int");
          continue;
        case "preempt_delay":
          dur("preempt_delay");
          continue;
        case "garp_master_delay":
          dur("garp_master_delay");
          continue;
        case "garp_master_repeat":
          int("garp_master_repeat");
          continue;
        case "nopreempt":
          put("preempt", false);
          continue;
        case "preempt":
          put("preempt", true);
          continue;
        case "lower_prio_no_advert":
          put("lower_prio_no_advert", bool(w[1]));
          continue;
        case "smtp_alert":
          sawSmtp = true;
          put("smtp_alert", bool(w[1]));
          continue;
        case "unicast_src_ip":
          put("unicast_src_ip", w[1] ?? "");
          continue;
        case "authentication":
          this.#auth(c, s);
          continue;
        case "virtual_ipaddress": {
          const vips = this.#vips(c);
          if (vips.some((v) => v.split(" ")[0].includes(":"))) v6 = true;
          put("virtual_ipaddress", vips);
          continue;
        }
        case "unicast_peer":
          put("unicast_peer", this.#peers(c));
          continue;
        case "track_script":
        case "track_interface":
          put(w[0], this.#tracks(c));
          continue;
        case "notify_master":
        case "notify_backup":
        case "notify_fault":
        case "notify_stop":
        case "notify":
          put(w[0], w[1] ?? "");
          if (w.length > 2) this.#warn(c, "halb runs notify scripts as vrrp.script_user");
          continue;
      }
      if (c.block !== null) this.#block(c, "halb's VRRP instances have no such block");
      else this.#warn(c, INSTANCE_WHY[w[0]] ?? "halb's VRRP instances have no such setting");
    }
    if (!sawInterface) {
      s.entries.push(
        entry("interface", this.#defaultInterface, null, {
          comments: ["keepalived's default_interface (no interface given)"],
        }),
      );
    }
    if (v6 && sawVersion !== 3) {
      s.entries.push(
        entry("version", 3, null, { comments: ["keepalived runs IPv6 instances as VRRPv3"] }),
      );
    }
    if (!sawSmtp && this.#smtpAlert === true) {
      s.entries.push(entry("smtp_alert", true, null, { comments: ["global_defs smtp_alert"] }));
    }
    this.#instances.push(s);
  }

  #auth(n: KaNode, s: TomlSection) {
    let type: string | null = null;
    let password: string | null = null;
    for (const c of n.block ?? []) {
      if (c.words[0] === "auth_type" && (c.words[1] === "PASS" || c.words[1] === "AH")) {
        type = c.words[1];
        this.#ok(c);
      } else if (c.words[0] === "auth_pass" && c.words[1] !== undefined) {
        password = c.words[1];
        this.#ok(c);
        if (password.length > 8) {
          this.#warn(c, "keepalived uses only the first 8 characters; so does the imported value");
          password = password.slice(0, 8);
        }
      } else this.#warn(c, "expected auth_type PASS|AH or auth_pass");
    }
    if (type === null || password === null) {
      return this.#warn(n, "authentication needs auth_type and auth_pass");
    }
    s.entries.push(entry("authentication", { type, password }, n.src, notes(n)));
    this.#ok(n);
  }

  #vips(n: KaNode): string[] {
    const out: string[] = [];
    for (const c of n.block ?? []) {
      const [ip, ...rest] = c.words;
      const kept = [ip];
      const dropped: string[] = [];
      for (let i = 0; i < rest.length; i++) {
        if ((rest[i] === "dev" || rest[i] === "label") && rest[i + 1] !== undefined) {
          kept.push(rest[i], rest[++i]);
        } else if (["brd", "scope", "peer", "preferred_lft"].includes(rest[i])) {
          dropped.push(`${rest[i]} ${rest[++i] ?? ""}`);
        } else dropped.push(rest[i]);
      }
      out.push(kept.join(" "));
      this.#ok(c);
      if (dropped.length > 0) this.#warn(c, `halb has no VIP option ${dropped.join(", ")}`, ip);
    }
    return out;
  }

  #peers(n: KaNode): string[] {
    return (n.block ?? []).map((c) => {
      this.#ok(c);
      if (c.words.length > 1) this.#warn(c, "halb has no per-peer TTL limits", c.words[0]);
      return c.words[0];
    });
  }

  #tracks(n: KaNode): Value[] {
    const out: Value[] = [];
    for (const c of n.block ?? []) {
      const [name, ...rest] = c.words;
      this.#ok(c);
      if (rest[0] === "weight" && /^-?\d+$/.test(rest[1] ?? "")) {
        out.push({ name, weight: Number(rest[1]) } as InlineTable);
        if (rest.length > 2) this.#warn(c, "halb has no reversed weights", name);
      } else {
        out.push(name);
        if (rest.length > 0) this.#warn(c, `unexpected "${rest.join(" ")}"`, name);
      }
    }
    return out;
  }

  #group(n: KaNode) {
    const name = n.words[1];
    if (name === undefined) return this.#block(n, "missing group name");
    this.#ok(n);
    const s = section(["vrrp", "sync_group"], n, true);
    s.entries.push(entry("name", name, n.src));
    for (const c of n.block ?? []) {
      if (c.words[0] === "group") {
        const members = (c.block ?? []).flatMap((m) => {
          this.#ok(m);
          return m.words;
        });
        s.entries.push(entry("instances", members, c.src, notes(c)));
        this.#ok(c);
      } else if (c.block !== null) this.#block(c, "halb's sync groups have only members");
      else {
        this.#warn(
          c,
          c.words[0].startsWith("notify") || c.words[0] === "smtp_alert"
            ? "halb notifies per instance; set it on the member instances"
            : "halb's sync groups have only members",
        );
      }
    }
    this.#groups.push(s);
  }

  finish(): KeepalivedParts {
    const hasNotify = this.#notify.entries.length > 0;
    let notify: TomlSection | null = hasNotify ? this.#notify : null;
    if (hasNotify) {
      const keys = new Set(this.#notify.entries.map((e) => e.key[0]));
      if (!keys.has("email_to") || !keys.has("smtp_server")) {
        for (const e of this.#notify.entries) {
          if (e.src !== null) {
            this.#ledger.warn(
              e.src,
              e.key[0],
              "halb sends email only with both notification_email and smtp_server",
            );
          }
        }
        notify = null;
      }
    }
    if (notify === null) {
      for (const s of this.#instances) s.entries = s.entries.filter(dropSmtp(this.#ledger));
    }
    const any = this.#scripts.length + this.#instances.length + this.#groups.length > 0 ||
      this.#vrrp.entries.length > 0;
    return {
      notify,
      vrrp: any ? [this.#vrrp, ...this.#scripts, ...this.#instances, ...this.#groups] : [],
    };
  }
}

function dropSmtp(ledger: Ledger) {
  return (e: Entry): boolean => {
    if (e.key[0] !== "smtp_alert" || e.value !== true) return true;
    if (e.src !== null) ledger.warn(e.src, "smtp_alert", "no email settings in global_defs");
    return false;
  };
}

const INSTANCE_WHY: Record<string, string> = {
  mcast_src_ip: "halb sends from the interface's primary address",
  dont_track_primary: "halb always tracks the VRRP interface",
  use_vmac: "halb sends from the interface's own MAC",
  accept: "halb has no accept mode",
  no_accept: "halb has no accept mode",
  strict_mode: "halb has no strict mode",
  debug: "halb has no per-instance debug level",
  garp_master_refresh: "halb sends no periodic GARPs",
  native_ipv6: "halb derives the family from the VIPs",
};
