/**
 * Differential harness: halb against a real HAProxy 2.6 configured the same way.
 *
 * A {@linkcode Scenario} holds a halb TOML text and the equivalent haproxy.cfg text, written
 * side by side, and a list of client connections ({@linkcode Step}) made of raw request bytes.
 * Both proxies run at the same time, each with its own set of origins (same names, fresh
 * state) and its own loopback ports; placeholders in both texts are substituted per side:
 * `{{FE}}`, `{{FE2}}`, `{{FE3}}` (frontend ports), `{{s1}}`… (origin ports, by origin name),
 * `{{dead}}` (a port nothing listens on) and `{{DIR}}` (tests/testdata/http_diff).
 *
 * Each side yields an {@linkcode Observation} per step: the TLS outcome, every response (status
 * line, headers with lower-cased names minus `date`, body after de-chunking, framing), whether
 * the connection stayed open, and what each origin received during the step. {@linkcode
 * diffObservations} lists every difference.
 *
 * @module
 */
import { formatDiagnostic } from "../../src/config/diagnostics.ts";
import { compileConfig } from "../../src/config/load.ts";
import { createLogger, memorySink } from "../../src/log/logger.ts";
import { decodeDate30 } from "../../src/proxy/http/cookie.ts";
import {
  ConnReader,
  headerValue,
  headLines,
  latin1Bytes,
  type Origin,
  parseHeaderLines,
  readChunked,
  startOrigin,
} from "./origin.ts";
import { freePort } from "./net.ts";

/** Path of haproxy; tests needing it skip when it is missing. */
export const HAPROXY = "/usr/sbin/haproxy";

/** True when the haproxy binary exists. */
export const haveHaproxy: boolean = (() => {
  try {
    return Deno.statSync(HAPROXY).isFile;
  } catch {
    return false;
  }
})();

/** Absolute path of tests/testdata/http_diff (no trailing slash). */
export const DATA_DIR: string = new URL("../testdata/http_diff", import.meta.url).pathname;

/** One write on a connection and how many responses to read after it. */
export interface Write {
  /** Bytes to send, as a latin1 string. */
  data: string;
  /** Responses (interim 1xx included) to read after writing; default 1. */
  responses?: number;
  /** Wait before writing, in ms. */
  pauseMs?: number;
}

/** TLS client settings of a step. */
export interface TlsClient {
  /** SNI (and the name verified); default: no SNI, certificate checked for 127.0.0.1. */
  sni?: string;
  /** CA file under {@linkcode DATA_DIR}; default `certs/ca.pem`. */
  ca?: string;
  /** ALPN protocols offered. */
  alpn?: string[];
}

/** One client connection. */
export interface Step {
  /** Shown in differences. */
  label?: string;
  /** Wait before connecting, in ms (lets health checks settle). */
  delayMs?: number;
  /** Which frontend port placeholder to connect to; default `FE`. */
  listener?: "FE" | "FE2" | "FE3";
  /** Connect with TLS. */
  tls?: TlsClient;
  /** Writes in order; a string means `{ data, responses: 1 }`. */
  send: (string | Write)[];
  /** Bound for reading each response, in ms; default 2500. */
  readTimeoutMs?: number;
}

/** A differential scenario. */
export interface Scenario {
  name: string;
  /** What of issue #3 it covers. */
  covers: string;
  /** Origin names; default `["s1", "s2"]`. */
  origins?: string[];
  /** Extra keys under halb's `[defaults]` (mode http and the timeouts are preset). */
  halbDefaults?: string;
  /** halb TOML: frontends and backends. */
  halb: string;
  /** Extra lines in haproxy's `defaults` section (mode http and the timeouts are preset). */
  haproxyDefaults?: string;
  /** haproxy.cfg: frontends and backends. */
  haproxy: string;
  steps: Step[];
  /**
   * Set-Cookie values carry dates (cookie maxidle/maxlife): a date within 8 s of the test's
   * clock is compared as `<now>`, so the two proxies may cross a 4-second step apart.
   */
  cookieDates?: boolean;
}

/** One response as observed by the client. */
export interface ResponseObs {
  status: string;
  /** Headers in order, names lower-cased, `date` removed. */
  headers: [string, string][];
  body: string;
  framing: "none" | "length" | "chunked" | "close";
}

/** What one request looked like at the origin (names lower-cased). */
export interface ForwardedObs {
  origin: string;
  line: string;
  headers: [string, string][];
  body: string;
  chunked: boolean;
}

/** Everything observed on one step. */
export interface StepObs {
  label: string;
  /** "ok", "refused", or "tls failed". */
  connect: string;
  alpn: string | null;
  responses: ResponseObs[];
  /** Why reading stopped early ("timeout", "eof", "bad response: …"), else null. */
  readError: string | null;
  /** "open" or "closed" after the last response; bytes beyond the expected responses follow. */
  end: string;
  forwarded: ForwardedObs[];
}

/** The observation of one side. */
export interface Observation {
  steps: StepObs[];
  /** Startup failure, if any (then `steps` is empty). */
  startError: string | null;
  /** Log lines of the proxy (halb: logger output; haproxy: stderr). */
  log: string[];
}

/** `METHOD target HTTP/x.y` with headers (default `Host: lb.test`) and an optional body. */
export function request(
  method: string,
  target: string,
  options: { headers?: [string, string][]; body?: string; version?: string } = {},
): string {
  const headers = options.headers ?? [["Host", "lb.test"]];
  let text = `${method} ${target} ${options.version ?? "HTTP/1.1"}\r\n`;
  for (const [n, v] of headers) text += `${n}: ${v}\r\n`;
  if (options.body !== undefined && headerValue(headers, "transfer-encoding") === null) {
    if (headerValue(headers, "content-length") === null) {
      text += `Content-Length: ${options.body.length}\r\n`;
    }
  }
  return text + "\r\n" + (options.body ?? "");
}

/** A GET with `Host: host` plus extra headers. */
export function get(target: string, extra: [string, string][] = [], host = "lb.test"): string {
  return request("GET", target, { headers: [["Host", host], ...extra] });
}

/** A halb server table for origin `name` with optional extra `key = value` pairs. */
export function hs(name: string, extra = ""): string {
  return `{ name = "${name}", address = "127.0.0.1:{{${name}}}"${extra ? `, ${extra}` : ""} }`;
}

/** An haproxy `server` line for origin `name` with optional extra options. */
export function ps(name: string, extra = ""): string {
  return `  server ${name} 127.0.0.1:{{${name}}}${extra ? ` ${extra}` : ""}`;
}

export { freePort };

/** Replaces `{{NAME}}` placeholders; an unknown name throws. */
export function substitute(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`unknown placeholder {{${name}}}`);
    return String(values[name]);
  });
}

/** The full halb TOML of a scenario (before substitution). */
export function halbText(s: Scenario): string {
  return [
    "[defaults]",
    'mode = "http"',
    s.halbDefaults ?? "",
    "[defaults.timeout]",
    'connect = "1s"',
    'client = "5s"',
    'server = "5s"',
    "",
    s.halb,
  ].join("\n");
}

/** The full haproxy.cfg of a scenario (before substitution). */
export function haproxyText(s: Scenario): string {
  return [
    "global",
    "  tune.ssl.default-dh-param 2048",
    // A port another test holds must fail the bind (then the harness picks new ports), not be
    // shared through SO_REUSEPORT.
    "  noreuseport",
    "defaults",
    "  mode http",
    "  timeout connect 1s",
    "  timeout client 5s",
    "  timeout server 5s",
    s.haproxyDefaults ?? "",
    "",
    s.haproxy,
    "",
  ].join("\n");
}

/** A running proxy under test. */
interface Running {
  stop(): Promise<void>;
  log(): string[];
}

/** Polls until every port accepts a connection or the child exits; throws on failure. */
async function waitListening(ports: number[], child: Deno.ChildProcess): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + 5000;
  for (const port of ports) {
    for (;;) {
      if (exited) throw new Error("haproxy exited at startup");
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      } catch {
        if (Date.now() > deadline) throw new Error(`haproxy not listening on ${port}`);
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      // Something accepts, but a parallel test may have taken the port between freePort() and
      // haproxy's bind (haproxy then fails to bind and exits): the listener must be haproxy's.
      if (!listensOn(child.pid, port)) throw new Error(`address already in use: ${port}`);
      break;
    }
  }
}

/** True when process `pid` holds the listening TCP socket of `port` (per /proc). */
function listensOn(pid: number, port: number): boolean {
  const hexPort = ":" + port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = Deno.readTextFileSync(table);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[1].endsWith(hexPort) && f[3] === "0A") inodes.add(f[9]);
    }
  }
  for (const fd of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`));
      if (m && inodes.has(m[1])) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
}

/**
 * Starts `haproxy -db -f <cfg>` as a child; resolves once every port in `ports` accepts.
 * The child is killed by its pid in `stop()`.
 */
export async function startHaproxy(cfg: string, ports: number[]): Promise<Running> {
  const dir = await Deno.makeTempDir({ prefix: "halb-diff-" });
  await Deno.writeTextFile(`${dir}/haproxy.cfg`, cfg);
  const child = new Deno.Command(HAPROXY, {
    args: ["-db", "-f", `${dir}/haproxy.cfg`],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const drained = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of child.stderr) lines.push(...dec.decode(chunk).split("\n"));
  })();
  async function stop(): Promise<void> {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await child.status;
    await drained;
    await Deno.remove(dir, { recursive: true });
  }
  try {
    await waitListening(ports, child);
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n${lines.join("\n")}`);
  }
  return { stop, log: () => lines.filter((l) => l.length > 0) };
}

/** Compiles `toml` (file name `file` for relative paths) and runs it in this process. */
export async function startHalb(toml: string, file: string): Promise<Running> {
  const compiled = compileConfig(toml, { file });
  if (compiled.config === null) {
    const errs = compiled.diagnostics.map(formatDiagnostic).join("\n");
    throw new Error(`halb rejected the config:\n${errs}`);
  }
  // Imported on use: while the engine is being rebuilt, a broken import fails only halb's side.
  const { buildGraph } = await import("../../src/runtime/graph.ts");
  const sink = memorySink();
  const logger = createLogger({ sink, level: "info" });
  const graph = await buildGraph(compiled.config, { logger });
  return {
    stop: () => graph.stop({ graceMs: 0 }),
    log: () => sink.lines.map((l) => `${l.kind === "traffic" ? "traffic" : l.level}: ${l.line}`),
  };
}

/** Reads one response; HEAD responses and 1xx/204/304 have no body. */
export async function readResponse(
  r: ConnReader,
  options: { head: boolean; timeoutMs: number },
): Promise<ResponseObs | string> {
  const deadline = Date.now() + options.timeoutMs;
  const end = await r.until("\r\n\r\n", deadline);
  if (end < 0) {
    if (r.buf.length > 0) return `bad response: ${JSON.stringify(r.buf.slice(0, 200))}`;
    return r.eof ? "eof" : "timeout";
  }
  const lines = headLines(r.take(end + 4));
  const status = lines[0];
  const code = Number(status.split(" ")[1]);
  const all = parseHeaderLines(lines.slice(1));
  const headers = all
    .map(([n, v]): [string, string] => [n.toLowerCase(), v])
    .filter(([n]) => n !== "date");
  const te = headerValue(all, "transfer-encoding");
  const cl = headerValue(all, "content-length");
  if (options.head || (code >= 100 && code < 200) || code === 204 || code === 304) {
    return { status, headers, body: "", framing: "none" };
  }
  if (te !== null && /chunked/i.test(te)) {
    const body = await readChunked(r, deadline);
    if (body === null) return `bad chunked body after ${status}`;
    return { status, headers, body, framing: "chunked" };
  }
  if (cl !== null) {
    const n = Number(cl);
    if (!(await r.atLeast(n, deadline))) return `short body after ${status}`;
    return { status, headers, body: r.take(n), framing: "length" };
  }
  while (!r.eof && Date.now() < deadline) await r.fill(deadline - Date.now());
  return { status, headers, body: r.take(r.buf.length), framing: "close" };
}

/** Connects (with TLS when asked); `alpn` is the negotiated protocol (TLS only). */
async function connect(
  port: number,
  tls: TlsClient | undefined,
): Promise<{ conn: Deno.Conn; alpn: string | null }> {
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  if (tls === undefined) return { conn: tcp, alpn: null };
  const ca = await Deno.readTextFile(`${DATA_DIR}/${tls.ca ?? "certs/ca.pem"}`);
  const conn = await Deno.startTls(tcp, {
    hostname: tls.sni ?? "127.0.0.1",
    caCerts: [ca],
    alpnProtocols: tls.alpn,
  });
  try {
    return { conn, alpn: (await conn.handshake()).alpnProtocol };
  } catch (e) {
    conn.close();
    throw e;
  }
}

function forwardedSince(origins: Origin[], marks: number[]): ForwardedObs[] {
  const out: ForwardedObs[] = [];
  origins.forEach((o, i) => {
    for (const q of o.requests.slice(marks[i])) {
      out.push({
        origin: q.origin,
        line: `${q.method} ${q.target} ${q.version}`,
        headers: q.headers.map(([n, v]) => [n.toLowerCase(), v]),
        body: q.body,
        chunked: q.chunked,
      });
    }
  });
  return out;
}

/** Runs one step against `port`; origins are read to see what they received. */
async function runStep(step: Step, port: number, origins: Origin[]): Promise<StepObs> {
  const obs: StepObs = {
    label: step.label ?? "",
    connect: "ok",
    alpn: null,
    responses: [],
    readError: null,
    end: "open",
    forwarded: [],
  };
  if (step.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
  const marks = origins.map((o) => o.requests.length);
  let conn: Deno.Conn;
  try {
    const c = await connect(port, step.tls);
    conn = c.conn;
    obs.alpn = c.alpn;
  } catch (e) {
    obs.connect = e instanceof Deno.errors.ConnectionRefused ? "refused" : "tls failed";
    obs.end = "closed";
    return obs;
  }
  const reader = new ConnReader(conn);
  const timeoutMs = step.readTimeoutMs ?? 2500;
  try {
    writes: for (const item of step.send) {
      const w: Write = typeof item === "string" ? { data: item } : item;
      if (w.pauseMs) await new Promise((r) => setTimeout(r, w.pauseMs));
      try {
        await conn.write(latin1Bytes(w.data));
      } catch {
        obs.readError = "write failed";
        break;
      }
      for (let i = 0; i < (w.responses ?? 1); i++) {
        const res = await readResponse(reader, { head: w.data.startsWith("HEAD "), timeoutMs });
        if (typeof res === "string") {
          obs.readError = res;
          break writes;
        }
        obs.responses.push(res);
      }
    }
    let extra = "";
    for (let i = 0; i < 100; i++) {
      if (reader.buf.length > 0) extra += reader.take(reader.buf.length);
      if (reader.eof) break;
      const { ok } = await reader.fill(150);
      if (!ok && !reader.eof) break;
    }
    obs.end = (reader.eof ? "closed" : "open") +
      (extra ? ` after extra ${JSON.stringify(extra)}` : "");
  } finally {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
  obs.forwarded = forwardedSince(origins, marks);
  return obs;
}

/** Runs a scenario on one side ("haproxy" or "halb") with fresh origins and ports. */
export async function observe(s: Scenario, side: "haproxy" | "halb"): Promise<Observation> {
  const origins = (s.origins ?? ["s1", "s2"]).map((n) => startOrigin(n));
  const values: Record<string, string | number> = { DIR: DATA_DIR, dead: freePort() };
  for (const o of origins) values[o.name] = o.port;
  const obs: Observation = { steps: [], startError: null, log: [] };
  let running: Running | null = null;
  try {
    // Ports are picked free but may be taken by a parallel test before the proxy binds them:
    // a failed start is retried on new ports.
    for (let attempt = 1;; attempt++) {
      values.FE = freePort();
      values.FE2 = freePort();
      values.FE3 = freePort();
      try {
        if (side === "haproxy") {
          const cfg = substitute(haproxyText(s), values);
          const used = (["FE", "FE2", "FE3"] as const).filter((k) =>
            s.haproxy.includes(`{{${k}}}`)
          );
          running = await startHaproxy(cfg, used.map((k) => values[k] as number));
        } else {
          running = await startHalb(substitute(halbText(s), values), `${DATA_DIR}/${s.name}.toml`);
        }
        break;
      } catch (e) {
        if (
          attempt >= 3 || !/exited at startup|address already in use|cannot bind/i.test(String(e))
        ) {
          throw e;
        }
      }
    }
    for (const step of s.steps) {
      obs.steps.push(await runStep(step, values[step.listener ?? "FE"] as number, origins));
    }
  } catch (e) {
    obs.startError = e instanceof Error ? e.message : String(e);
  } finally {
    await running?.stop();
    obs.log = running?.log() ?? [];
    await Promise.all(origins.map((o) => o.close()));
  }
  return obs;
}

function show(v: unknown): string {
  return JSON.stringify(v);
}

/** Every difference between HAProxy's observation (`want`) and halb's (`got`). */
export function diffObservations(want: Observation, got: Observation): string[] {
  const out: string[] = [];
  if (want.startError) out.push(`haproxy did not start: ${want.startError}`);
  if (got.startError) out.push(`halb did not start: ${got.startError}`);
  if (out.length > 0) return out;
  want.steps.forEach((w, i) => {
    const g = got.steps[i];
    const at = `step ${i + 1}${w.label ? ` (${w.label})` : ""}`;
    function cmp(what: string, a: unknown, b: unknown): void {
      if (show(a) !== show(b)) {
        out.push(`${at} ${what}:\n    haproxy: ${show(a)}\n    halb:    ${show(b)}`);
      }
    }
    cmp("connect", w.connect, g.connect);
    cmp("alpn", w.alpn, g.alpn);
    cmp("response count", w.responses.length, g.responses.length);
    cmp("read error", w.readError, g.readError);
    const n = Math.max(w.responses.length, g.responses.length);
    for (let k = 0; k < n; k++) {
      const a = w.responses[k];
      const b = g.responses[k];
      if (a === undefined || b === undefined) continue;
      cmp(`response ${k + 1} status`, a.status, b.status);
      cmp(`response ${k + 1} headers`, a.headers, b.headers);
      cmp(`response ${k + 1} body`, a.body, b.body);
      cmp(`response ${k + 1} framing`, a.framing, b.framing);
    }
    cmp("connection end", w.end, g.end);
    cmp("requests seen by origins", w.forwarded, g.forwarded);
  });
  return out;
}

/** Runs both sides at once and returns HAProxy's and halb's observations with their diff. */
export async function runScenario(
  s: Scenario,
): Promise<{ haproxy: Observation; halb: Observation; diffs: string[] }> {
  let [haproxy, halb] = await Promise.all([observe(s, "haproxy"), observe(s, "halb")]);
  if (s.cookieDates) {
    const now = Date.now() / 1000;
    haproxy = withCookieDatesNow(haproxy, now);
    halb = withCookieDatesNow(halb, now);
  }
  return { haproxy, halb, diffs: diffObservations(haproxy, halb) };
}

/** `|XXXXX` dates in Set-Cookie values within 8 s of `now` (Unix seconds) become `|<now>`. */
export function withCookieDatesNow(obs: Observation, now: number): Observation {
  const value = (v: string) =>
    v.replace(/\|([A-Za-z0-9+/]{5})(?=[|;]|$)/g, (whole, date: string) => {
      const at = decodeDate30(date, 0) * 4;
      return Math.abs(at - now) <= 8 ? "|<now>" : whole;
    });
  const steps = obs.steps.map((step) => ({
    ...step,
    responses: step.responses.map((r) => ({
      ...r,
      headers: r.headers.map(([n, v]): [string, string] => [n, n === "set-cookie" ? value(v) : v]),
    })),
  }));
  return { ...obs, steps };
}
