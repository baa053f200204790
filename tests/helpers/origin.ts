/**
 * Test origin servers for the HTTP end-to-end tests: a raw-TCP HTTP/1.1 server on
 * `Deno.listen` (not `Deno.serve`, which would normalise what it received). Each origin records
 * every request exactly as it arrived (request line, headers in order, raw head, decoded body)
 * and answers with its name in `x-origin` and a JSON echo of the request as the body.
 *
 * The request's query string steers the answer, so one origin serves every scenario:
 * - `status=404` — status code (reason from a small table);
 * - `setcookie=V` — adds `set-cookie: V` (repeatable);
 * - `hdr=Name:Value` — adds a response header (repeatable);
 * - `chunked=1` — sends the body chunked (three chunks);
 * - `delay=MS` — waits before answering (server timeout tests);
 * - `close=1` — answers with `connection: close` and closes;
 * - `body=TEXT` — answers `TEXT` as text/plain instead of the echo;
 * - `garbage=1` — answers bytes that are not HTTP; `abort=1` — closes without answering.
 *
 * `Expect: 100-continue` gets an interim `100 Continue` before the body is read. An HTTP/1.0
 * request without `connection: keep-alive`, or any `connection: close` request, is answered and
 * then the connection is closed.
 *
 * @module
 */

/** One request as an origin received it. */
export interface ReceivedRequest {
  /** Name of the origin that received it. */
  origin: string;
  method: string;
  target: string;
  version: string;
  /** Header lines in arrival order, names as sent. */
  headers: [string, string][];
  /** The body after de-chunking (latin1). */
  body: string;
  /** True when the body arrived chunked. */
  chunked: boolean;
  /** The head bytes exactly as received, request line to the blank line (latin1). */
  rawHead: string;
}

/** A running origin. */
export interface Origin {
  readonly name: string;
  readonly port: number;
  /** Every request received so far, in order. */
  readonly requests: ReceivedRequest[];
  /** Connections accepted so far (health checks included). */
  readonly connections: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Options of {@linkcode startOrigin}. */
export interface OriginOptions {
  /** Port to listen on; default: chosen by the OS. */
  port?: number;
}

const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** Bytes ↔ latin1 string, one char per byte. */
export function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

/** A latin1 string to bytes (chars above 0xff are truncated). */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/**
 * A buffered reader over a connection: every read may be bounded in time, and a read that
 * timed out is not lost (the next call picks it up), so one connection never has two reads in
 * flight.
 */
export class ConnReader {
  /** Bytes received but not consumed yet (latin1). */
  buf = "";
  /** True once the peer closed (or reset) the connection. */
  eof = false;
  #conn: Deno.Conn;
  #pending: Promise<Uint8Array | null> | null = null;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /**
   * Reads once more into `buf`; false on EOF or when `timeoutMs` passed without data
   * (`timedOut` tells which).
   */
  async fill(timeoutMs: number): Promise<{ ok: boolean; timedOut: boolean }> {
    if (this.eof) return { ok: false, timedOut: false };
    if (this.#pending === null) {
      const chunk = new Uint8Array(65536);
      this.#pending = this.#conn.read(chunk).then(
        (n) => (n === null ? null : chunk.subarray(0, n)),
        () => null,
      );
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) =>
      timer = setTimeout(() => r("timeout"), timeoutMs)
    );
    const got = await Promise.race([this.#pending, timeout]);
    clearTimeout(timer);
    if (got === "timeout") return { ok: false, timedOut: true };
    this.#pending = null;
    if (got === null) {
      this.eof = true;
      return { ok: false, timedOut: false };
    }
    this.buf += latin1(got);
    return { ok: true, timedOut: false };
  }

  /** Reads until `buf` contains `needle`; returns its index or -1 (EOF or deadline). */
  async until(needle: string, deadline: number): Promise<number> {
    for (;;) {
      const at = this.buf.indexOf(needle);
      if (at >= 0) return at;
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.fill(left)).ok) return -1;
    }
  }

  /** Reads until `buf` holds `n` bytes; false on EOF or deadline. */
  async atLeast(n: number, deadline: number): Promise<boolean> {
    while (this.buf.length < n) {
      const left = deadline - Date.now();
      if (left <= 0 || !(await this.fill(left)).ok) return false;
    }
    return true;
  }

  /** Removes and returns the first `n` bytes of `buf`. */
  take(n: number): string {
    const out = this.buf.slice(0, n);
    this.buf = this.buf.slice(n);
    return out;
  }
}

/** Splits a head (request or status line + header lines) into its lines. */
export function headLines(head: string): string[] {
  return head.split(/\r?\n/).filter((l) => l.length > 0);
}

/** Parses `name: value` header lines (value trimmed). */
export function parseHeaderLines(lines: string[]): [string, string][] {
  return lines.map((l) => {
    const at = l.indexOf(":");
    return at < 0 ? [l, ""] : [l.slice(0, at), l.slice(at + 1).trim()];
  });
}

/** The value of the first header called `name` (case-insensitive), or null. */
export function headerValue(headers: readonly [string, string][], name: string): string | null {
  const lower = name.toLowerCase();
  return headers.find(([n]) => n.toLowerCase() === lower)?.[1] ?? null;
}

/** Reads a chunked body after its head; null when it ended early. */
export async function readChunked(r: ConnReader, deadline: number): Promise<string | null> {
  let body = "";
  for (let guard = 0; guard < 100_000; guard++) {
    const eol = await r.until("\n", deadline);
    if (eol < 0) return null;
    const size = parseInt(r.take(eol + 1).trim().split(";")[0], 16);
    if (Number.isNaN(size)) return null;
    if (size === 0) {
      // trailers up to the empty line
      for (let t = 0; t < 1000; t++) {
        const end = await r.until("\n", deadline);
        if (end < 0) return null;
        if (r.take(end + 1).trim() === "") return body;
      }
      return null;
    }
    if (!(await r.atLeast(size + 2, deadline))) return null;
    body += r.take(size);
    const crlf = r.buf.startsWith("\r\n") ? 2 : 1;
    r.take(crlf);
  }
  return null;
}

async function writeText(conn: Deno.Conn, text: string): Promise<void> {
  const data = latin1Bytes(text);
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Reads one request from `r`; null when the connection ended first. */
async function readRequest(
  r: ConnReader,
  conn: Deno.Conn,
  name: string,
): Promise<ReceivedRequest | null> {
  const deadline = Date.now() + 30_000;
  // skip empty lines before a request
  while (r.buf.startsWith("\r\n") || r.buf.startsWith("\n")) r.take(r.buf[0] === "\r" ? 2 : 1);
  let end = -1;
  let sep = 4;
  for (;;) {
    const crlf = r.buf.indexOf("\r\n\r\n");
    const lf = r.buf.indexOf("\n\n");
    if (crlf >= 0 && (lf < 0 || crlf < lf)) [end, sep] = [crlf, 4];
    else if (lf >= 0) [end, sep] = [lf, 2];
    if (end >= 0) break;
    if (!(await r.fill(deadline - Date.now())).ok) return null;
  }
  const rawHead = r.take(end + sep);
  const lines = headLines(rawHead);
  const [method = "", target = "", version = ""] = lines[0]?.split(" ") ?? [];
  const headers = parseHeaderLines(lines.slice(1));
  const te = headerValue(headers, "transfer-encoding");
  const cl = headerValue(headers, "content-length");
  const chunked = te !== null && /chunked/i.test(te);
  const expect = headerValue(headers, "expect");
  if (expect?.toLowerCase() === "100-continue") {
    await writeText(conn, "HTTP/1.1 100 Continue\r\n\r\n");
  }
  let body = "";
  if (chunked) {
    body = (await readChunked(r, deadline)) ?? "";
  } else if (cl !== null && /^\d+$/.test(cl)) {
    const n = Number(cl);
    await r.atLeast(n, deadline);
    body = r.take(n);
  }
  return { origin: name, method, target, version, headers, body, chunked, rawHead };
}

/** Builds the answer to `req`; `close` says whether to close after it. */
function answer(req: ReceivedRequest): { text: string; close: boolean; delay: number } {
  const q = new URLSearchParams(req.target.includes("?") ? req.target.split("?")[1] : "");
  const status = Number(q.get("status") ?? "200");
  const delay = Number(q.get("delay") ?? "0");
  const connection = headerValue(req.headers, "connection")?.toLowerCase() ?? "";
  const close = q.has("close") || connection.includes("close") ||
    (req.version === "HTTP/1.0" && !connection.includes("keep-alive"));
  const lines = [`HTTP/1.1 ${status} ${REASONS[status] ?? "Other"}`, `x-origin: ${req.origin}`];
  for (const c of q.getAll("setcookie")) lines.push(`set-cookie: ${c}`);
  for (const h of q.getAll("hdr")) {
    const at = h.indexOf(":");
    lines.push(`${h.slice(0, at)}: ${h.slice(at + 1)}`);
  }
  let body = q.get("body");
  if (body === null) {
    lines.push("content-type: application/json");
    body = JSON.stringify({
      origin: req.origin,
      line: `${req.method} ${req.target} ${req.version}`,
      headers: req.headers.map(([n, v]) => [n.toLowerCase(), v]),
      body: req.body,
    });
  } else {
    lines.push("content-type: text/plain");
  }
  if (close) lines.push("connection: close");
  const noBody = req.method === "HEAD" || status === 204 || status === 304;
  if (q.has("chunked") && !noBody) {
    lines.push("transfer-encoding: chunked");
    const third = Math.ceil(body.length / 3);
    let chunks = "";
    for (let i = 0; i < body.length; i += third) {
      const part = body.slice(i, i + third);
      chunks += `${part.length.toString(16)}\r\n${part}\r\n`;
    }
    return { text: `${lines.join("\r\n")}\r\n\r\n${chunks}0\r\n\r\n`, close, delay };
  }
  if (status !== 204 && status !== 304) lines.push(`content-length: ${body.length}`);
  const text = `${lines.join("\r\n")}\r\n\r\n${noBody ? "" : body}`;
  return { text, close, delay };
}

async function serveConn(
  conn: Deno.Conn,
  name: string,
  requests: ReceivedRequest[],
): Promise<void> {
  const r = new ConnReader(conn);
  for (let i = 0; i < 10_000; i++) {
    const req = await readRequest(r, conn, name);
    if (req === null) return;
    requests.push(req);
    const q = req.target.includes("?") ? req.target.split("?")[1] : "";
    if (/(^|&)abort=1/.test(q)) return;
    if (/(^|&)garbage=1/.test(q)) {
      await writeText(conn, "this is not http\r\n\r\n");
      return;
    }
    const { text, close, delay } = answer(req);
    if (delay > 0) await sleep(Math.min(delay, 10_000));
    await writeText(conn, text);
    if (close) return;
  }
}

/** Starts an origin called `name` on 127.0.0.1. */
export function startOrigin(name: string, options: OriginOptions = {}): Origin {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: options.port ?? 0 });
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const requests: ReceivedRequest[] = [];
  let connections = 0;
  const loop = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      connections++;
      open.add(conn);
      const task: Promise<void> = serveConn(conn, name, requests).catch(() => {}).finally(() => {
        open.delete(conn);
        try {
          conn.close();
        } catch {
          // already closed
        }
        tasks.delete(task);
      });
      tasks.add(task);
    }
  })();
  return {
    name,
    port: (listener.addr as Deno.NetAddr).port,
    requests,
    get connections() {
      return connections;
    },
    async close() {
      listener.close();
      for (const c of open) {
        try {
          c.close();
        } catch {
          // already closed
        }
      }
      await loop;
      await Promise.all(tasks);
    },
  };
}
