/**
 * Byte I/O for the proxy engines: the connection shape they need (a plain `Deno.Conn`, or a TLS
 * connection adapted from `node:tls`), a read buffer that keeps unconsumed bytes for pipelining,
 * and write helpers that never throw past their result.
 *
 * @module
 */

/** What the engine needs from a connection; `Deno.Conn` satisfies it. */
export interface ByteConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  readonly remoteAddr: Deno.Addr;
  readonly localAddr: Deno.Addr;
  /**
   * Optional synchronous write: the bytes of `p` the kernel took right now (0 when it would
   * have to wait, other writes are queued, or the socket failed — `write` then reports it).
   * Our own sockets have it (src/sys/tcp.ts); it spares a promise chain per write.
   */
  writeNow?(p: Uint8Array): number;
}

/** TLS facts of a client connection, when it came in on a TLS bind. */
export interface TlsInfo {
  readonly sni: string | null;
  readonly alpn: string | null;
  readonly version: string | null;
}

/** A connection that may carry {@linkcode TlsInfo}. */
export type ClientConn = ByteConn & { readonly tls?: TlsInfo };

const BUF_SIZE = 16 * 1024;
/** Most released read buffers kept for reuse (4 MiB). */
const POOL_MAX = 256;
/** Released buffers: a fresh 16 KiB Uint8Array costs ~4.7 µs in Deno, two per new HTTP
 * connection (the client's and the server connection's). */
const freeBuffers: Uint8Array[] = [];
const NO_BYTES = new Uint8Array(0);

/** Something that points into a read buffer's bytes and can take a copy of them. */
export interface Detachable {
  detach(): void;
}

/**
 * A growable read buffer: bytes `[start, end)` are received and not yet consumed. Reads go after
 * `end`; the unconsumed rest moves to the front when room runs out.
 */
export class ReadBuffer {
  buf: Uint8Array = freeBuffers.pop() ?? new Uint8Array(BUF_SIZE);
  start = 0;
  end = 0;
  #pinned: Detachable | null = null;
  /** A read into `buf` is in flight. */
  #filling = false;
  #released = false;

  /**
   * Registers something that points into bytes already consumed or about to be (a head parsed
   * in place): the next `fill` detaches it first, since a read may overwrite those bytes.
   * `null` forgets it (its owner is done with it).
   */
  pin(p: Detachable | null): void {
    this.#pinned = p;
  }

  /** The unconsumed bytes (a view). */
  view(): Uint8Array {
    return this.buf.subarray(this.start, this.end);
  }

  /** Marks `n` bytes consumed. */
  consume(n: number): void {
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
  }

  /** True when nothing is pending. */
  get empty(): boolean {
    return this.start === this.end;
  }

  /**
   * Reads once from `conn` after the pending bytes; resolves to the count, or null at EOF or
   * when the connection failed (reset, closed under the read). A plain function returning the
   * read's own promise: no extra async frame on the hot path.
   */
  fill(conn: ByteConn): Promise<number | null> {
    if (this.#released) return Promise.resolve(null);
    if (this.#pinned !== null) {
      this.#pinned.detach();
      this.#pinned = null;
    }
    if (this.end === this.buf.length) {
      if (this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      } else {
        const bigger = new Uint8Array(this.buf.length * 2);
        bigger.set(this.buf);
        this.buf = bigger;
      }
    }
    this.#filling = true;
    return conn.read(this.buf.subarray(this.end)).then(this.#commit, this.#failed);
  }

  /**
   * The owner is done with the buffer (its connection closed or its session ended): the bytes go
   * back to a pool for the next ReadBuffer — once a read still in flight has settled — and later
   * fills report end of stream. A head still pinned gets its own copy first.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#pinned?.detach();
    this.#pinned = null;
    if (!this.#filling) this.#recycle();
  }

  #recycle(): void {
    const b = this.buf;
    this.buf = NO_BYTES;
    this.start = this.end = 0;
    if (b.length === BUF_SIZE && freeBuffers.length < POOL_MAX) freeBuffers.push(b);
  }

  readonly #commit = (n: number | null): number | null => {
    this.#filling = false;
    if (this.#released) {
      this.#recycle();
      return null;
    }
    if (n !== null) this.end += n;
    return n;
  };

  readonly #failed = (): null => {
    this.#filling = false;
    if (this.#released) this.#recycle();
    return null;
  };
}

/** What {@linkcode writeAll} returns when everything was written at once (compare by identity). */
export const WRITTEN: Promise<void> = Promise.resolve();
/** What {@linkcode tryWriteAll} returns when everything was written at once. */
export const WRITTEN_OK: Promise<boolean> = Promise.resolve(true);

/** Writes all of `data`; rejects when the peer is gone. */
export function writeAll(conn: ByteConn, data: Uint8Array): Promise<void> {
  // The common case is one complete write: done synchronously when the socket can, else with
  // no extra async frame.
  const now = conn.writeNow?.(data) ?? 0;
  if (now === data.length) return WRITTEN;
  if (now > 0) return writeRest(conn, data, now);
  return conn.write(data).then((n) => n < data.length ? writeRest(conn, data, n) : undefined);
}

async function writeRest(conn: ByteConn, data: Uint8Array, from: number): Promise<void> {
  let off = from;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** Writes all of `data`; false when the peer is gone. */
export function tryWriteAll(conn: ByteConn, data: Uint8Array): Promise<boolean> {
  const p = writeAll(conn, data);
  return p === WRITTEN ? WRITTEN_OK : p.then(() => true, () => false);
}

/** Closes without throwing. */
export function closeQuietly(conn: ByteConn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/** The textual IP of an address ("" for unix sockets). */
export function addrHost(addr: Deno.Addr): string {
  return addr.transport === "tcp" || addr.transport === "udp" ? addr.hostname : "";
}

/** The port of an address (0 for unix sockets). */
export function addrPort(addr: Deno.Addr): number {
  return addr.transport === "tcp" || addr.transport === "udp" ? addr.port : 0;
}
