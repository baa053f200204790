/**
 * Round trip: a corpus config runs in the real HAProxy 2.6, its `halb import` runs in halb, and
 * the same connections must reach the same backend servers. Each config is rewritten for
 * loopback first: `global` shrinks to `maxconn`, the stats proxy goes, binds move to free
 * 127.0.0.1 ports, servers to small loopback servers that answer with their name, and health
 * checks that speak a protocol those servers do not (httpchk, mysql-check, smtpchk, tcp-check)
 * are dropped, so that both sides check with a TCP connect. TCP cases compare the names read
 * on sequential connections; HTTP cases compare the bodies of the same requests.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileConfig, formatDiagnostic } from "../src/config/load.ts";
import { importConfigs } from "../src/import/import.ts";
import { runHalb } from "../src/runtime/run.ts";
import { askName, freePort, readAll, sleep } from "./helpers/net.ts";

const HAPROXY = "/usr/sbin/haproxy";
const haveHaproxy = (() => {
  try {
    return Deno.statSync(HAPROXY).isFile;
  } catch {
    return false;
  }
})();
const DIR = fileURLToPath(new URL("./testdata/import/", import.meta.url));

const DROPPED_CHECKS =
  /^\s*(option\s+(httpchk|mysql-check|smtpchk|tcp-check|redis-check|pgsql-check)|http-check|tcp-check)\b/;

/** The config rewritten for loopback: bind ports by bind line order, servers by address. */
interface Rewritten {
  readonly text: string;
  /** Bind ports, in the order of the bind lines. */
  readonly binds: number[];
}

function rewrite(text: string, servers: Map<string, number>): Rewritten {
  const binds: number[] = [];
  const out: string[] = [];
  let skipping = false;
  for (const line of text.split("\n")) {
    const section = /^\s*(global|defaults|frontend|backend|listen)\b\s*(\S*)/.exec(line);
    if (section !== null) {
      skipping = section[1] === "global" || section[2] === "stats";
      if (section[1] === "global") out.push("global", "    maxconn 1000", "    noreuseport");
      else if (!skipping) out.push(line);
      continue;
    }
    if (skipping || DROPPED_CHECKS.test(line) || /^\s*log\s+(?!global)/.test(line)) continue;
    const bind = /^(\s*bind\s+)\S+/.exec(line);
    if (bind !== null) {
      const port = freePort();
      binds.push(port);
      out.push(`${bind[1]}127.0.0.1:${port}`);
      continue;
    }
    const server = /^(\s*server\s+\S+\s+)(\S+)(.*)$/.exec(line);
    if (server !== null) {
      const port = servers.get(server[2]) ?? freePort();
      servers.set(server[2], port);
      out.push(`${server[1]}127.0.0.1:${port}${server[3].replace(/\bport \d+/, "")}`);
      continue;
    }
    out.push(line);
  }
  return { text: out.join("\n"), binds };
}

/** True when a TCP socket listens on `port` (read from /proc/net/tcp*, touching nothing). */
function listening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 3 && f[1].endsWith(`:${hex}`) && f[3] === "0A") return true;
    }
  }
  return false;
}

/**
 * Waits until something listens on each port. Neither connecting (a probe connection would take
 * a round-robin turn on one proxy and maybe not the other) nor binding (it would race the
 * proxy's own bind): the kernel's socket table is read instead.
 */
async function waitListening(ports: number[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (const port of ports) {
    while (!listening(port)) {
      if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
      await sleep(50);
    }
  }
}

/** Runs HAProxy on `cfg` while `fn` runs. */
async function withHaproxy<T>(cfg: string, ports: number[], fn: () => Promise<T>): Promise<T> {
  const file = await Deno.makeTempFile({ suffix: ".cfg" });
  await Deno.writeTextFile(file, cfg + "\n");
  const child = new Deno.Command(HAPROXY, {
    args: ["-f", file, "-db"],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    await waitListening(ports);
    return await fn();
  } finally {
    try {
      child.kill("SIGTERM");
    } catch {
      // it had exited already; its stderr says why
    }
    const out = await child.output();
    await Deno.remove(file);
    if (!out.success && out.signal === null) {
      console.error(`haproxy exited ${out.code}: ${new TextDecoder().decode(out.stderr)}`);
    }
  }
}

/** Imports `cfg`, runs halb on the result while `fn` runs. */
async function withHalb<T>(cfg: string, ports: number[], fn: () => Promise<T>): Promise<T> {
  const imported = importConfigs({ haproxy: { file: "roundtrip.cfg", text: cfg } });
  assert.ok(imported.ok);
  const compiled = compileConfig(imported.toml, { file: "roundtrip.toml" });
  assert.ok(compiled.config !== null, compiled.diagnostics.map(formatDiagnostic).join("\n"));
  const errors: string[] = [];
  const { promise: stop, resolve: doStop } = Promise.withResolvers<void>();
  const { promise: ready, resolve: onReady } = Promise.withResolvers<void>();
  const running = runHalb(compiled.config, {
    io: { err: (s) => errors.push(s) },
    stop,
    onReady: () => onReady(),
  });
  try {
    await Promise.race([ready, running.then(() => Promise.reject(new Error(errors.join("\n"))))]);
    await waitListening(ports);
    return await fn();
  } finally {
    doStop();
    await running;
  }
}

/** `p`, or null after `ms` (a hung connection fails the comparison instead of the run). */
async function within<T>(ms: number, p: Promise<T>): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((r) => timer = setTimeout(() => r(null), ms));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sequential connections to each bind port: the names of the servers that answered. */
async function tcpSequence(ports: number[], count: number): Promise<string[][]> {
  const out: string[][] = [];
  for (const port of ports) {
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      names.push(await within(5000, askName(port)) ?? "(closed)");
      await sleep(30);
    }
    out.push(names);
  }
  return out;
}

for (const name of ["04_mysql_galera", "15_tcp_services", "03_postgres_patroni"]) {
  Deno.test({
    name: `round trip ${name}: halb routes TCP connections as HAProxy does`,
    ignore: !haveHaproxy,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const original = Deno.readTextFileSync(join(DIR, `${name}.haproxy.cfg`));
      // The stand-ins listen first, on ports the kernel picks (a port picked free and bound
      // later can be taken by a parallel test meanwhile); the rewritten configs point at them.
      const addrs = new Map<string, number>();
      const names = new Map<number, string>();
      const servers: { close(): Promise<void> }[] = [];
      for (const m of original.matchAll(/^\s*server\s+(\S+)\s+(\S+)/gm)) {
        if (addrs.has(m[2])) continue;
        const server = nameServer(m[1]);
        servers.push(server);
        addrs.set(m[2], server.port);
        names.set(server.port, m[1]);
      }
      const forHaproxy = rewrite(original, addrs);
      const forHalb = rewrite(original, addrs);
      // Each stand-in answers before either proxy starts (and health-checks it).
      for (const [port, n] of names) assert.equal(await within(2000, askName(port)), n);
      try {
        const want = await withHaproxy(
          forHaproxy.text,
          forHaproxy.binds,
          () => tcpSequence(forHaproxy.binds, 8),
        );
        const got = await withHalb(
          forHalb.text,
          forHalb.binds,
          () => tcpSequence(forHalb.binds, 8),
        );
        assert.ok(want.flat().every((n) => n !== "(closed)"), JSON.stringify(want));
        assert.deepEqual(got, want);
      } finally {
        await Promise.all(servers.map((s) => s.close()));
      }
    },
  });
}

// ---------------------------------------------------------------------------------------------
// HTTP: path/Host routing and cookie persistence. halb's HTTP frontends are being built; the
// cases run once a plain HTTP request through halb gets its backend's answer.

/**
 * A TCP server answering `name\n` on each connection. Unlike tests/helpers/net.ts's
 * namedServer it keeps accepting after a failed accept: HAProxy's health checks reset their
 * connections at once, and an accept that meets such a reset must not end the server.
 */
function nameServer(name: string): { port: number; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const reply = new TextEncoder().encode(name + "\n");
  const conns = new Set<Deno.Conn>();
  const loop = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (e instanceof Deno.errors.BadResource) return;
        continue;
      }
      conns.add(conn);
      (async () => {
        try {
          await conn.write(reply);
          await readAll(conn);
        } catch {
          // reset by the peer
        } finally {
          conns.delete(conn);
          try {
            conn.close();
          } catch {
            // already closed
          }
        }
      })();
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // already closed
        }
      }
      await loop;
    },
  };
}

function httpNameServer(name: string, port: number): Deno.HttpServer {
  return Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, () => new Response(name));
}

async function halbServesHttp(): Promise<boolean> {
  const backend = freePort();
  const front = freePort();
  const server = httpNameServer("probe", backend);
  try {
    const cfg = `defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n` +
      `  timeout server 5s\nlisten p\n  bind 127.0.0.1:${front}\n` +
      `  server s 127.0.0.1:${backend}\n`;
    return await withHalb(cfg, [front], async () => {
      const ctl = AbortSignal.timeout(3000);
      const res = await fetch(`http://127.0.0.1:${front}/`, { signal: ctl });
      return (await res.text()) === "probe";
    });
  } catch {
    return false;
  } finally {
    await server.shutdown();
  }
}

const httpReady = haveHaproxy && await halbServesHttp();
const httpWhy = !haveHaproxy
  ? " (ignored: no /usr/sbin/haproxy)"
  : !httpReady
  ? " (ignored: halb's HTTP frontends do not serve yet)"
  : "";

interface HttpProbe {
  readonly path: string;
  readonly host: string;
  readonly cookie?: string;
}

/** One HTTP/1.1 request on its own connection (raw, so that Host is what the probe says). */
async function httpOnce(port: number, p: HttpProbe, cookie: string): Promise<{
  status: string;
  body: string;
  setCookie: string | null;
}> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const head = `GET ${p.path} HTTP/1.1\r\nHost: ${p.host}\r\nConnection: close\r\n` +
      (cookie === "" ? "" : `Cookie: ${cookie}\r\n`) + "\r\n";
    await conn.write(new TextEncoder().encode(head));
    const text = new TextDecoder().decode(await readAll(conn));
    const [headers, body = ""] = text.split("\r\n\r\n");
    const lines = headers.split("\r\n");
    const sc = lines.find((l) => /^set-cookie:/i.test(l));
    return {
      status: lines[0].split(" ")[1] ?? "?",
      body: /transfer-encoding:\s*chunked/i.test(headers) ? dechunk(body) : body,
      setCookie: sc === undefined ? null : sc.slice(sc.indexOf(":") + 1).trim(),
    };
  } finally {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

function dechunk(body: string): string {
  let out = "";
  let rest = body;
  for (let i = 0; i < 1000; i++) {
    const nl = rest.indexOf("\r\n");
    const size = parseInt(rest.slice(0, nl), 16);
    if (!(size > 0)) break;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 4 + size);
  }
  return out;
}

async function httpSequence(port: number, probes: readonly HttpProbe[]): Promise<string[]> {
  const out: string[] = [];
  let jar = "";
  for (const p of probes) {
    const r = await within(5000, httpOnce(port, p, p.cookie === "jar" ? jar : p.cookie ?? ""));
    if (r === null) {
      out.push("(timeout)");
      continue;
    }
    if (r.setCookie !== null) jar = r.setCookie.split(";")[0];
    // HAProxy's own pages (403, return) differ in bytes from halb's only where the reference
    // allows; the backend answers must match exactly.
    out.push(`${r.status} ${r.status === "200" && r.body.length < 20 ? r.body : ""}`);
  }
  return out;
}

const HTTP_CASES: { name: string; probes: HttpProbe[] }[] = [
  {
    name: "06_http_routing",
    probes: [
      { path: "/", host: "www.example.com" },
      { path: "/v1/users", host: "api.example.com" },
      { path: "/post/1", host: "blog.example.com" },
      { path: "/static/a.css", host: "www.example.com" },
      { path: "/images/x.png?file=x", host: "www.example.com" },
      { path: "/admin/", host: "www.example.com" },
      { path: "/healthz", host: "www.example.com" },
    ],
  },
  {
    name: "14_cookie_persistence",
    probes: [
      { path: "/", host: "shop.example.com" },
      { path: "/cart", host: "shop.example.com", cookie: "jar" },
      { path: "/cart", host: "shop.example.com", cookie: "jar" },
      { path: "/", host: "shop.example.com", cookie: "SERVERID=a2" },
      { path: "/", host: "shop.example.com" },
      { path: "/", host: "shop.example.com" },
    ],
  },
];

for (const c of HTTP_CASES) {
  Deno.test({
    name: `round trip ${c.name}: halb routes HTTP requests as HAProxy does${httpWhy}`,
    ignore: !httpReady,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const original = Deno.readTextFileSync(join(DIR, `${c.name}.haproxy.cfg`));
      const addrs = new Map<string, number>();
      const forHaproxy = rewrite(original, addrs);
      const forHalb = rewrite(original, addrs);
      const servers: Deno.HttpServer[] = [];
      for (const m of original.matchAll(/^\s*server\s+(\S+)\s+(\S+)/gm)) {
        servers.push(httpNameServer(m[1], addrs.get(m[2])!));
      }
      try {
        const want = await withHaproxy(
          forHaproxy.text,
          forHaproxy.binds,
          () => httpSequence(forHaproxy.binds[0], c.probes),
        );
        const got = await withHalb(
          forHalb.text,
          forHalb.binds,
          () => httpSequence(forHalb.binds[0], c.probes),
        );
        assert.deepEqual(got, want);
      } finally {
        await Promise.all(servers.map((s) => s.shutdown()));
      }
    },
  });
}
