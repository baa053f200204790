/**
 * Peers for the health-check end-to-end tests: controllable HTTP backends that a test switches
 * between answering, refusing (a killed process), closing, hanging and answering health checks
 * with a chosen status; a port whose accept queue is full (connects time out); real nginx
 * backends run as child processes; a per-connection HTTP load client that timestamps every
 * request; and the in-process halb harness (TOML → proxy → checkers) with a timed log.
 *
 * @module
 */
import assert from "node:assert/strict";
import { compileConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { createLogger, type LogEntry, memorySink } from "../../src/log/logger.ts";
import type { BackendChecker } from "../../src/proxy/health/checker.ts";
import { type Proxy, startProxy } from "../../src/proxy/proxy.ts";
import { startHealthChecks } from "../../src/runtime/health.ts";
import { closeQuietly, freePort, sleep, writeAll } from "./net.ts";

/**
 * What a {@linkcode ControlledBackend} does with connections:
 * - `ok`: answers every request, checks with `checkStatus`, traffic with 200 and its name;
 * - `refuse`: stops listening and cuts open connections (a killed process);
 * - `close`: accepts and closes at once without answering;
 * - `hang`: accepts and reads but never answers.
 */
export type BackendMode = "ok" | "refuse" | "close" | "hang";

/** A loopback HTTP/1.x backend whose behaviour the test changes while it runs. */
export interface ControlledBackend {
  readonly name: string;
  readonly port: number;
  readonly mode: BackendMode;
  /** Status answered to check requests (path `checkPath`) in mode `ok`; default 200. */
  checkStatus: number;
  /** Traffic requests answered 200 so far. */
  served: number;
  /** Check requests seen so far (answered or not). */
  checks: number;
  /** Switches behaviour; `refuse` closes the listener, leaving it re-listens on the same port. */
  set(mode: BackendMode): void;
  /** Stops everything. */
  close(): Promise<void>;
}

const REASONS: Record<number, string> = {
  200: "OK",
  404: "Not Found",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** Options of {@linkcode controlledBackend}. */
export interface ControlledBackendOptions {
  /** Requests for this path are health checks; default "/health". */
  checkPath?: string;
  /** Port to listen on; default OS-chosen. */
  port?: number;
}

/** Starts a {@linkcode ControlledBackend} in mode `ok`. */
export function controlledBackend(
  name: string,
  options: ControlledBackendOptions = {},
): ControlledBackend {
  const checkPath = options.checkPath ?? "/health";
  let listener: Deno.Listener | null = Deno.listen({
    hostname: "127.0.0.1",
    port: options.port ?? 0,
  });
  const port = (listener.addr as Deno.NetAddr).port;
  const open = new Set<Deno.Conn>();
  const loops = new Set<Promise<void>>();
  let mode: BackendMode = "ok";
  let closed = false;

  async function handle(conn: Deno.Conn): Promise<void> {
    if (mode === "close") return;
    const buf = new Uint8Array(16384);
    let data = "";
    for (;;) {
      const end = data.indexOf("\r\n\r\n");
      if (end < 0) {
        if (data.length > 65536) return;
        const n = await conn.read(buf);
        if (n === null) return;
        data += new TextDecoder("latin1").decode(buf.subarray(0, n));
        continue;
      }
      const head = data.slice(0, end);
      data = data.slice(end + 4);
      const [line, ...headers] = head.split("\r\n");
      const [, path = "/", version = "HTTP/1.0"] = line.split(" ");
      const isCheck = path === checkPath;
      if (isCheck) backend.checks++;
      if (mode !== "ok") {
        // hang: keep reading (and ignoring) until the peer goes away.
        while ((await conn.read(buf)) !== null) { /* discard */ }
        return;
      }
      const connection = headers.find((h) => /^connection:/i.test(h))?.slice(11).trim()
        .toLowerCase();
      const keepAlive = version === "HTTP/1.1"
        ? connection !== "close"
        : connection === "keep-alive";
      const status = isCheck ? backend.checkStatus : 200;
      if (!isCheck) backend.served++;
      const body = `${name}\n`;
      const reply = `HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}\r\n` +
        `Content-Type: text/plain\r\nContent-Length: ${body.length}\r\n` +
        `Connection: ${keepAlive ? "keep-alive" : "close"}\r\n\r\n${body}`;
      await writeAll(conn, new TextEncoder().encode(reply));
      if (!keepAlive) return;
    }
  }

  function acceptLoop(l: Deno.Listener): void {
    const loop = (async () => {
      for (;;) {
        let conn: Deno.Conn;
        try {
          conn = await l.accept();
        } catch {
          return;
        }
        open.add(conn);
        handle(conn).catch(() => {}).finally(() => {
          open.delete(conn);
          closeQuietly(conn);
        });
      }
    })();
    loops.add(loop);
    loop.finally(() => loops.delete(loop));
  }

  function stopListening(): void {
    if (listener !== null) closeQuietly(listener);
    listener = null;
    for (const c of open) closeQuietly(c);
  }

  const backend: ControlledBackend = {
    name,
    port,
    get mode() {
      return mode;
    },
    checkStatus: 200,
    served: 0,
    checks: 0,
    set(next) {
      if (closed) return;
      mode = next;
      if (next === "refuse") stopListening();
      else if (listener === null) {
        listener = Deno.listen({ hostname: "127.0.0.1", port });
        acceptLoop(listener);
      }
    },
    async close() {
      closed = true;
      stopListening();
      await Promise.all([...loops]);
    },
  };
  acceptLoop(listener);
  return backend;
}

/** A port that completes no TCP handshake: its listener never accepts and its queue is full. */
export interface BlackholePort {
  readonly port: number;
  close(): void;
}

/**
 * Listens without accepting and fills the accept queue (Deno's backlog is 511, so about 512
 * connections), after which the kernel drops new SYNs: a connect to the port times out, as to a
 * host that vanished. Bounded: at most 5000 fillers, each connect waits at most 200 ms.
 */
export async function blackholePort(): Promise<BlackholePort> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const fillers: Deno.Conn[] = [];
  let full = false;
  for (let i = 0; i < 5000 && !full; i++) {
    try {
      fillers.push(
        await Deno.connect({ hostname: "127.0.0.1", port, signal: AbortSignal.timeout(200) }),
      );
    } catch {
      full = true;
    }
  }
  const close = () => {
    for (const c of fillers) closeQuietly(c);
    closeQuietly(listener);
  };
  if (!full) {
    close();
    throw new Error("blackholePort: the accept queue never filled");
  }
  return { port, close };
}

// ---------------------------------------------------------------------------------------------
// nginx backends.

/** True when `path` exists and is a file (a Debian peer binary). */
export function haveFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** A single-process nginx on a loopback port answering `<name>\n` to every request. */
export interface NginxBackend {
  readonly name: string;
  readonly port: number;
  /** Pid of the running process, or null while killed. */
  readonly pid: number | null;
  /** SIGKILL: the listener and every open connection die with the process. */
  kill(): Promise<void>;
  /** Starts it again on the same port; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Kills it (if running) and removes its directory. */
  close(): Promise<void>;
}

/** Starts nginx (`daemon off; master_process off;`) with a config in a temp directory. */
export async function startNginx(name: string, port: number): Promise<NginxBackend> {
  const dir = await Deno.makeTempDir({ prefix: `halb-nginx-${name}-` });
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((t) => `  ${t}_temp_path ${dir}/${t};`).join("\n");
  await Deno.writeTextFile(
    `${dir}/nginx.conf`,
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
${temp}
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port};
    location / { default_type text/plain; return 200 "${name}\\n"; }
  }
}
`,
  );
  let child: Deno.ChildProcess | null = null;

  async function spawn(): Promise<void> {
    child = new Deno.Command("/usr/sbin/nginx", {
      args: ["-e", `${dir}/error.log`, "-p", dir, "-c", `${dir}/nginx.conf`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const end = Date.now() + 5000;
    while (Date.now() < end) {
      try {
        closeQuietly(await Deno.connect({ hostname: "127.0.0.1", port }));
        return;
      } catch {
        await sleep(10);
      }
    }
    const log = await Deno.readTextFile(`${dir}/error.log`).catch(() => "");
    throw new Error(`nginx ${name} did not listen on ${port}: ${log}`);
  }

  async function kill(): Promise<void> {
    const c = child;
    if (c === null) return;
    child = null;
    try {
      c.kill("SIGKILL");
    } catch {
      // already gone
    }
    await c.status;
  }

  await spawn();
  return {
    name,
    port,
    get pid() {
      return child?.pid ?? null;
    },
    kill,
    restart: spawn,
    async close() {
      await kill();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Load client.

/** One request of {@linkcode loadLoop}: times are `performance.now()` ms. */
export interface Sample {
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
  /** The answering backend's name (the body's first line), null on failure. */
  readonly server: string | null;
  /** What went wrong, for failures. */
  readonly error: string | null;
}

/**
 * One HTTP/1.0 GET on a new connection (no keep-alive); `ok` when a 200 with a body arrives
 * within `timeoutMs`.
 */
export async function getOnce(port: number, timeoutMs = 2000): Promise<Sample> {
  const start = performance.now();
  const fail = (error: string): Sample => ({
    start,
    end: performance.now(),
    ok: false,
    server: null,
    error,
  });
  let conn: Deno.Conn | null = null;
  const timer = setTimeout(() => conn !== null && closeQuietly(conn), timeoutMs);
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(conn, new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
    let text = "";
    const buf = new Uint8Array(4096);
    for (let i = 0; i < 64; i++) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    const m = /^HTTP\/1\.[01] (\d{3})[^\r]*\r\n[\s\S]*?\r\n\r\n([^\n]*)\n/.exec(text);
    if (m === null) return fail(text === "" ? "closed without response" : "bad response");
    if (m[1] !== "200") return fail(`status ${m[1]}`);
    return { start, end: performance.now(), ok: true, server: m[2], error: null };
  } catch (e) {
    return fail(e instanceof Error ? e.name : String(e));
  } finally {
    clearTimeout(timer);
    if (conn !== null) closeQuietly(conn);
  }
}

/**
 * Runs `workers` sequential {@linkcode getOnce} loops against `port` until `stop.stopped` or
 * `maxMs` or `maxRequests` is reached; returns every sample in completion order.
 */
export async function loadLoop(
  port: number,
  options: { stop: { stopped: boolean }; maxMs: number; maxRequests: number; workers?: number },
): Promise<Sample[]> {
  const samples: Sample[] = [];
  const end = performance.now() + options.maxMs;
  async function worker(): Promise<void> {
    while (
      !options.stop.stopped && performance.now() < end && samples.length < options.maxRequests
    ) {
      samples.push(await getOnce(port));
    }
  }
  await Promise.all(Array.from({ length: options.workers ?? 1 }, worker));
  return samples;
}

// ---------------------------------------------------------------------------------------------
// In-process halb.

/** A log entry with the `performance.now()` time it was written. */
export interface TimedEntry extends LogEntry {
  readonly at: number;
}

/** A running proxy with its health checkers, from {@linkcode startHalb}. */
export interface Halb {
  readonly config: Config;
  readonly proxy: Proxy;
  readonly checkers: readonly BackendChecker[];
  /** Every log entry so far, with the time it was written. */
  readonly log: TimedEntry[];
  /** The checker of a backend (asserts it exists). */
  checker(backend: string): BackendChecker;
  /** The first bound port of a frontend. */
  port(frontend: string): number;
  /** Event lines (not traffic) matching `re`. */
  events(re: RegExp): TimedEntry[];
  stop(): Promise<void>;
}

/**
 * Compiles `toml` and starts the proxy and its health checkers as the runtime graph does, with
 * an in-memory logger (level info) whose entries are timestamped.
 */
export async function startHalb(toml: string): Promise<Halb> {
  const compiled = compileConfig(toml, { file: "health.toml" });
  assert.ok(compiled.config, JSON.stringify(compiled.diagnostics));
  const config = compiled.config;
  const sink = memorySink();
  const log: TimedEntry[] = [];
  const logger = createLogger({
    level: "info",
    sink: {
      write(entry) {
        sink.write(entry);
        log.push({ ...entry, at: performance.now() });
      },
      close: () => sink.close(),
    },
  });
  const proxy = await startProxy(config, { logger });
  const checkers = startHealthChecks(config, { proxy, logger });
  return {
    config,
    proxy,
    checkers,
    log,
    checker(backend) {
      const c = checkers.find((k) => k.backend === backend);
      assert.ok(c, `no checker for backend ${backend}`);
      return c;
    },
    port(frontend) {
      return (proxy.addresses(frontend)[0] as Deno.NetAddr).port;
    },
    events(re) {
      return log.filter((e) => e.kind === "event" && re.test(e.line));
    },
    async stop() {
      for (const c of checkers) c.stop();
      await proxy.stop({ graceMs: 0 });
    },
  };
}

/** Polls `cond` every 10 ms until true; throws naming `what` after `timeoutMs`. */
export async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (cond()) return;
    await sleep(10);
  }
  if (!cond()) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export { freePort };
