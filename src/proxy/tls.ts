/**
 * TLS for the proxy through `node:tls`, because `Deno.listenTls` has one certificate per
 * listener and reports neither SNI nor a certificate callback: a listener with HAProxy's
 * certificate-list semantics (SNI picks among the bundles, a wildcard covers one label, the
 * first bundle is the default), and client connections to `ssl` servers with `verify` and
 * `sni`. Node sockets are adapted to the engine's {@linkcode ByteConn}.
 *
 * @module
 */
import * as tls from "node:tls";
import type { Socket } from "node:net";
import type { BindConfig, ServerConfig, TlsCertificate } from "../config/types.ts";
import type { ClientConn, TlsInfo } from "./io.ts";

/** Buffered bytes above which a socket is paused until the reader catches up. */
const HIGH_WATER = 256 * 1024;

/** A node socket (plain or TLS) seen as a {@linkcode ClientConn}. */
export class NodeConn implements ClientConn {
  readonly remoteAddr: Deno.NetAddr;
  readonly localAddr: Deno.NetAddr;
  readonly tls?: TlsInfo;
  readonly #sock: Socket;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;

  constructor(sock: Socket, tlsInfo?: TlsInfo) {
    this.#sock = sock;
    this.tls = tlsInfo;
    this.remoteAddr = netAddr(sock.remoteAddress, sock.remotePort);
    this.localAddr = netAddr(sock.localAddress, sock.localPort);
    sock.setNoDelay(true);
    sock.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered > HIGH_WATER) sock.pause();
      this.#notify();
    });
    sock.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    sock.on("error", (e: Error) => {
      this.#error = e;
      this.#notify();
    });
    sock.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#error !== null) throw this.#error;
      if (this.#ended) return null;
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#wake = resolve;
      await promise;
    }
    const first = this.#chunks[0];
    const n = Math.min(first.length, p.length);
    p.set(n === first.length ? first : first.subarray(0, n));
    if (n === first.length) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#buffered -= n;
    if (this.#sock.isPaused() && this.#buffered < HIGH_WATER / 2) this.#sock.resume();
    return n;
  }

  write(p: Uint8Array): Promise<number> {
    if (this.#sock.destroyed) return Promise.reject(new Error("socket closed"));
    const { promise, resolve, reject } = Promise.withResolvers<number>();
    this.#sock.write(p, (err) => err ? reject(err) : resolve(p.length));
    return promise;
  }

  closeWrite(): Promise<void> {
    this.#sock.end();
    return Promise.resolve();
  }

  close(): void {
    this.#sock.destroy();
    this.#ended = true;
    this.#notify();
  }
}

function netAddr(host: string | undefined, port: number | undefined): Deno.NetAddr {
  let hostname = host ?? "";
  if (hostname.startsWith("::ffff:") && hostname.includes(".")) hostname = hostname.slice(7);
  return { transport: "tcp", hostname, port: port ?? 0 };
}

/** True when certificate name `pattern` (maybe `*.example.com`) covers `host`. */
export function nameMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (!p.startsWith("*.")) return p === h;
  const dot = h.indexOf(".");
  return dot > 0 && h.slice(dot + 1) === p.slice(2);
}

/** The certificate SNI selects: exact names first, then wildcards; else the first (default). */
export function pickCertificate(
  certs: readonly TlsCertificate[],
  sni: string | null | undefined,
): TlsCertificate {
  if (sni) {
    for (const c of certs) {
      if (c.names.some((n) => !n.startsWith("*.") && nameMatches(n, sni))) return c;
    }
    for (const c of certs) {
      if (c.names.some((n) => n.startsWith("*.") && nameMatches(n, sni))) return c;
    }
  }
  return certs[0];
}

/** A TLS listening socket handing out {@linkcode NodeConn}s; the shape `BoundListener` uses. */
export class TlsListener {
  readonly addr: Deno.NetAddr;
  readonly #server: tls.Server;
  /** The certificate list SNI picks from (replaced on reload). */
  #certs: readonly TlsCertificate[] = [];
  #contexts = new Map<TlsCertificate, tls.SecureContext>();
  #queue: NodeConn[] = [];
  #waiter: ((c: NodeConn | null) => void) | null = null;
  #closed = false;

  private constructor(server: tls.Server, addr: Deno.NetAddr) {
    this.#server = server;
    this.addr = addr;
    server.on("secureConnection", (sock: tls.TLSSocket) => {
      const info: TlsInfo = {
        sni: (sock as unknown as { servername?: string | false }).servername || null,
        alpn: typeof sock.alpnProtocol === "string" ? sock.alpnProtocol : null,
        version: sock.getProtocol() ?? null,
      };
      const conn = new NodeConn(sock, info);
      const w = this.#waiter;
      if (w !== null) {
        this.#waiter = null;
        w(conn);
      } else {
        this.#queue.push(conn);
      }
    });
    // Handshake failures cost only that connection.
    server.on("tlsClientError", () => {});
  }

  /** Binds `bind` (which must carry TLS certificates). */
  static async listen(bind: BindConfig): Promise<TlsListener> {
    const address = bind.address;
    if (address.kind !== "inet" || bind.tls === null) throw new Error("TLS needs an inet bind");
    const certs = bind.tls.certificates;
    let self: TlsListener | null = null;
    const server = tls.createServer({
      cert: certs[0].certPem,
      key: certs[0].keyPem,
      ALPNProtocols: bind.tls.alpn.length > 0 ? [...bind.tls.alpn] : undefined,
      SNICallback(servername, cb) {
        const l = self!;
        cb(null, l.#contexts.get(pickCertificate(l.#certs, servername)));
      },
    });
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    server.once("error", reject);
    server.listen({ host: address.host, port: address.port, backlog: 1024 }, () => resolve());
    await promise;
    server.removeListener("error", reject);
    // Accept-time errors (EMFILE and the like) must not become an uncaught 'error' event.
    server.on("error", () => {});
    const a = server.address();
    const port = typeof a === "object" && a !== null ? a.port : address.port;
    self = new TlsListener(server, { transport: "tcp", hostname: address.host, port });
    self.setCertificates(certs);
    return self;
  }

  /**
   * Uses `certs` for new handshakes (SNI picks, the first is the default); connections already
   * open keep theirs. ALPN protocols stay those the listener was opened with.
   */
  setCertificates(certs: readonly TlsCertificate[]): void {
    const contexts = new Map<TlsCertificate, tls.SecureContext>();
    for (const c of certs) {
      contexts.set(c, tls.createSecureContext({ cert: c.certPem, key: c.keyPem }));
    }
    this.#certs = certs;
    this.#contexts = contexts;
    this.#server.setSecureContext({ cert: certs[0].certPem, key: certs[0].keyPem });
  }

  /** The next handshaken connection; rejects once closed. */
  accept(): Promise<NodeConn> {
    const next = this.#queue.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.#closed) return Promise.reject(new Error("listener closed"));
    return new Promise((resolve, reject) => {
      this.#waiter = (c) => c === null ? reject(new Error("listener closed")) : resolve(c);
    });
  }

  /** Stops listening; queued connections are closed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    for (const c of this.#queue) c.close();
    this.#queue = [];
    const w = this.#waiter;
    this.#waiter = null;
    w?.(null);
  }
}

/** Opens a TLS connection to an `ssl` server (`verify`, `sni`); rejects on failure or abort. */
export function connectTls(cfg: ServerConfig, signal: AbortSignal): Promise<NodeConn> {
  const { promise, resolve, reject } = Promise.withResolvers<NodeConn>();
  const sock = tls.connect({
    host: cfg.address.host,
    port: cfg.address.port,
    servername: cfg.sni ?? undefined,
    rejectUnauthorized: cfg.verify === "required",
    ALPNProtocols: ["http/1.1"],
  });
  const onAbort = () => sock.destroy(new Error(String(signal.reason)));
  signal.addEventListener("abort", onAbort, { once: true });
  sock.once("secureConnect", () => {
    signal.removeEventListener("abort", onAbort);
    sock.removeListener("error", reject);
    resolve(new NodeConn(sock));
  });
  sock.once("error", reject);
  return promise;
}
