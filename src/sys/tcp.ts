/**
 * TCP sockets on the {@linkcode Reactor}: a listener, an outgoing connect and the connection
 * itself, shaped like Deno's (`read`/`write`/`closeWrite`/`close`, `remoteAddr`/`localAddr`) so
 * the proxy engines run on either. Reads and writes are synchronous nonblocking system calls on
 * the JS thread; a promise waits only when the kernel says "not now" (EAGAIN), and the reactor's
 * edge tells it when to try again.
 *
 * Semantics kept from `Deno.Conn`: `read` resolves to the byte count or `null` at end of stream
 * and rejects on a reset or when the connection is closed under it; `write` resolves to the count
 * written (possibly short); writes issued while one waits are queued in order; `close` rejects
 * whatever waits.
 *
 * @module
 */
import { closeFd, errno, getSockOptInt, libc, setSockOptInt, sysError } from "./libc.ts";
import { SysError } from "./errors.ts";
import {
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDHUP,
  reactor,
  type Watcher,
} from "./reactor.ts";
import {
  AF_INET,
  AF_INET6,
  alloc,
  encodeSockaddrIn,
  encodeSockaddrIn6,
  formatIP,
  parseIP,
} from "./sockaddr.ts";

const SOCK_STREAM = 1;
const SOCK_FLAGS = 0x800 | 0x80000; // SOCK_NONBLOCK | SOCK_CLOEXEC
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_ERROR = 4;
const SO_REUSEPORT = 15;
const IPPROTO_TCP = 6;
const TCP_NODELAY = 1;
const MSG_NOSIGNAL = 0x4000;
const SHUT_WR = 1;
const EAGAIN = 11;
const EINTR = 4;
const EINPROGRESS = 115;
const EIO = 5;
const ECONNABORTED = 103;
const ENOTCONN = 107;
/** Queued writes up to this size are copied (see `write`). */
const COPY_QUEUED_MAX = 16 * 1024;
/** Room for a `sockaddr_in6`. */
const SOCKADDR_MAX = 28;

/** The error a read or write gets when the connection was closed under it. */
export class ConnClosedError extends Error {
  constructor() {
    super("the connection was closed");
    this.name = "ConnClosedError";
  }
}

/**
 * The one instance handed out: closing a connection rejects whatever waits on it, once per
 * proxied connection, and building an Error (its stack) each time was measurable.
 */
const CLOSED = new ConnClosedError();

interface PendingWrite {
  data: Uint8Array;
  resolve: (n: number) => void;
  reject: (e: unknown) => void;
}

const nameBuf = alloc(SOCKADDR_MAX);
const nameLen = alloc(4);
const nameLenView = new DataView(nameLen.buffer);

/** The local address of `fd` (`getsockname`), decoded from reused buffers. */
function localName(fd: number): Deno.NetAddr {
  nameLenView.setUint32(0, SOCKADDR_MAX, true);
  if (libc().getsockname(fd, nameBuf, nameLen) < 0) throw sysError("getsockname");
  return toNetAddr(nameBuf, nameLenView.getUint32(0, true));
}

/** Decodes a `sockaddr_in`/`sockaddr_in6` without copying (a copy is an ArrayBuffer: ~2 µs). */
function toNetAddr(buf: Uint8Array, length: number): Deno.NetAddr {
  const family = buf[0] | (buf[1] << 8);
  const port = (buf[2] << 8) | buf[3];
  let hostname = "";
  if (family === AF_INET && length >= 8) {
    hostname = buf[4] + "." + buf[5] + "." + buf[6] + "." + buf[7];
  } else if (family === AF_INET6 && length >= 24) {
    hostname = formatIP(buf.subarray(8, 24));
  }
  return { transport: "tcp", hostname, port };
}

/** A connected TCP socket (accepted or dialed). Create with {@linkcode connectTcp} or accept. */
export class TcpConn implements Watcher {
  readonly fd: number;
  /** The peer's address. */
  readonly remoteAddr: Deno.NetAddr;
  readonly #token: number;
  #local: Deno.NetAddr | null = null;
  #noDelay = true;
  /** False once a read came back short or EAGAIN: wait for the next edge. */
  #readable = false;
  #writable = true;
  #eof = false;
  /** The peer sent FIN (EPOLLRDHUP): recv never blocks again, so a short read keeps it readable. */
  #peerDone = false;
  /** A failed read's error: every later read gets it too. */
  #error: Error | null = null;
  #closed = false;
  #reader:
    | { buf: Uint8Array; resolve: (n: number | null) => void; reject: (e: unknown) => void }
    | null = null;
  #writes: PendingWrite[] = [];
  #shutdownPending: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  #connecting: { resolve: () => void; reject: (e: unknown) => void } | null = null;

  /**
   * Wraps a connected (or connecting) nonblocking fd whose peer is `remote`; `local` when it is
   * known already (accepted on a listener bound to one address), else asked for on first use.
   */
  constructor(fd: number, remote: Deno.NetAddr, local: Deno.NetAddr | null = null) {
    this.fd = fd;
    this.remoteAddr = remote;
    this.#local = local;
    this.#token = reactor().add(fd, this);
  }

  /** The local address (asked from the kernel on first use). */
  get localAddr(): Deno.NetAddr {
    return this.#local ??= this.#closed
      ? { transport: "tcp", hostname: "", port: 0 }
      : localName(this.fd);
  }

  /** `TCP_NODELAY`; every connection made here starts with it on, so `true` costs nothing. */
  setNoDelay(noDelay = true): void {
    if (this.#closed || noDelay === this.#noDelay) return;
    setSockOptInt(this.fd, IPPROTO_TCP, TCP_NODELAY, noDelay ? 1 : 0, "TCP_NODELAY");
    this.#noDelay = noDelay;
  }

  /** Reads into `p`: the count, or `null` at end of stream. */
  read(p: Uint8Array): Promise<number | null> {
    if (this.#closed) return Promise.reject(CLOSED);
    if (this.#reader !== null) {
      return Promise.reject(new Deno.errors.Busy("Another read is ongoing"));
    }
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#eof) return Promise.resolve(null);
    if (p.length === 0) return Promise.resolve(0);
    if (this.#readable) {
      const r = this.#tryRead(p);
      if (r !== undefined) return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
    }
    const { promise, resolve, reject } = Promise.withResolvers<number | null>();
    this.#reader = { buf: p, resolve, reject };
    return promise;
  }

  /** One `recv`: a count, null (EOF), an error, or undefined (EAGAIN: now waits for an edge). */
  #tryRead(p: Uint8Array): number | null | Error | undefined {
    for (;;) {
      const n = libc().recv(this.fd, p, p.length, 0);
      if (n > 0) {
        // A short read emptied the socket; the next arrival raises a new edge.
        if (n < p.length && !this.#peerDone) this.#readable = false;
        return n;
      }
      if (n === 0) {
        this.#eof = true;
        return null;
      }
      const code = errno();
      if (code === EINTR) continue;
      this.#readable = false;
      if (code === EAGAIN) return undefined;
      return this.#error = sysError("recv", code);
    }
  }

  /** Writes from `p`: resolves to the count written (may be short). */
  write(p: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(CLOSED);
    if (this.#writes.length === 0 && this.#writable && this.#connecting === null) {
      const r = this.#trySend(p);
      if (r !== undefined) return typeof r === "object" ? Promise.reject(r) : Promise.resolve(r);
    }
    const { promise, resolve, reject } = Promise.withResolvers<number>();
    // A small queued write is copied: it may be a view into a shared slab (src/proxy/bytes.ts),
    // which a slow reader would otherwise keep alive whole (64 KiB for a 300-byte head).
    const data = p.length <= COPY_QUEUED_MAX ? p.slice() : p;
    this.#writes.push({ data, resolve, reject });
    return promise;
  }

  /**
   * Sends what the kernel takes right now, synchronously: the count (0 when a write is queued,
   * the socket is not writable yet or the send failed — `write` then reports the failure).
   */
  writeNow(p: Uint8Array): number {
    if (this.#closed || this.#writes.length > 0 || !this.#writable || this.#connecting !== null) {
      return 0;
    }
    const r = this.#trySend(p);
    return typeof r === "number" ? r : 0;
  }

  /** One `send`: a count, an error, or undefined (EAGAIN: wait for an edge). */
  #trySend(p: Uint8Array): number | Error | undefined {
    for (;;) {
      const n = libc().send(this.fd, p, p.length, MSG_NOSIGNAL);
      if (n >= 0) {
        if (n < p.length) this.#writable = false;
        return n;
      }
      const code = errno();
      if (code === EINTR) continue;
      if (code === EAGAIN) {
        this.#writable = false;
        return undefined;
      }
      return sysError("send", code);
    }
  }

  /** Sends FIN after the queued writes (half-close). */
  closeWrite(): Promise<void> {
    if (this.#closed) return Promise.reject(CLOSED);
    if (this.#shutdownPending !== null) {
      return Promise.reject(new Deno.errors.Busy("A half-close is already waiting"));
    }
    if (this.#writes.length === 0) return this.#shutdown();
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#shutdownPending = { resolve, reject };
    return promise;
  }

  #shutdown(): Promise<void> {
    if (libc().shutdown(this.fd, SHUT_WR) < 0) {
      const code = errno();
      // Not connected any more (the peer reset): nothing left to half-close.
      if (code !== ENOTCONN) return Promise.reject(sysError("shutdown", code));
    }
    return Promise.resolve();
  }

  /** Closes the socket; a pending read or write rejects with {@linkcode ConnClosedError}. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    reactor().remove(this.#token);
    closeFd(this.fd);
    this.#failAll(CLOSED);
  }

  #failAll(error: unknown): void {
    const reader = this.#reader;
    this.#reader = null;
    reader?.reject(error);
    const writes = this.#writes;
    this.#writes = [];
    for (const w of writes) w.reject(error);
    const sd = this.#shutdownPending;
    this.#shutdownPending = null;
    sd?.reject(error);
    const c = this.#connecting;
    this.#connecting = null;
    c?.reject(error);
  }

  /** Resolves once a nonblocking connect has completed (rejects with its error). */
  connected(): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#connecting = { resolve, reject };
    return promise;
  }

  /** Reactor callback: retry what waited on this edge. */
  onReady(events: number): void {
    if (this.#closed) return;
    if (this.#connecting !== null) {
      if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) === 0) return;
      const c = this.#connecting;
      this.#connecting = null;
      const soError = socketError(this.fd);
      if (soError !== 0) {
        c.reject(sysError("connect", soError));
        return;
      }
      c.resolve();
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      this.#readable = true;
      if (events & EPOLLRDHUP) this.#peerDone = true;
      const reader = this.#reader;
      if (reader !== null) {
        const r = this.#tryRead(reader.buf);
        if (r !== undefined) {
          this.#reader = null;
          if (r instanceof Error) reader.reject(r);
          else reader.resolve(r);
        }
      }
    }
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
      this.#writable = true;
      this.#flush();
    }
  }

  #flush(): void {
    while (this.#writes.length > 0 && this.#writable && !this.#closed) {
      const w = this.#writes[0];
      const r = this.#trySend(w.data);
      if (r === undefined) return;
      this.#writes.shift();
      if (typeof r === "object") w.reject(r);
      else w.resolve(r);
    }
    if (this.#writes.length === 0 && this.#shutdownPending !== null) {
      const sd = this.#shutdownPending;
      this.#shutdownPending = null;
      this.#shutdown().then(sd.resolve, sd.reject);
    }
  }
}

/** The pending error of a connecting socket (`SO_ERROR`), 0 when it connected. */
function socketError(fd: number): number {
  try {
    return getSockOptInt(fd, SOL_SOCKET, SO_ERROR, "SO_ERROR");
  } catch (e) {
    return e instanceof SysError ? e.errno : EIO;
  }
}

/** Parsed literal addresses (server addresses repeat on every connect). */
const parsedHosts = new Map<string, { family: 4 | 6; bytes: Uint8Array } | null>();

function parseHost(host: string): { family: 4 | 6; bytes: Uint8Array } | null {
  let ip = parsedHosts.get(host);
  if (ip === undefined) {
    if (parsedHosts.size >= 1024) parsedHosts.clear();
    ip = parseIP(host);
    parsedHosts.set(host, ip);
  }
  return ip;
}

/** True when `host` is a literal IPv4/IPv6 address ({@linkcode connectTcp} takes no names). */
export function isIpLiteral(host: string): boolean {
  return parseHost(host) !== null;
}

/** Encoded server addresses (each would otherwise be a fresh ArrayBuffer per connect). */
const encodedAddresses = new Map<string, Uint8Array>();

function encodeAddress(host: string, port: number): Uint8Array {
  const key = host + " " + port;
  let sockaddr = encodedAddresses.get(key);
  if (sockaddr === undefined) {
    const ip = parseHost(host);
    if (ip === null) throw new TypeError(`not an IP address: ${host}`);
    sockaddr = ip.family === 4
      ? encodeSockaddrIn(ip.bytes, port)
      : encodeSockaddrIn6(ip.bytes, { port });
    if (encodedAddresses.size >= 1024) encodedAddresses.clear();
    encodedAddresses.set(key, sockaddr);
  }
  return sockaddr;
}

function openTcpSocket(family: number): number {
  const fd = libc().socket(family, SOCK_STREAM | SOCK_FLAGS, 0);
  if (fd < 0) throw sysError("socket");
  return fd;
}

/**
 * Connects to `host` (a literal IPv4/IPv6 address) and `port`. Rejects with a {@linkcode SysError}
 * (`ECONNREFUSED`, …) or, when `signal` aborts first, with its reason; the socket is closed then.
 */
export async function connectTcp(
  host: string,
  port: number,
  options: { signal?: AbortSignal } = {},
): Promise<TcpConn> {
  options.signal?.throwIfAborted();
  const sockaddr = encodeAddress(host, port);
  const fd = openTcpSocket(sockaddr.length === 16 ? AF_INET : AF_INET6);
  let conn: TcpConn;
  try {
    setSockOptInt(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
    conn = new TcpConn(fd, { transport: "tcp", hostname: host, port });
  } catch (e) {
    closeFd(fd);
    throw e;
  }
  if (libc().connect(fd, sockaddr, sockaddr.length) === 0) return conn;
  const code = errno();
  if (code !== EINPROGRESS && code !== EINTR) {
    conn.close();
    throw sysError(`connect ${host}:${port}`, code);
  }
  const signal = options.signal;
  const onAbort = () => conn.close();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await conn.connected();
    return conn;
  } catch (e) {
    conn.close();
    throw signal?.aborted ? signal.reason : e;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/** A listening TCP socket; `accept` hands out {@linkcode TcpConn}s. */
export class TcpListener implements Watcher {
  readonly fd: number;
  /** The bound address (the real port when 0 was asked). */
  readonly addr: Deno.NetAddr;
  readonly #token: number;
  readonly #connLocal: Deno.NetAddr | null;
  readonly #addrBuf = alloc(SOCKADDR_MAX);
  readonly #addrLen = alloc(4);
  readonly #addrLenView = new DataView(this.#addrLen.buffer);
  #waiter: { resolve: (c: TcpConn) => void; reject: (e: unknown) => void } | null = null;
  #closed = false;

  /** Binds and listens; throws {@linkcode SysError} (`EADDRINUSE`, `EACCES`, …). */
  constructor(options: { host: string; port: number; reusePort?: boolean; backlog?: number }) {
    const sockaddr = encodeAddress(options.host, options.port);
    const fd = openTcpSocket(sockaddr.length === 16 ? AF_INET : AF_INET6);
    try {
      setSockOptInt(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
      if (options.reusePort) setSockOptInt(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
      // Accepted sockets inherit it from the listener: no setsockopt per connection.
      setSockOptInt(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
      if (libc().bind(fd, sockaddr, sockaddr.length) < 0) throw sysError("bind");
      if (libc().listen(fd, options.backlog ?? 1024) < 0) throw sysError("listen");
      this.addr = localName(fd);
      // Bound to one address, every accepted connection has it as its own: no getsockname each.
      const any = this.addr.hostname === "0.0.0.0" || this.addr.hostname === "::";
      this.#connLocal = any ? null : this.addr;
      this.#token = reactor().add(fd, this);
    } catch (e) {
      closeFd(fd);
      throw e;
    }
    this.fd = fd;
  }

  /** The next connection; rejects once the listener is closed or on EMFILE and the like. */
  accept(): Promise<TcpConn> {
    if (this.#closed) return Promise.reject(CLOSED);
    if (this.#waiter !== null) {
      return Promise.reject(new Deno.errors.Busy("Another accept task is ongoing"));
    }
    const r = this.#tryAccept();
    if (r !== undefined) return r instanceof TcpConn ? Promise.resolve(r) : Promise.reject(r);
    const { promise, resolve, reject } = Promise.withResolvers<TcpConn>();
    this.#waiter = { resolve, reject };
    return promise;
  }

  #tryAccept(): TcpConn | Error | undefined {
    for (;;) {
      this.#addrLenView.setUint32(0, SOCKADDR_MAX, true);
      const fd = libc().accept4(this.fd, this.#addrBuf, this.#addrLen, SOCK_FLAGS);
      if (fd >= 0) {
        const len = this.#addrLenView.getUint32(0, true);
        try {
          return new TcpConn(fd, toNetAddr(this.#addrBuf, len), this.#connLocal);
        } catch (e) {
          closeFd(fd);
          return e instanceof Error ? e : new Error(String(e));
        }
      }
      const code = errno();
      if (code === EINTR || code === ECONNABORTED) continue;
      if (code === EAGAIN) return undefined;
      return sysError("accept4", code);
    }
  }

  /** Reactor callback: a connection may be waiting. */
  onReady(): void {
    const w = this.#waiter;
    if (w === null || this.#closed) return;
    const r = this.#tryAccept();
    if (r === undefined) return;
    this.#waiter = null;
    if (r instanceof TcpConn) w.resolve(r);
    else w.reject(r);
  }

  /** Stops listening; a pending accept rejects. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    reactor().remove(this.#token);
    closeFd(this.fd);
    const w = this.#waiter;
    this.#waiter = null;
    w?.reject(CLOSED);
  }
}

let available: boolean | null = null;

/**
 * Whether this isolate can run sockets on the reactor: FFI is permitted and epoll opens, and
 * `HALB_IO` is not `deno` (the switch back to Deno's own sockets, for comparison or trouble).
 */
export function nativeTcpAvailable(): boolean {
  if (available !== null) return available;
  let wanted = true;
  try {
    wanted = Deno.env.get("HALB_IO") !== "deno";
  } catch {
    // no env permission: the default
  }
  try {
    available = wanted && reactor() !== null;
  } catch {
    available = false;
  }
  return available;
}
