/**
 * Loopback test peers for the proxy engines: backends that answer with their name, echo, or
 * stream a payload, and small client helpers. Every server listens on 127.0.0.1 with an
 * OS-chosen port and closes all its connections on `close()`.
 *
 * @module
 */

/** A test server: its port, connection count, and a close that ends everything. */
export interface TestServer {
  readonly port: number;
  /** Connections accepted so far. */
  accepted: number;
  /** Connections currently open. */
  readonly open: Set<Deno.Conn>;
  close(): Promise<void>;
}

/**
 * Starts a loopback server that runs `handle` for each connection (errors are swallowed), on
 * `port` or an OS-chosen one.
 */
export function startServer(
  handle: (conn: Deno.Conn) => Promise<void>,
  port = 0,
): TestServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const server: TestServer = {
    port: (listener.addr as Deno.NetAddr).port,
    accepted: 0,
    open,
    async close() {
      listener.close();
      for (const c of open) closeQuietly(c);
      await loop;
      await Promise.all(tasks);
    },
  };
  const loop = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (e) {
        // A peer that resets before accept completes (HAProxy's checks do) costs one accept.
        if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) return;
        continue;
      }
      server.accepted++;
      open.add(conn);
      const task = handle(conn).catch(() => {}).finally(() => {
        open.delete(conn);
        closeQuietly(conn);
        tasks.delete(task);
      });
      tasks.add(task);
    }
  })();
  return server;
}

/** Answers `name\n` at once, then waits for the client to close. */
export function namedServer(name: string, port = 0): TestServer {
  const reply = new TextEncoder().encode(name + "\n");
  return startServer(async (conn) => {
    await writeAll(conn, reply);
    await readAll(conn);
  }, port);
}

/** Echoes every chunk as it arrives; closes its write side after the client's EOF. */
export function echoServer(): TestServer {
  return startServer(async (conn) => {
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      await writeAll(conn, buf.subarray(0, n));
    }
    await conn.closeWrite();
  });
}

/** Reads until EOF, then sends everything back and closes (half-close test). */
export function echoAfterEofServer(): TestServer {
  return startServer(async (conn) => {
    const data = await readAll(conn);
    await writeAll(conn, data);
    await conn.closeWrite();
  });
}

/** Sends `total` bytes of a deterministic pattern in `chunk`-sized writes `pauseMs` apart. */
export function streamServer(
  total: number,
  options: { chunk?: number; pauseMs?: number } = {},
): TestServer {
  const chunk = options.chunk ?? 65536;
  const pause = options.pauseMs ?? 0;
  return startServer(async (conn) => {
    const data = pattern(total);
    for (let off = 0; off < total; off += chunk) {
      await writeAll(conn, data.subarray(off, Math.min(total, off + chunk)));
      if (pause > 0) await sleep(pause);
    }
    await conn.closeWrite();
    await readAll(conn);
  });
}

/** Accepts and holds connections without reading (idle backend). */
export function silentServer(): TestServer {
  return startServer(async (conn) => {
    await readAll(conn);
  });
}

/** A deterministic byte pattern. */
export function pattern(length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = 0x12345678;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Writes all of `data`. */
export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** Reads until EOF (or an error, which ends the data) and returns the bytes. */
export async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  const buf = new Uint8Array(65536);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      parts.push(buf.slice(0, n));
      size += n;
    }
  } catch {
    // reset: return what arrived
  }
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Reads until EOF counting bytes and an FNV-1a checksum, without keeping the data. */
export async function readDigest(conn: Deno.Conn): Promise<{ size: number; sum: number }> {
  const buf = new Uint8Array(65536);
  let size = 0;
  let h = 0x811c9dc5;
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ buf[i], 0x01000193) >>> 0;
    size += n;
  }
  return { size, sum: h };
}

/** FNV-1a of a buffer (matches {@linkcode readDigest}). */
export function digest(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i], 0x01000193) >>> 0;
  return h;
}

/** Reads one `\n`-terminated line (without the newline); null on EOF before one. */
export async function readLine(conn: Deno.Conn): Promise<string | null> {
  const bytes: number[] = [];
  const one = new Uint8Array(1);
  for (let i = 0; i < 4096; i++) {
    const n = await conn.read(one);
    if (n === null) return null;
    if (one[0] === 10) return new TextDecoder().decode(new Uint8Array(bytes));
    bytes.push(one[0]);
  }
  return null;
}

/** Connects to 127.0.0.1:port. */
export function dial(port: number): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port });
}

/** Connects, reads the backend's name line, closes. Null when closed without a name. */
export async function askName(port: number): Promise<string | null> {
  const conn = await dial(port);
  try {
    return await readLine(conn);
  } catch {
    return null;
  } finally {
    closeQuietly(conn);
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Closes, ignoring "already closed". */
export function closeQuietly(conn: Deno.Conn | Deno.Listener): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/** Polls `cond` every 10 ms until true or `timeoutMs` passes; returns the last result. */
export async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(10);
  }
  return cond();
}

/** The low end of the kernel's ephemeral port range: client sockets take their ports there. */
const EPHEMERAL_LOW = (() => {
  try {
    const text = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range");
    return Number(text.trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
})();

const handedOut = new Set<number>();

/**
 * A loopback TCP port that is free now, for a server a test configures and starts later. It is
 * drawn at random just below the kernel's ephemeral range, so no client connection of a
 * parallel test (their local ports come from that range) can hold it by the time the server
 * binds, and never handed out twice in one test process. Falls back to a kernel-chosen port.
 */
export function freePort(): number {
  const span = Math.min(12_000, EPHEMERAL_LOW - 1025);
  for (let i = 0; span > 0 && i < 100; i++) {
    const port = EPHEMERAL_LOW - 1 - Math.floor(Math.random() * span);
    if (handedOut.has(port)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } catch {
      continue;
    }
    handedOut.add(port);
    return port;
  }
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
