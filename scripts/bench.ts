/**
 * The side-by-side benchmark: one nginx with two small backends, HAProxy and halb configured the
 * same way in front of them, and wrk driving each in interleaved rounds. Prints each round, the
 * medians and the ratio halb/HAProxy. Everything listens on 127.0.0.1 and every process started
 * here is stopped by pid.
 *
 *   scripts/bench [--rounds 5] [--duration 5] [--connections 32] [--case l4|l7] [--rate 2000]
 *                 [--haproxy-threads N] [--halb-threads M] [--close]
 *   (threads: each at its own default unless given: HAProxy N = one per CPU, halb M = 1)
 *
 * `--case l7` runs both proxies in HTTP mode with `option forwardfor`, keep-alive on both sides,
 * and adds a fixed-rate run (`--rate` requests/s over 16 connections, paced by a wrk Lua delay)
 * whose p50/p99 latencies compare the two at equal load rather than at saturation.
 *
 * `--close` makes wrk send `Connection: close`: a new client connection (and, through the
 * proxy, a new server connection) per request, which measures connection setup and teardown.
 *
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "5" },
    duration: { type: "string", default: "5" },
    connections: { type: "string", default: "32" },
    case: { type: "string", default: "l4" },
    "haproxy-threads": { type: "string", default: "" },
    "halb-threads": { type: "string", default: "" },
    rate: { type: "string", default: "2000" },
    close: { type: "boolean", default: false },
  },
});
const rounds = Number(values.rounds);
const duration = Number(values.duration);
const connections = Number(values.connections);

function which(cmd: string): string | null {
  for (const dir of ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"]) {
    try {
      Deno.statSync(`${dir}/${cmd}`);
      return `${dir}/${cmd}`;
    } catch {
      // keep looking
    }
  }
  return null;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitPort(port: number, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms}ms`);
}

const nginx = which("nginx"), haproxy = which("haproxy"), wrk = which("wrk");
if (!nginx || !haproxy || !wrk) {
  console.error("bench: needs nginx, haproxy and wrk (apt-get install nginx-light haproxy wrk)");
  Deno.exit(2);
}

/** One wrk run against 127.0.0.1:port: requests/s and latency percentiles in ms. */
async function runWrk(
  port: number,
  seconds: number,
  paced?: { connections: number; script: string },
): Promise<{ rps: number; p50: number; p99: number }> {
  const conns = paced?.connections ?? connections;
  const script = paced ? ["-s", paced.script] : [];
  const close = values.close ? ["-H", "Connection: close"] : [];
  const out = await new Deno.Command(wrk!, {
    args: [
      "-t1",
      `-c${conns}`,
      `-d${seconds}s`,
      "--latency",
      ...script,
      ...close,
      `http://127.0.0.1:${port}/`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const lat = (p: string) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(text);
    if (!m) return NaN;
    return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
  };
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(text);
  if (errors) console.error(`  wrk on :${port} reported: ${errors[0]}`);
  return { rps, p50: lat("50"), p99: lat("99") };
}

/** A latency in ms as wrk reports it (µs resolution). */
function ms(x: number): string {
  return `${x.toFixed(3)}ms`;
}

const dir = await Deno.makeTempDir({ prefix: "halb-bench-" });
const children: Deno.ChildProcess[] = [];
function spawn(cmd: string, args: string[]): Deno.ChildProcess {
  const child = new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).spawn();
  children.push(child);
  return child;
}

try {
  const [b1, b2, hp, hb] = [freePort(), freePort(), freePort(), freePort()];
  await Deno.writeTextFile(
    `${dir}/nginx.conf`,
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:${b1}; location / { return 200 "hello from web1\\n"; } }
  server { listen 127.0.0.1:${b2}; location / { return 200 "hello from web2\\n"; } }
}
`,
  );
  const mode = values.case === "l7" ? "http" : "tcp";
  const l7 = mode === "http";
  // Each at its own default unless told: HAProxy one thread per CPU, halb one thread.
  const nthreads = Number(values["haproxy-threads"] || navigator.hardwareConcurrency);
  const threads = `  nbthread ${nthreads}\n`;
  const halbThreads = Number(values["halb-threads"] || 1);
  await Deno.writeTextFile(
    `${dir}/haproxy.cfg`,
    `global
  maxconn 4000
${threads}defaults
  mode ${mode}
  timeout connect 5s
  timeout client 1m
  timeout server 1m
${l7 ? "  option forwardfor\n" : ""}frontend fe
  bind 127.0.0.1:${hp}
  default_backend be
backend be
  balance roundrobin
  server web1 127.0.0.1:${b1}
  server web2 127.0.0.1:${b2}
`,
  );
  await Deno.writeTextFile(
    `${dir}/halb.toml`,
    `[global]
maxconn = 4000
nbthread = ${halbThreads}
log_level = "warning"
[defaults]
mode = "${mode}"
log = false
${l7 ? "forwardfor = true\n" : ""}[defaults.timeout]
connect = "5s"
client = "1m"
server = "1m"
[frontend.fe]
bind = ["127.0.0.1:${hb}"]
default_backend = "be"
[backend.be]
balance = "roundrobin"
server = [
  { name = "web1", address = "127.0.0.1:${b1}" },
  { name = "web2", address = "127.0.0.1:${b2}" },
]
`,
  );
  spawn(nginx, ["-c", `${dir}/nginx.conf`, "-p", dir, "-g", "daemon off;"]);
  spawn(haproxy, ["-db", "-f", `${dir}/haproxy.cfg`]);
  spawn(Deno.execPath(), ["run", "--allow-all", "main.ts", "run", "-c", `${dir}/halb.toml`]);
  await Promise.all([waitPort(b1), waitPort(b2), waitPort(hp), waitPort(hb)]);

  // Warm both up once, then interleave, alternating who goes first.
  await runWrk(hp, 1);
  await runWrk(hb, 1);
  const results = { haproxy: [] as number[], halb: [] as number[] };
  const p99 = { haproxy: [] as number[], halb: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    const order: ("haproxy" | "halb")[] = r % 2 === 0 ? ["haproxy", "halb"] : ["halb", "haproxy"];
    const line: string[] = [];
    for (const who of order) {
      const res = await runWrk(who === "haproxy" ? hp : hb, duration);
      results[who].push(res.rps);
      p99[who].push(res.p99);
      line.push(`${who} ${res.rps.toFixed(0)} req/s (p50 ${ms(res.p50)} p99 ${ms(res.p99)})`);
    }
    console.log(`round ${r + 1}: ${line.join(", ")}`);
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const mh = median(results.haproxy), mb = median(results.halb);
  console.log(
    `case ${values.case} (mode ${mode}), threads haproxy ${nthreads} halb ${halbThreads}, ` +
      `wrk -t1 -c${connections}${values.close ? " (Connection: close)" : ""} ` +
      `-d${duration}s, ${rounds} rounds, ` +
      `nproc ${navigator.hardwareConcurrency}`,
  );
  console.log(`median haproxy ${mh.toFixed(0)} req/s (p99 ${median(p99.haproxy).toFixed(2)}ms)`);
  console.log(`median halb    ${mb.toFixed(0)} req/s (p99 ${median(p99.halb).toFixed(2)}ms)`);
  console.log(`ratio halb/haproxy ${(mb / mh).toFixed(3)}`);
  if (l7) {
    // Equal load: 16 connections each pausing so that together they send --rate requests/s.
    const rate = Number(values.rate);
    const pacedConns = 16;
    const script = `${dir}/pace.lua`;
    await Deno.writeTextFile(script, `function delay() return ${(pacedConns * 1000) / rate} end\n`);
    for (const who of ["haproxy", "halb"] as const) {
      const res = await runWrk(who === "haproxy" ? hp : hb, duration, {
        connections: pacedConns,
        script,
      });
      console.log(
        `fixed rate ${rate} req/s: ${who} achieved ${res.rps.toFixed(0)} req/s, ` +
          `p50 ${ms(res.p50)} p99 ${ms(res.p99)}`,
      );
    }
  }
} finally {
  for (const c of children) {
    try {
      c.kill("SIGTERM");
    } catch {
      // already exited
    }
  }
  await Promise.allSettled(children.map((c) => c.status));
  for (const c of children) await c.stderr.cancel().catch(() => {});
  await Deno.remove(dir, { recursive: true });
}
