/**
 * The two-node VRRP lab that `scripts/lab` runs (root only; everything lives in network
 * namespaces named `<id>-*` that it creates and removes).
 *
 * Topology: a switch namespace with two bridges; front 192.0.2.0/24 (client .50, lb1 .1, lb2 .2,
 * VIP .100) and back 198.51.100.0/24 (lb1 .1, lb2 .2, web1 .11, web2 .12). lb1 and lb2 each run
 * `scripts/halb run -c` on a generated config: one VRRP instance (lb1 priority 150, lb2 100,
 * VRRPv3, 1 s adverts) and a tcp frontend bound to the VIP (`ip_nonlocal_bind`) balancing over
 * the two backends with health checks. The client fetches through the VIP every 100 ms.
 *
 * The run: wait for lb1 to own the VIP, let the client fetch, SIGKILL lb1's halb, measure the
 * time until lb2 owns the VIP and until the client is served again, let the client continue,
 * (full run) restart lb1 and watch the VIP return by preemption, then clean up. Bounded to 60 s.
 *
 * The same file also runs the lab's helpers inside the namespaces:
 * - `lab.ts serve NAME HOST:PORT`: an HTTP responder answering `NAME`;
 * - `lab.ts client HOST:PORT MAX_MS`: one GET every 100 ms, each printed as
 *   `F <start ms> <end ms> ok <body>` or `F <start ms> <end ms> fail <why>` (epoch ms).
 *
 * @module
 */

const VIP = "192.0.2.100";
const LIMIT_MS = 60_000;
const HALB = new URL("./halb", import.meta.url).pathname;
const SELF = new URL(import.meta.url).pathname;
const DENO = Deno.execPath();
/** Master_Down_Interval of the priority-100 backup with 1 s VRRPv3 adverts. */
const MDI_MS = 3000 + Math.round(((256 - 100) / 256) * 1000);

interface LabOptions {
  readonly id: string;
  readonly quick: boolean;
  readonly verbose: boolean;
}

/** One fetch as the client reported it. */
interface Fetch {
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
  /** Body (the backend's name) or the failure reason. */
  readonly detail: string;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------
// Helpers run inside the namespaces.

function serve(name: string, hostPort: string): void {
  const [host, port] = splitHostPort(hostPort);
  Deno.serve({
    hostname: host,
    port,
    onListen: () => console.log("LISTENING"),
  }, () => new Response(`${name}\n`, { headers: { connection: "close" } }));
}

async function client(hostPort: string, maxMs: number): Promise<void> {
  const [host, port] = splitHostPort(hostPort);
  const http = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const until = Date.now() + maxMs;
  while (Date.now() < until) {
    const start = Date.now();
    let line: string;
    try {
      const res = await fetch(`http://${host}:${port}/`, {
        client: http,
        headers: { connection: "close" },
        signal: AbortSignal.timeout(400),
      });
      const body = (await res.text()).trim();
      line = res.ok ? `ok ${body}` : `fail http-${res.status}`;
    } catch (err) {
      const e = err as Error;
      const text = `${e.name} ${e.message} ${e.cause instanceof Error ? e.cause.message : ""}`;
      line = /refused/i.test(text)
        ? "fail refused"
        : /timeout|abort/i.test(text)
        ? "fail timeout"
        : /reset/i.test(text)
        ? "fail reset"
        : "fail error";
    }
    console.log(`F ${start} ${Date.now()} ${line}`);
    const wait = 100 - (Date.now() - start);
    if (wait > 0) await sleep(wait);
  }
  http.close();
}

function splitHostPort(text: string): [string, number] {
  const i = text.lastIndexOf(":");
  return [text.slice(0, i), Number(text.slice(i + 1))];
}

// ---------------------------------------------------------------------------------------------
// The orchestrator.

/** A child process inside a namespace, its output read line by line. */
class Child {
  readonly name: string;
  readonly lines: string[] = [];
  readonly #proc: Deno.ChildProcess;
  readonly #done: Promise<void>;
  #exited = false;

  constructor(name: string, ns: string, argv: readonly string[], onLine: (l: string) => void) {
    this.name = name;
    this.#proc = new Deno.Command("ip", {
      args: ["netns", "exec", ns, ...argv],
      env: { HALB_DENO: DENO, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      let rest = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        rest += chunk;
        const parts = rest.split("\n");
        rest = parts.pop() ?? "";
        for (const l of parts) {
          this.lines.push(l);
          onLine(l);
        }
      }
      if (rest) {
        this.lines.push(rest);
        onLine(rest);
      }
    };
    this.#done = Promise.all([pump(this.#proc.stdout), pump(this.#proc.stderr)]).then(() => {});
    this.#proc.status.then(() => this.#exited = true);
  }

  get exited(): boolean {
    return this.#exited;
  }

  signal(sig: Deno.Signal): void {
    if (this.#exited) return;
    try {
      this.#proc.kill(sig);
    } catch {
      // exited meanwhile
    }
  }

  /**
   * The pid of the process doing the work: `scripts/halb` runs halb under `deno task`, so for
   * halb it is the pid halb logs at start ("... (pid N)"); otherwise the spawned process.
   */
  get workerPid(): number {
    for (const l of this.lines) {
      const m = /^\[NOTICE\] halb started with .* \(pid (\d+)\)$/.exec(l);
      if (m) return Number(m[1]);
    }
    return this.#proc.pid;
  }

  /** SIGTERM, SIGKILL after `graceMs`; resolves when the process ended (output: 1 s more). */
  async stop(graceMs: number): Promise<void> {
    const pids = [...new Set([this.workerPid, this.#proc.pid])];
    const send = (sig: Deno.Signal) => {
      if (this.#exited) return;
      for (const pid of pids) {
        try {
          Deno.kill(pid, sig);
        } catch {
          // gone
        }
      }
    };
    send("SIGTERM");
    const timer = setTimeout(() => send("SIGKILL"), graceMs);
    await this.#proc.status;
    clearTimeout(timer);
    let idle: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#done, new Promise((r) => idle = setTimeout(r, 1000))]);
    clearTimeout(idle);
  }

  async waitLine(re: RegExp, timeoutMs: number): Promise<void> {
    await waitFor(() => this.lines.some((l) => re.test(l)), {
      timeoutMs,
      what: `${this.name} to print ${re}`,
    });
  }
}

async function run(argv: readonly string[]): Promise<{ ok: boolean; out: string; err: string }> {
  const r = await new Deno.Command(argv[0], { args: argv.slice(1), stdin: "null" }).output();
  const dec = new TextDecoder();
  return { ok: r.success, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

async function must(argv: readonly string[]): Promise<void> {
  const r = await run(argv);
  if (!r.ok) throw new Error(`${argv.join(" ")}: ${r.err.trim()}`);
}

async function waitFor(
  check: () => boolean | Promise<boolean>,
  o: { timeoutMs: number; what: string; intervalMs?: number },
): Promise<void> {
  const until = performance.now() + o.timeoutMs;
  while (performance.now() < until) {
    if (await check()) return;
    await sleep(o.intervalMs ?? 20);
  }
  throw new Error(`timed out after ${o.timeoutMs} ms waiting for ${o.what}`);
}

async function hasVip(ns: string): Promise<boolean> {
  const r = await run(["ip", "-n", ns, "-o", "-4", "addr", "show", "dev", "eth0"]);
  return r.out.includes(` ${VIP}/`);
}

/** The lab's namespaces, created one by one and all removed by `close`. */
class Topology {
  readonly created: string[] = [];
  readonly id: string;

  constructor(id: string) {
    this.id = id;
  }

  ns(node: string): string {
    return `${this.id}-${node}`;
  }

  async build(): Promise<void> {
    const sw = await this.#add("sw");
    for (const br of ["br0", "br1"]) {
      await must(["ip", "-n", sw, "link", "add", br, "type", "bridge", "mcast_snooping", "0"]);
      await must(["ip", "-n", sw, "link", "set", br, "up"]);
    }
    const nodes: [string, [string, string][]][] = [
      ["lb1", [["br0", "192.0.2.1/24"], ["br1", "198.51.100.1/24"]]],
      ["lb2", [["br0", "192.0.2.2/24"], ["br1", "198.51.100.2/24"]]],
      ["web1", [["br1", "198.51.100.11/24"]]],
      ["web2", [["br1", "198.51.100.12/24"]]],
      ["client", [["br0", "192.0.2.50/24"]]],
    ];
    for (const [node, links] of nodes) {
      const ns = await this.#add(node);
      await must(["ip", "-n", ns, "link", "set", "lo", "up"]);
      for (const [i, [br, addr]] of links.entries()) {
        const port = `${node}${br === "br0" ? "f" : "b"}`;
        const dev = `eth${i}`;
        await must([
          "ip",
          "-n",
          sw,
          "link",
          "add",
          port,
          "type",
          "veth",
          "peer",
          "name",
          dev,
          "netns",
          ns,
        ]);
        await must(["ip", "-n", sw, "link", "set", port, "master", br, "up"]);
        await must(["ip", "-n", ns, "addr", "add", addr, "dev", dev]);
        await must(["ip", "-n", ns, "link", "set", dev, "up"]);
      }
      if (node.startsWith("lb")) {
        // The frontend binds the VIP before the node owns it (as with HAProxy + keepalived).
        await must(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1"]);
      }
    }
  }

  async #add(node: string): Promise<string> {
    const ns = this.ns(node);
    await must(["ip", "netns", "add", ns]);
    this.created.push(ns);
    return ns;
  }

  /** Kills what still runs inside our namespaces (all started by this lab), deletes them. */
  async close(): Promise<number> {
    let removed = 0;
    for (const ns of this.created.splice(0).reverse()) {
      const pids = await run(["ip", "netns", "pids", ns]);
      for (const pid of pids.out.split(/\s+/).filter(Boolean)) {
        try {
          Deno.kill(Number(pid), "SIGKILL");
        } catch {
          // gone
        }
      }
      if ((await run(["ip", "netns", "del", ns])).ok) removed++;
    }
    return removed;
  }
}

function halbConfig(node: 1 | 2): string {
  return `# Generated by scripts/lab for lb${node}.
[global]
log = "stdout"
grace = "1s"

[vrrp]
router_id = "lab-lb${node}"
garp_master_delay = "1s"

[[vrrp.instance]]
name = "VI_LAB"
state = "${node === 1 ? "MASTER" : "BACKUP"}"
interface = "eth0"
virtual_router_id = 51
priority = ${node === 1 ? 150 : 100}
advert_int = "1s"
version = 3
virtual_ipaddress = ["${VIP}/24"]

[defaults]
mode = "tcp"

[defaults.timeout]
connect = "1s"
client = "5s"
server = "5s"

[frontend.web]
bind = ["${VIP}:80"]
default_backend = "web"

[backend.web]
balance = "roundrobin"
server = [
  { name = "web1", address = "198.51.100.11:8080", check = true, inter = "500ms", rise = 1, fall = 2 },
  { name = "web2", address = "198.51.100.12:8080", check = true, inter = "500ms", rise = 1, fall = 2 },
]
`;
}

/** Prints client results in batches: five per line, or at once when success turns to failure. */
class ClientView {
  readonly fetches: Fetch[] = [];
  #batch: Fetch[] = [];
  readonly #say: (text: string) => void;

  constructor(say: (text: string) => void) {
    this.#say = say;
  }

  add(line: string): void {
    const m = /^F (\d+) (\d+) (ok|fail) (.*)$/.exec(line);
    if (!m) return;
    const f: Fetch = { start: +m[1], end: +m[2], ok: m[3] === "ok", detail: m[4] };
    this.fetches.push(f);
    if (this.#batch.length > 0 && this.#batch[0].ok !== f.ok) this.flush();
    this.#batch.push(f);
    if (this.#batch.length >= 5) this.flush();
  }

  flush(): void {
    const b = this.#batch;
    this.#batch = [];
    if (b.length === 0) return;
    const what = b[0].ok
      ? `ok   ${b.map((f) => f.detail).join(" ")}`
      : `FAIL ${b.map((f) => f.detail).join(" ")}`;
    this.#say(`client: ${what}`);
  }
}

/** halb lines worth showing: VRRP transitions, VIP changes, problems. */
const SHOW = /Entering|removing VIPs|sent 0 priority|VRRP is off|Proxy .* started|error|warning/i;

async function lab(o: LabOptions): Promise<number> {
  const t0 = performance.now();
  const say = (text: string) =>
    console.log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${text}`);
  const topo = new Topology(o.id);
  const children: Child[] = [];
  const dir = await Deno.makeTempDir({ prefix: "halb-lab-" });
  let cleaned: Promise<void> | null = null;
  const cleanup = () =>
    cleaned ??= (async () => {
      await Promise.all(children.map((c) => c.stop(1500)));
      const removed = await topo.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      say(`cleaned up: ${removed} namespaces removed, ${children.length} processes stopped`);
    })();
  const onSignal = () => {
    say("interrupted: cleaning up");
    cleanup().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const watchdog = setTimeout(() => {
    say(`time limit of ${LIMIT_MS / 1000} s reached: cleaning up`);
    cleanup().finally(() => Deno.exit(1));
  }, LIMIT_MS);

  const view = new ClientView(say);
  function spawn(name: string, node: string, argv: readonly string[]): Child {
    const c = new Child(name, topo.ns(node), argv, (l) => {
      if (name === "client") view.add(l);
      else if (o.verbose || (name.startsWith("lb") && SHOW.test(l))) say(`${name}: ${l}`);
    });
    children.push(c);
    return c;
  }
  async function startHalb(node: 1 | 2, name: string): Promise<Child> {
    const file = `${dir}/lb${node}.toml`;
    await Deno.writeTextFile(file, halbConfig(node));
    const c = spawn(name, `lb${node}`, [HALB, "run", "-c", file]);
    await c.waitLine(/halb started with/, 20_000);
    return c;
  }

  let code = 1;
  try {
    say(`lab id: ${o.id} (namespaces ${o.id}-*)`);
    await topo.build();
    say("namespaces: sw (bridges), lb1, lb2, web1, web2, client; VIP " + VIP);
    const webs = [1, 2].map((k) =>
      spawn(`web${k}`, `web${k}`, [
        DENO,
        "run",
        "--allow-net",
        SELF,
        "serve",
        `web${k}`,
        `198.51.100.1${k}:8080`,
      ])
    );
    await startHalb(2, "lb2");
    let lb1 = await startHalb(1, "lb1");
    for (const w of webs) await w.waitLine(/^LISTENING$/, 15_000);
    await waitFor(() => hasVip(topo.ns("lb1")), { timeoutMs: 20_000, what: "lb1 to own the VIP" });
    say("lb1 owns the VIP; the client starts fetching http://192.0.2.100/ every 100 ms");
    const client = spawn("client", "client", [
      DENO,
      "run",
      "--allow-net",
      SELF,
      "client",
      `${VIP}:80`,
      String(LIMIT_MS),
    ]);
    const before = o.quick ? 1500 : 3000;
    await waitFor(() => view.fetches.filter((f) => f.ok).length >= 5, {
      timeoutMs: 10_000,
      what: "the client's first successful fetches",
    });
    await sleep(before);
    view.flush();

    const lastOk = view.fetches.filter((f) => f.ok).at(-1);
    const halbPid = lb1.workerPid;
    const killedAt = Date.now();
    Deno.kill(halbPid, "SIGKILL");
    say(`SIGKILL lb1's halb (pid ${halbPid}): the master is gone`);
    await waitFor(() => hasVip(topo.ns("lb2")), {
      timeoutMs: MDI_MS + 3000,
      what: "lb2 to own the VIP",
    });
    const vipAt = Date.now();
    say(`lb2 owns the VIP (${vipAt - killedAt} ms after the kill)`);
    await waitFor(() => view.fetches.some((f) => f.ok && f.start > killedAt), {
      timeoutMs: 5000,
      what: "the client to be served again",
    });
    const served = view.fetches.find((f) => f.ok && f.start > killedAt)!;
    const failed = view.fetches.filter((f) => !f.ok && f.end >= killedAt && f.end <= served.end);
    await sleep(o.quick ? 1500 : 3000);
    view.flush();

    if (!o.quick) {
      say("restarting lb1: it removes its stale VIP, then preempts (priority 150 > 100)");
      const restartAt = Date.now();
      lb1 = await startHalb(1, "lb1'");
      await waitFor(async () => await hasVip(topo.ns("lb1")) && !(await hasVip(topo.ns("lb2"))), {
        timeoutMs: 15_000,
        what: "the VIP back on lb1 only",
      });
      say(`the VIP is back on lb1 only (${Date.now() - restartAt} ms after the restart)`);
      await sleep(2000);
      view.flush();
    }
    client.signal("SIGTERM");
    view.flush();

    const all = view.fetches;
    say(
      `client: ${all.length} fetches, ${all.filter((f) => f.ok).length} ok, ${
        all.filter((f) => !f.ok).length
      } failed`,
    );
    const gap = lastOk
      ? ` (last success before it: ${killedAt - lastOk.end} ms before the kill)`
      : "";
    console.log(
      `failover (SIGKILL master): backup owns the VIP after ${vipAt - killedAt} ms; ` +
        `client served again after ${served.end - killedAt} ms; ${failed.length} fetches failed` +
        gap,
    );
    console.log(
      `  bound: Master_Down_Interval ${MDI_MS} ms after lb1's last advert (adverts every 1000 ms)`,
    );
    code = 0;
  } catch (err) {
    say(`lab failed: ${(err as Error).message}`);
    for (const c of children) {
      if (c.name === "client") continue;
      console.error(`--- last lines of ${c.name}\n${c.lines.slice(-15).join("\n")}`);
    }
  } finally {
    clearTimeout(watchdog);
    await cleanup();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  return code;
}

function parseOptions(args: readonly string[]): LabOptions | string {
  let id = "";
  let quick = false;
  let verbose = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--id") id = args[++i] ?? "";
    else if (a === "--quick") quick = true;
    else if (a === "--verbose" || a === "-v") verbose = true;
    else return `unknown option ${a} (use --quick, --verbose)`;
  }
  if (!/^[a-z0-9]{1,12}$/.test(id)) return "--id NAME (1-12 lowercase letters/digits) is required";
  return { id, quick, verbose };
}

if (import.meta.main) {
  const [cmd, ...rest] = Deno.args;
  if (cmd === "serve") {
    serve(rest[0], rest[1]);
  } else if (cmd === "client") {
    await client(rest[0], Number(rest[1]));
  } else {
    const opts = parseOptions(Deno.args);
    if (typeof opts === "string") {
      console.error(`scripts/lab: ${opts}`);
      Deno.exit(2);
    }
    if (Deno.uid() !== 0) {
      console.error("scripts/lab: needs root (it creates network namespaces)");
      Deno.exit(1);
    }
    Deno.exit(await lab(opts));
  }
}
