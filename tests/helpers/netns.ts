/**
 * Network-namespace lab for VRRP interop tests: one namespace holding a bridge (multicast
 * snooping off) and N node namespaces, each with `eth0` (a veth into the bridge) addressed
 * 192.0.2.K/24 and 2001:db8::K/64 (DAD off so link-locals are usable at once). Names are unique
 * per run; {@linkcode Lab.close} deletes everything. Also: a logged child process wrapper and
 * polling helpers, and {@linkcode VrrpHarness} for VRRP scenarios against keepalived.
 *
 * @module
 */
import type { VirtualIp, VrrpConfig } from "../../src/config/types.ts";

/** Runs a command, returns exit code and output; never throws on a non-zero exit. */
export async function run(
  argv: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(argv[0], { args: argv.slice(1), stdin: "null" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs a command and throws with its stderr when it fails. */
export async function must(argv: readonly string[]): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Whether a program exists (absolute path). */
export function haveFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** keepalived, the interop peer. */
export const KEEPALIVED = "/usr/sbin/keepalived";

/**
 * Whether keepalived interop tests can run here (root, ip(8), keepalived), and the prefix their
 * names carry when they cannot, so the skip is visible with its reason.
 */
export function keepalivedLab(): { ignore: boolean; prefix: string } {
  const isRoot = Deno.uid() === 0;
  const haveIp = haveFile("/usr/sbin/ip") || haveFile("/usr/bin/ip") || haveFile("/sbin/ip");
  const ignore = !isRoot || !haveIp || !haveFile(KEEPALIVED);
  const why = !isRoot ? "not root" : !haveIp ? "no ip(8)" : `no ${KEEPALIVED}`;
  return { ignore, prefix: ignore ? `[SKIPPED: ${why}] ` : "" };
}

/** The created lab. */
export interface Lab {
  /** Node namespace names, index 0 = node 1 (192.0.2.1). */
  readonly nodes: readonly string[];
  readonly bridge: string;
  /** Deletes the namespaces (idempotent). */
  close(): Promise<void>;
}

/**
 * Creates the bridge namespace and `n` node namespaces.
 *
 * @param n number of nodes (≤ 9)
 * @returns the lab
 */
export async function createLab(n: number): Promise<Lab> {
  const id = `hv${Math.floor(Math.random() * 0xffffff).toString(16)}`;
  const bridge = `${id}br`;
  const nodes = Array.from({ length: n }, (_, i) => `${id}n${i + 1}`);
  const created: string[] = [];
  const lab: Lab = {
    nodes,
    bridge,
    async close() {
      for (const ns of created.splice(0)) await run(["ip", "netns", "del", ns]);
    },
  };
  try {
    await must(["ip", "netns", "add", bridge]);
    created.push(bridge);
    await must(["ip", "-n", bridge, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0"]);
    await must(["ip", "-n", bridge, "link", "set", "br0", "up"]);
    for (const [i, ns] of nodes.entries()) {
      await must(["ip", "netns", "add", ns]);
      created.push(ns);
      await must([
        "ip",
        "netns",
        "exec",
        ns,
        "sysctl",
        "-qw",
        "net.ipv6.conf.all.accept_dad=0",
        "net.ipv6.conf.default.accept_dad=0",
      ]);
      const k = i + 1;
      await must([
        "ip",
        "-n",
        bridge,
        "link",
        "add",
        `v${k}`,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        ns,
      ]);
      await must(["ip", "-n", bridge, "link", "set", `v${k}`, "master", "br0", "up"]);
      await must(["ip", "-n", ns, "link", "set", "eth0", "address", `02:00:00:00:00:0${k}`]);
      await must(["ip", "-n", ns, "addr", "add", `192.0.2.${k}/24`, "dev", "eth0"]);
      await must(["ip", "-n", ns, "addr", "add", `2001:db8::${k}/64`, "dev", "eth0", "nodad"]);
      await must(["ip", "-n", ns, "link", "set", "lo", "up"]);
      await must(["ip", "-n", ns, "link", "set", "eth0", "up"]);
    }
    for (const ns of nodes) {
      await waitFor(async () => {
        const out = await run(["ip", "-n", ns, "-6", "-o", "addr", "show", "dev", "eth0"]);
        return /fe80::/.test(out.stdout) && !/tentative/.test(out.stdout);
      }, { timeoutMs: 5000, what: `link-local address in ${ns}` });
    }
  } catch (err) {
    await lab.close();
    throw err;
  }
  return lab;
}

/** Polls `check` every `intervalMs` until it returns true; throws after `timeoutMs`. */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  options: { timeoutMs: number; intervalMs?: number; what: string },
): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < options.timeoutMs) {
    if (await check()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 20));
  }
  throw new Error(`Timed out after ${options.timeoutMs} ms waiting for ${options.what}`);
}

/** When a polled event happened, relative to a start time (see {@linkcode pollUntil}). */
export interface Happened {
  /** It had not happened when the last failing check began: it came after this. */
  earliest: number;
  /** The check that saw it had ended: it came before this. */
  latest: number;
}

/**
 * Polls `check` until it holds and brackets when the event happened, relative to `t0`
 * (`performance.now()` when the cause was triggered). Each check may run a process, so under
 * load the bracket widens; timing assertions compare `earliest` with their bound (the event
 * could not have happened before it), which keeps them true to the protocol and not to the
 * speed of `ip`.
 */
export async function pollUntil(
  check: () => Promise<boolean> | boolean,
  t0: number,
  options: { timeoutMs: number; what: string },
): Promise<Happened> {
  let earliest = 0;
  while (performance.now() - t0 < options.timeoutMs) {
    const began = performance.now() - t0;
    if (await check()) return { earliest, latest: performance.now() - t0 };
    earliest = began;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`Timed out after ${options.timeoutMs} ms waiting for ${options.what}`);
}

/** `earliest–latest ms` of a {@linkcode Happened}. */
export function bracket(h: Happened): string {
  return `${h.earliest.toFixed(0)}–${h.latest.toFixed(0)} ms`;
}

/** Whether namespace `ns` has `address` (no prefix) on any interface. */
export async function hasAddress(ns: string, address: string): Promise<boolean> {
  const out = await run(["ip", "-n", ns, "-o", "addr", "show"]);
  return out.stdout.split("\n").some((l) => l.includes(` ${address}/`));
}

/** The namespaces among `nodes` that hold `address`. */
export async function holders(nodes: readonly string[], address: string): Promise<string[]> {
  const out: string[] = [];
  for (const ns of nodes) if (await hasAddress(ns, address)) out.push(ns);
  return out;
}

/** A child process whose stdout/stderr lines are collected. */
export class Proc {
  /** Collected output lines (stdout and stderr interleaved as read). */
  readonly lines: string[] = [];
  readonly child: Deno.ChildProcess;
  readonly name: string;
  readonly #done: Promise<void>;
  #exited = false;

  /** Spawns `argv` inside namespace `ns`. */
  constructor(name: string, ns: string, argv: readonly string[]) {
    this.name = name;
    this.child = new Deno.Command("ip", {
      args: ["netns", "exec", ns, ...argv],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      const dec = new TextDecoder();
      let rest = "";
      for await (const chunk of stream) {
        rest += dec.decode(chunk, { stream: true });
        const parts = rest.split("\n");
        rest = parts.pop() ?? "";
        this.lines.push(...parts);
      }
      if (rest) this.lines.push(rest);
    };
    this.#done = Promise.all([pump(this.child.stdout), pump(this.child.stderr)]).then(() => {});
    this.child.status.then(() => this.#exited = true);
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /** Waits until a line matches. */
  async waitLine(re: RegExp, timeoutMs: number): Promise<string> {
    let found: string | undefined;
    await waitFor(() => (found = this.lines.find((l) => re.test(l))) !== undefined, {
      timeoutMs,
      what: `${this.name} line ${re}`,
    });
    return found!;
  }

  /** Sends a signal (ignored when already exited). */
  signal(sig: Deno.Signal): void {
    if (this.#exited) return;
    try {
      this.child.kill(sig);
    } catch {
      // exited meanwhile
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process and its output ended. */
  async stop(graceMs = 3000): Promise<Deno.CommandStatus> {
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    const status = await this.child.status;
    clearTimeout(timer);
    await this.#done;
    return status;
  }

  /** Waits for exit and the end of the output. */
  async wait(): Promise<Deno.CommandStatus> {
    const status = await this.child.status;
    await this.#done;
    return status;
  }
}

// ---------------------------------------------------------------------------------------------
// A harness for VRRP scenarios: one lab, its temp dir, the processes a scenario started.

/** One `vrrp_instance` of a generated keepalived config (on eth0). */
export interface KeepalivedInstance {
  /** Instance name; default VI_1. */
  readonly name?: string;
  readonly state: "MASTER" | "BACKUP";
  readonly priority: number;
  readonly vrid: number;
  /** One VIP, without prefix (written as /24 on eth0). */
  readonly vip: string;
  /** Default 3. */
  readonly version?: 2 | 3;
  /** keepalived's `advert_int` text; default "0.1". */
  readonly advertInt?: string;
  /** More lines inside the instance block (e.g. `nopreempt`). */
  readonly extra?: string;
}

/** A keepalived.conf with `vrrp_garp_master_delay 0` and the given instances. */
export function keepalivedConf(routerId: string, instances: readonly KeepalivedInstance[]): string {
  const blocks = instances.map((i) =>
    `vrrp_instance ${i.name ?? "VI_1"} {
  state ${i.state}
  interface eth0
  virtual_router_id ${i.vrid}
  priority ${i.priority}
  advert_int ${i.advertInt ?? "0.1"}
  version ${i.version ?? 3}
  ${i.extra ?? ""}
  virtual_ipaddress {
    ${i.vip}/24 dev eth0
  }
}
`
  );
  return `global_defs {\n  router_id ${routerId}\n  vrrp_garp_master_delay 0\n}\n${
    blocks.join("")
  }`;
}

/** Sends a signal to a pid, ignoring a process that is gone. */
export function signalPid(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch {
    // gone
  }
}

/**
 * A lab of `nodes` namespaces created on first use, a temp dir, and the processes started
 * through it (stopped after each {@linkcode VrrpHarness.scenario}). Halb VRRP runs from
 * tests/testdata/vrrp/run_vrrp.ts (JSON config); keepalived with `-n -l -D -P -R`.
 */
export class VrrpHarness {
  /** Processes of the running scenario. */
  readonly procs: Proc[] = [];
  readonly #nodes: number;
  #lab: Lab | null = null;
  #dir = "";

  /** A harness for `nodes` node namespaces (created lazily). */
  constructor(nodes: number) {
    this.#nodes = nodes;
  }

  /** The lab (after the first scenario started). */
  get lab(): Lab {
    if (!this.#lab) throw new Error("VrrpHarness: no lab yet");
    return this.#lab;
  }

  /** The temp dir for configs and pid files. */
  get dir(): string {
    return this.#dir;
  }

  /** Runs `fn` with the lab; dumps the processes' last lines on failure; stops them after. */
  async scenario(fn: (lab: Lab) => Promise<void>): Promise<void> {
    if (!this.#lab) {
      this.#lab = await createLab(this.#nodes);
      this.#dir = await Deno.makeTempDir({ prefix: "halb-vrrph-" });
    }
    try {
      await fn(this.#lab);
    } catch (err) {
      for (const p of this.procs) console.error(`--- ${p.name}\n${p.lines.slice(-30).join("\n")}`);
      throw err;
    } finally {
      await this.stopAll();
    }
  }

  /** Starts `argv` in `ns` as a process of the scenario. */
  spawn(name: string, ns: string, argv: readonly string[]): Proc {
    const p = new Proc(name, ns, argv);
    this.procs.push(p);
    return p;
  }

  /** Starts halb's VRRP (the test runner) with `config`; waits for READY. */
  async startHalb(name: string, ns: string, config: VrrpConfig): Promise<Proc> {
    const file = `${this.#dir}/${name}.json`;
    await Deno.writeTextFile(file, JSON.stringify(config));
    const runner = new URL("../testdata/vrrp/run_vrrp.ts", import.meta.url).pathname;
    const p = this.spawn(name, ns, [Deno.execPath(), "run", "--allow-all", runner, file]);
    await p.waitLine(/READY|error/i, 20_000);
    return p;
  }

  /** Starts keepalived with the instances; waits for its first state line. */
  async startKeepalived(
    name: string,
    ns: string,
    instances: readonly KeepalivedInstance[],
  ): Promise<Proc> {
    const file = `${this.#dir}/${name}.conf`;
    await Deno.writeTextFile(file, keepalivedConf(name, instances));
    const p = this.spawn(name, ns, [
      "/usr/sbin/keepalived",
      ...["-n", "-l", "-D", "-P", "-R", "-f", file],
      ...["-p", `${this.#dir}/${name}.pid`, "-r", `${this.#dir}/${name}.vrrp.pid`],
    ]);
    await p.waitLine(/Entering BACKUP STATE|Entering MASTER STATE/, 10_000);
    return p;
  }

  /** keepalived's VRRP child pid (it forks one even with -n), 0 when there is none. */
  async keepalivedChild(p: Proc): Promise<number> {
    try {
      return Number((await Deno.readTextFile(`${this.#dir}/${p.name}.vrrp.pid`)).trim()) || 0;
    } catch {
      return 0;
    }
  }

  /** Stops the scenario's processes (and keepalived VRRP children that outlived them). */
  async stopAll(): Promise<void> {
    for (const p of this.procs.splice(0)) {
      await p.stop();
      const child = await this.keepalivedChild(p);
      if (child > 0) signalPid(child, "SIGKILL");
    }
  }

  /** Waits until `ns` is the only node holding `vip`; says when, from `since` (default now). */
  vipOn(
    vip: string,
    ns: string,
    timeoutMs: number,
    since: number = performance.now(),
  ): Promise<Happened> {
    const nodes = this.lab.nodes;
    return pollUntil(() => holders(nodes, vip).then((h) => h.length === 1 && h[0] === ns), since, {
      timeoutMs,
      what: `${vip} on ${ns} only`,
    });
  }

  /** Throws unless exactly `ns` holds `vip` now. */
  async exactlyOne(vip: string, ns: string): Promise<void> {
    const h = await holders(this.lab.nodes, vip);
    if (h.length !== 1 || h[0] !== ns) {
      throw new Error(`VIP ${vip} holders [${h.join(",")}] (want ${ns})`);
    }
  }

  /** Stops everything, deletes the namespaces and the temp dir. */
  async close(): Promise<void> {
    await this.stopAll();
    await this.#lab?.close();
    if (this.#dir) await Deno.remove(this.#dir, { recursive: true });
    this.#lab = null;
    this.#dir = "";
  }
}

/** One IPv4 VIP as the config compiler produces it: `address/24`, no device or label. */
export function vip4(address: string): VirtualIp[] {
  return [{
    address,
    prefix: 24,
    family: 4,
    dev: null,
    label: null,
    text: `${address}/24`,
  }];
}
