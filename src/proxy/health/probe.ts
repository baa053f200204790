/**
 * Health-check probes, as HAProxy 2.6 runs them: a TCP connect (L4), optionally a TLS handshake
 * (L6, `check-ssl`), and for HTTP checks one request and the response's status line, headers
 * and (for `expect_string`) up to 16 KiB of body (L7).
 *
 * The request is HAProxy's byte for byte: `OPTIONS / HTTP/1.0\r\n\r\n` by default; configured
 * headers follow the request line with lower-cased names, and `connection: close` is appended
 * for HTTP/1.1 (verified on haproxy 2.6.12). Timeouts: with `timeout check` set, the connection
 * (and TLS handshake) must complete within `min(timeout connect, inter)` and the response within
 * `timeout check` after that; without it, `inter` bounds the whole check.
 *
 * The pure parts ({@linkcode buildCheckRequest}, {@linkcode parseResponse},
 * {@linkcode judgeResponse}) are exported for tests.
 *
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import type { BackendConfig, HealthCheckConfig, ServerConfig } from "../../config/types.ts";
import type { CheckStatus, ProbeResult } from "./server_state.ts";

/** How much of the response a check looks at (HAProxy `tune.bufsize`). */
export const CHECK_BUFFER_SIZE = 16384;

/** Everything a probe needs, built once per server with {@linkcode probeSpec}. */
export interface ProbeSpec {
  readonly host: string;
  readonly port: number;
  /** Null for a plain connect check (or a TLS handshake check when `tls` is set). */
  readonly http: HealthCheckConfig | null;
  readonly inter: number;
  readonly timeoutConnect: number | null;
  readonly timeoutCheck: number | null;
  /** Set for `check-ssl`. */
  readonly tls: { readonly servername: string | null; readonly verify: boolean } | null;
}

/** Per-run options of {@linkcode runProbe}. */
export interface ProbeOptions {
  /** The server is not DOWN: only then does `disable_on_404` turn a 404 into L7OKC (NOLB). */
  serverUp?: boolean;
  /** Aborts the probe (the result is then a SOCKERR "Aborted" and should be ignored). */
  signal?: AbortSignal;
  /** Clock for durations; default `performance.now`. */
  now?: () => number;
}

/** Builds the probe settings of one server from the compiled config. */
export function probeSpec(backend: BackendConfig, server: ServerConfig): ProbeSpec {
  const hc = backend.healthCheck;
  return {
    host: server.address.host,
    port: server.address.port,
    http: hc.type === "http" ? hc : null,
    inter: server.inter,
    timeoutConnect: backend.timeout.connect,
    timeoutCheck: backend.timeout.check,
    tls: server.checkSsl ? { servername: server.sni, verify: server.verify === "required" } : null,
  };
}

/** The check request bytes for an HTTP check. */
export function buildCheckRequest(check: HealthCheckConfig): Uint8Array {
  let text = `${check.method} ${check.uri} ${check.version}\r\n`;
  for (const [name, value] of check.headers) text += `${name.toLowerCase()}: ${value}\r\n`;
  if (check.version.toUpperCase() === "HTTP/1.1") text += "connection: close\r\n";
  text += "\r\n";
  return new TextEncoder().encode(text);
}

/** A parsed response head (and as much body as was read). */
export interface ParsedResponse {
  readonly code: number;
  readonly reason: string;
  /** Decoded body bytes read so far (at most {@linkcode CHECK_BUFFER_SIZE}). */
  readonly body: Uint8Array;
  /** The body is complete (length reached, last chunk, or EOF) or the buffer is full. */
  readonly bodyDone: boolean;
}

/** Result of {@linkcode parseResponse}. */
export type ParseOutcome =
  | { readonly kind: "more" }
  | { readonly kind: "invalid" }
  | { readonly kind: "ok"; readonly response: ParsedResponse };

const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/;

function indexOfHeadEnd(data: Uint8Array): number {
  for (let i = 0; i + 3 < data.length; i++) {
    if (data[i] === 13 && data[i + 1] === 10 && data[i + 2] === 13 && data[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** Decodes as much of a chunked body as is present; null on a framing error. */
function dechunk(data: Uint8Array): { body: Uint8Array; done: boolean } | null {
  const parts: Uint8Array[] = [];
  let size = 0;
  let pos = 0;
  while (true) {
    let eol = -1;
    for (let i = pos; i + 1 < data.length; i++) {
      if (data[i] === 13 && data[i + 1] === 10) {
        eol = i;
        break;
      }
    }
    if (eol < 0) break;
    const sizeText = new TextDecoder().decode(data.subarray(pos, eol)).split(";")[0].trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) return null;
    const len = parseInt(sizeText, 16);
    if (len === 0) return { body: concat(parts, size), done: true };
    const start = eol + 2;
    const avail = Math.min(len, data.length - start);
    parts.push(data.subarray(start, start + avail));
    size += avail;
    if (avail < len) break;
    pos = start + len + 2;
  }
  return { body: concat(parts, size), done: false };
}

function concat(parts: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Parses the bytes received so far. `ended` says the peer closed. Returns "more" while the head
 * is incomplete and the peer may still send, "invalid" for a malformed or truncated head.
 */
export function parseResponse(data: Uint8Array, ended: boolean): ParseOutcome {
  const headEnd = indexOfHeadEnd(data);
  if (headEnd < 0) {
    return ended || data.length >= CHECK_BUFFER_SIZE ? { kind: "invalid" } : { kind: "more" };
  }
  const lines = new TextDecoder("latin1").decode(data.subarray(0, headEnd)).split("\r\n");
  const m = STATUS_LINE.exec(lines[0]);
  if (m === null) return { kind: "invalid" };
  let contentLength: number | null = null;
  let chunked = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) return { kind: "invalid" };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") {
      if (!/^\d+$/.test(value)) return { kind: "invalid" };
      contentLength = Number(value);
    } else if (name === "transfer-encoding") {
      chunked = value.toLowerCase().split(",").map((v) => v.trim()).includes("chunked");
    }
  }
  const raw = data.subarray(headEnd + 4);
  let body: Uint8Array;
  let done: boolean;
  if (chunked) {
    const d = dechunk(raw);
    if (d === null) return { kind: "invalid" };
    body = d.body;
    done = d.done || ended;
  } else if (contentLength !== null) {
    body = raw.subarray(0, contentLength);
    done = raw.length >= contentLength || ended;
  } else {
    body = raw;
    done = ended;
  }
  if (body.length >= CHECK_BUFFER_SIZE) {
    body = body.subarray(0, CHECK_BUFFER_SIZE);
    done = true;
  }
  return { kind: "ok", response: { code: Number(m[1]), reason: m[2] ?? "", body, bodyDone: done } };
}

function bytesInclude(hay: Uint8Array, needle: Uint8Array): boolean {
  if (needle.length === 0) return true;
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (hay[i + j] !== needle[j]) continue outer;
    }
    return true;
  }
  return false;
}

/**
 * Judges a parsed response against the check's expectations: `disable_on_404` (only while the
 * server is up) → L7OKC; the status list (or the implicit 2xx/3xx when no expectation is set)
 * → L7OK or L7STS with the reason phrase; the body string → L7OK or L7RSP
 * "HTTP content check did not match".
 */
export function judgeResponse(
  response: ParsedResponse,
  check: HealthCheckConfig,
  serverUp: boolean,
): { status: CheckStatus; code: number; description: string } {
  const code = response.code;
  if (check.disableOn404 && serverUp && code === 404) {
    return { status: "L7OKC", code, description: "" };
  }
  const wrong = { status: "L7STS" as const, code, description: response.reason };
  if (check.expectStatus !== null) {
    const inList = check.expectStatus.ranges.some(([lo, hi]) => code >= lo && code <= hi);
    if (inList === check.expectStatus.negate) return wrong;
  } else if (check.expectString === null && (code < 200 || code > 399)) {
    return wrong;
  }
  if (check.expectString !== null) {
    const needle = new TextEncoder().encode(check.expectString);
    if (!bytesInclude(response.body, needle)) {
      return { status: "L7RSP", code, description: "HTTP content check did not match" };
    }
  }
  return { status: "L7OK", code, description: "" };
}

// ---------------------------------------------------------------------------------------------
// I/O.

/** The minimal byte stream both plain and TLS connections offer. */
interface ByteStream {
  read(buf: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<void>;
  close(): void;
}

class Timeout extends Error {}

/** Text like strerror() for a connection error, from Deno or node errors. */
function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const byCode: Record<string, string> = {
    ECONNREFUSED: "Connection refused",
    ECONNRESET: "Connection reset by peer",
    EPIPE: "Broken pipe",
    EHOSTUNREACH: "No route to host",
    ENETUNREACH: "Network is unreachable",
    ETIMEDOUT: "Connection timed out",
  };
  const byName: Record<string, string> = {
    ConnectionRefused: "Connection refused",
    ConnectionReset: "Connection reset by peer",
    BrokenPipe: "Broken pipe",
  };
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && code in byCode) return byCode[code];
  if (err.name in byName) return byName[err.name];
  return err.message.replace(/ \(os error \d+\)$/, "");
}

/** Runs `work` until `deadline` (clock ms); `onTimeout` cleans up. */
function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => void,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Timeout());
    }, Math.max(0, ms));
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function denoStream(conn: Deno.Conn): ByteStream {
  return {
    read: (buf) => conn.read(buf),
    async write(data) {
      let off = 0;
      while (off < data.length) off += await conn.write(data.subarray(off));
    },
    close() {
      try {
        conn.close();
      } catch { /* already closed */ }
    },
  };
}

/** Adapts a node socket (plain or TLS) to {@linkcode ByteStream}. */
function nodeStream(socket: net.Socket): ByteStream {
  const chunks: Uint8Array[] = [];
  let ended = false;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  socket.on("data", (d: Uint8Array) => {
    chunks.push(new Uint8Array(d));
    notify();
  });
  socket.on("end", () => {
    ended = true;
    notify();
  });
  socket.on("close", () => {
    ended = true;
    notify();
  });
  socket.on("error", (e: unknown) => {
    failure = e;
    notify();
  });
  return {
    async read(buf) {
      while (chunks.length === 0 && !ended && failure === null) {
        await new Promise<void>((resolve) => wake = resolve);
      }
      if (chunks.length > 0) {
        const c = chunks[0];
        const n = Math.min(buf.length, c.length);
        buf.set(c.subarray(0, n));
        if (n < c.length) chunks[0] = c.subarray(n);
        else chunks.shift();
        return n;
      }
      if (failure !== null) throw failure;
      return null;
    },
    write(data) {
      return new Promise((resolve, reject) =>
        socket.write(data, (err?: Error | null) => err ? reject(err) : resolve())
      );
    },
    close() {
      socket.destroy();
    },
  };
}

/** Waits for a node socket event, rejecting on its "error". */
function nodeEvent(socket: net.Socket, event: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once(event, () => resolve());
    socket.once("error", reject);
  });
}

function result(
  status: CheckStatus,
  started: number,
  now: () => number,
  extra: { code?: number; description?: string } = {},
): ProbeResult {
  return {
    status,
    ...(extra.code !== undefined ? { code: extra.code } : {}),
    durationMs: Math.max(0, Math.round(now() - started)),
    description: extra.description ?? "",
  };
}

/**
 * Runs one health check against a server and reports HAProxy's detailed status. Never throws:
 * every failure is a {@linkcode ProbeResult}.
 */
export async function runProbe(spec: ProbeSpec, options: ProbeOptions = {}): Promise<ProbeResult> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const connectMs = spec.timeoutCheck !== null
    ? Math.min(spec.timeoutConnect ?? spec.inter, spec.inter)
    : spec.inter;
  const abort = new AbortController();
  let stream: ByteStream | null = null;
  const cleanup = () => {
    abort.abort();
    stream?.close();
  };
  if (options.signal?.aborted) return result("SOCKERR", started, now, { description: "Aborted" });
  options.signal?.addEventListener("abort", cleanup, { once: true });
  try {
    // Layer 4 (and 6).
    const at: { phase: "l4" | "l6" } = { phase: "l4" };
    const connect = async (): Promise<ByteStream> => {
      if (spec.tls === null) {
        const conn = await Deno.connect({
          hostname: spec.host,
          port: spec.port,
          signal: abort.signal,
        });
        if (abort.signal.aborted) conn.close();
        return denoStream(conn);
      }
      const raw = net.connect({ host: spec.host, port: spec.port });
      abort.signal.addEventListener("abort", () => raw.destroy(), { once: true });
      raw.on("error", () => {});
      await nodeEvent(raw, "connect");
      at.phase = "l6";
      const secure = tls.connect({
        socket: raw,
        servername: spec.tls.servername ?? (net.isIP(spec.host) ? undefined : spec.host),
        rejectUnauthorized: spec.tls.verify,
      });
      abort.signal.addEventListener("abort", () => secure.destroy(), { once: true });
      secure.on("error", () => {});
      const s = nodeStream(secure);
      await nodeEvent(secure, "secureConnect");
      return s;
    };
    try {
      stream = await withDeadline(connect(), connectMs - (now() - started), cleanup);
    } catch (err) {
      if (options.signal?.aborted) {
        return result("SOCKERR", started, now, { description: "Aborted" });
      }
      if (err instanceof Timeout) {
        return result(at.phase === "l4" ? "L4TOUT" : "L6TOUT", started, now);
      }
      return result(at.phase === "l4" ? "L4CON" : "L6RSP", started, now, {
        description: errorText(err),
      });
    }
    if (spec.http === null) return result(spec.tls === null ? "L4OK" : "L6OK", started, now);

    // Layer 7.
    const http = spec.http;
    const readMs = spec.timeoutCheck !== null ? spec.timeoutCheck : spec.inter - (now() - started);
    const open = stream;
    const exchange = async (): Promise<ProbeResult> => {
      await open.write(buildCheckRequest(http));
      let data = new Uint8Array(0);
      const buf = new Uint8Array(8192);
      let ended = false;
      while (true) {
        const parsed = parseResponse(data, ended);
        if (parsed.kind === "invalid") return result("L7RSP", started, now);
        if (parsed.kind === "ok" && (http.expectString === null || parsed.response.bodyDone)) {
          const verdict = judgeResponse(parsed.response, http, options.serverUp ?? true);
          return result(verdict.status, started, now, verdict);
        }
        if (ended) return result("L7RSP", started, now);
        const n = await open.read(buf);
        if (n === null) {
          ended = true;
          continue;
        }
        const grown = new Uint8Array(data.length + n);
        grown.set(data);
        grown.set(buf.subarray(0, n), data.length);
        data = grown;
        if (data.length > 2 * CHECK_BUFFER_SIZE) ended = true;
      }
    };
    try {
      return await withDeadline(exchange(), readMs, cleanup);
    } catch (err) {
      if (options.signal?.aborted) {
        return result("SOCKERR", started, now, { description: "Aborted" });
      }
      if (err instanceof Timeout) return result("L7TOUT", started, now);
      return result("SOCKERR", started, now, { description: errorText(err) });
    }
  } finally {
    options.signal?.removeEventListener("abort", cleanup);
    cleanup();
  }
}
