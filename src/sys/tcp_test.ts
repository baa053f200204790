/**
 * Tests for the reactor-driven TCP sockets of `tcp.ts` on real loopback sockets (127.0.0.1 and
 * ::1, ports chosen by the OS). Every wait is raced against a timeout; sanitizers stay on, and
 * every test ends with nothing registered in the reactor (`closeAll`). The op sanitizer cannot
 * see the reactor's pending FFI wait, so reactor_test.ts checks in a child process that the loop
 * really ends.
 *
 * Regression tests for defects found while writing these: end of stream rejected instead of
 * resolving `null`; data and FIN in one edge lost the EOF; an already-aborted signal did not stop
 * a connect; a second `accept`/`read` while one waited orphaned the first.
 *
 * @module
 */
import assert from "node:assert/strict";
import { SysError } from "./errors.ts";
import { getSockOptInt, setSockOpt } from "./libc.ts";
import { reactor } from "./reactor.ts";
import { ConnClosedError, connectTcp, TcpConn, TcpListener } from "./tcp.ts";

const WAIT_MS = 5000;
const ECONNRESET = 104;

/**
 * Resolves like `p`, or rejects when `ms` pass first (the test fails instead of hanging). A late
 * rejection of `p` (the cleanup closing the socket under it) is then ignored.
 */
async function within<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  p.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `p` is still pending after one full turn of the event loop. */
async function stillPending(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(() => settled = true, () => settled = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  return !settled;
}

/** `len` bytes of a pattern that does not repeat every 256 bytes, shifted by `seed`. */
function pattern(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = (i * 31 + (i >>> 8) * 7 + (i >>> 16) * 3 + seed) & 0xff;
  return out;
}

/** Byte-exact comparison that reports the first difference instead of dumping megabytes. */
function assertSameBytes(actual: Uint8Array, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(`${what}: byte ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

type Stream = Pick<Deno.Conn, "read" | "write"> | TcpConn;

async function writeAll(conn: Stream, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/**
 * Reads exactly `len` bytes. The buffer never exceeds what is still expected, so this never
 * depends on EOF arriving in an edge of its own (see the KNOWN BUG test about data + FIN).
 */
async function readExactly(conn: Stream, len: number, chunk = 65536): Promise<Uint8Array> {
  const out = new Uint8Array(len);
  let off = 0;
  while (off < len) {
    const n = await conn.read(out.subarray(off, Math.min(len, off + chunk)));
    if (n === null) assert.fail(`EOF after ${off} of ${len} bytes`);
    off += n;
  }
  return out;
}

/** Reads until EOF (for peers whose EOF handling is not under test here). */
async function readToEnd(conn: Stream): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    parts.push(buf.slice(0, n));
  }
  return concat(parts);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A listener on `host` port 0 and one connection through it: `client` dialed, `server` accepted. */
async function connectedPair(
  host: string,
): Promise<{ listener: TcpListener; client: TcpConn; server: TcpConn }> {
  const listener = new TcpListener({ host, port: 0 });
  const accepted = listener.accept();
  try {
    const client = await within(connectTcp(host, listener.addr.port), "connect");
    const server = await within(accepted, "accept");
    return { listener, client, server };
  } catch (e) {
    listener.close();
    throw e;
  }
}

/** Closes everything and checks that the reactor has nothing registered any more. */
function closeAll(...things: Array<{ close(): void } | undefined>): void {
  for (const t of things) t?.close();
  assert.equal(reactor().size, 0, "reactor watchers left after closing everything");
}

/** Makes `close()` of this socket send RST instead of FIN (`SO_LINGER` on, 0 seconds). */
function lingerZero(conn: TcpConn): void {
  const linger = new Uint8Array(8);
  new DataView(linger.buffer).setInt32(0, 1, true); // l_onoff; l_linger stays 0
  setSockOpt(conn.fd, 1, /* SOL_SOCKET */ 13, /* SO_LINGER */ linger, "SO_LINGER");
}

/** A port that was free a moment ago (bound by the OS, then released). */
function freePort(host: string): number {
  const l = new TcpListener({ host, port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

Deno.test("listener reports its port; 1-byte echo; 4 MiB each way at once, byte-exact", async () => {
  const { listener, client, server } = await connectedPair("127.0.0.1");
  try {
    assert.equal(listener.addr.transport, "tcp");
    assert.equal(listener.addr.hostname, "127.0.0.1");
    assert.ok(listener.addr.port > 0, `port ${listener.addr.port}`);
    assert.equal(client.remoteAddr.port, listener.addr.port);

    assert.equal(await within(client.write(Uint8Array.of(0x5a)), "write 1 byte"), 1);
    assertSameBytes(await within(readExactly(server, 1), "server reads 1 byte"), [0x5a], "1 byte");
    await within(writeAll(server, Uint8Array.of(0xa5)), "echo 1 byte");
    assertSameBytes(await within(readExactly(client, 1), "client reads echo"), [0xa5], "echo");

    const size = 4 << 20;
    const up = pattern(size, 1);
    const down = pattern(size, 77);
    const [, , gotUp, gotDown] = await within(
      Promise.all([
        writeAll(client, up),
        writeAll(server, down),
        readExactly(server, size),
        readExactly(client, size),
      ]),
      "4 MiB both ways",
      20_000,
    );
    assertSameBytes(gotUp, up, "client → server");
    assertSameBytes(gotDown, down, "server → client");
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("both ends start with TCP_NODELAY (accepted ones inherit it from the listener)", async () => {
  for (const host of ["127.0.0.1", "::1"]) {
    const { listener, client, server } = await connectedPair(host);
    try {
      assert.equal(getSockOptInt(client.fd, 6, 1, "TCP_NODELAY"), 1, `${host} dialed`);
      assert.equal(getSockOptInt(server.fd, 6, 1, "TCP_NODELAY"), 1, `${host} accepted`);
    } finally {
      closeAll(client, server, listener);
    }
  }
});

Deno.test("::1: listener, both connection ends' addresses", async () => {
  const { listener, client, server } = await connectedPair("::1");
  try {
    const port = listener.addr.port;
    assert.deepEqual(listener.addr, { transport: "tcp", hostname: "::1", port });
    assert.deepEqual(client.remoteAddr, { transport: "tcp", hostname: "::1", port });
    assert.deepEqual(server.localAddr, { transport: "tcp", hostname: "::1", port });
    const ephemeral = client.localAddr.port;
    assert.notEqual(ephemeral, port);
    assert.ok(ephemeral > 0);
    assert.deepEqual(client.localAddr, { transport: "tcp", hostname: "::1", port: ephemeral });
    assert.deepEqual(server.remoteAddr, { transport: "tcp", hostname: "::1", port: ephemeral });

    await within(writeAll(client, pattern(1000, 3)), "write over ::1");
    assertSameBytes(await within(readExactly(server, 1000), "read"), pattern(1000, 3), "::1 data");
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("IPv4 accepted and dialed ends report each other's addresses", async () => {
  const { listener, client, server } = await connectedPair("127.0.0.1");
  try {
    const port = listener.addr.port;
    const ephemeral = client.localAddr.port;
    assert.deepEqual(client.localAddr, {
      transport: "tcp",
      hostname: "127.0.0.1",
      port: ephemeral,
    });
    assert.deepEqual(server.remoteAddr, {
      transport: "tcp",
      hostname: "127.0.0.1",
      port: ephemeral,
    });
    assert.deepEqual(server.localAddr, { transport: "tcp", hostname: "127.0.0.1", port });
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("a wildcard listener's connections report the address they arrived on", async () => {
  const listener = new TcpListener({ host: "0.0.0.0", port: 0 });
  const accepted = listener.accept();
  const client = await within(connectTcp("127.0.0.2", listener.addr.port), "connect");
  const server = await within(accepted, "accept");
  try {
    assert.equal(listener.addr.hostname, "0.0.0.0");
    assert.deepEqual(server.localAddr, {
      transport: "tcp",
      hostname: "127.0.0.2",
      port: listener.addr.port,
    });
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("half-close: A.closeWrite → B sees EOF, B still writes to A, both close", async () => {
  const { listener, client: a, server: b } = await connectedPair("127.0.0.1");
  try {
    const toB = pattern(70_000, 5);
    await within(writeAll(a, toB), "A writes");
    assertSameBytes(await within(readExactly(b, toB.length), "B reads"), toB, "A → B");
    await within(a.closeWrite(), "A.closeWrite");
    assert.equal(await within(b.read(new Uint8Array(100)), "B reads EOF"), null);
    assert.equal(await within(b.read(new Uint8Array(100)), "B reads EOF again"), null);

    const toA = pattern(150_000, 9);
    await within(writeAll(b, toA), "B writes after A's FIN");
    assertSameBytes(await within(readExactly(a, toA.length), "A reads"), toA, "B → A");
    await within(b.closeWrite(), "B.closeWrite");
    assert.equal(await within(a.read(new Uint8Array(100)), "A reads EOF"), null);
  } finally {
    closeAll(a, b, listener);
  }
});

Deno.test("data and FIN in one edge: short read, then EOF", async () => {
  const { listener, client: a, server: b } = await connectedPair("127.0.0.1");
  try {
    const buf = new Uint8Array(65536);
    const first = b.read(buf); // waiting before anything arrives
    // Both segments reach B's socket before the reactor looks again: one edge, IN | RDHUP.
    const written = a.write(Uint8Array.of(1, 2, 3));
    const shut = a.closeWrite();
    assert.equal(await within(written, "A writes 3 bytes"), 3);
    await within(shut, "A.closeWrite");
    assert.equal(await within(first, "B reads the data"), 3);
    // The 3-byte read was short, so tcp.ts waits for another edge, which never comes.
    assert.equal(await within(b.read(buf), "B reads EOF", 2000), null);
  } finally {
    closeAll(a, b, listener);
  }
});

/**
 * 200 writes of different sizes issued without awaiting while the peer does not read, then
 * `closeWrite`; then the peer reads to EOF. The reader is a Deno socket (only the TcpConn
 * writer's queue under test) or a TcpConn.
 */
async function queuedWrites(reader: "deno" | "tcp"): Promise<void> {
  const denoServer = reader === "deno" ? Deno.listen({ hostname: "127.0.0.1", port: 0 }) : null;
  const tcpServer = reader === "tcp" ? new TcpListener({ host: "127.0.0.1", port: 0 }) : null;
  const port = denoServer?.addr.port ?? tcpServer!.addr.port;
  let writer: TcpConn | undefined;
  let peer: Deno.Conn | TcpConn | undefined;
  try {
    const accepted: Promise<Deno.Conn | TcpConn> = denoServer?.accept() ?? tcpServer!.accept();
    writer = await within(connectTcp("127.0.0.1", port), "connect");
    peer = await within(accepted, "accept");
    const chunks = Array.from({ length: 200 }, (_, i) => pattern(1 + (i * 7919) % 60_000, i));
    const order: number[] = [];
    const writes = chunks.map((c, i) =>
      writer!.write(c).then((n) => {
        order.push(i);
        return n;
      })
    );
    const shut = writer.closeWrite();
    assert.ok(await stillPending(writes[writes.length - 1]), "the last write should be queued");
    assert.ok(await stillPending(shut), "closeWrite must wait for the queued writes");

    const received = within(readToEnd(peer), "read everything", 20_000);
    const counts = await within(Promise.all(writes), "all writes", 20_000);
    await within(shut, "closeWrite after the queue");
    assert.deepEqual(order, chunks.map((_, i) => i), "writes resolve in issue order");
    // `write` may be short (Deno.Conn semantics): what went out is each chunk's written prefix.
    counts.forEach((n, i) => assert.ok(n > 0 && n <= chunks[i].length, `write ${i} wrote ${n}`));
    const expected = concat(chunks.map((c, i) => c.subarray(0, counts[i])));
    assertSameBytes(await received, expected, "stream");
  } finally {
    peer?.close();
    denoServer?.close();
    closeAll(writer, tcpServer ?? undefined);
  }
}

Deno.test("200 unawaited writes, peer not reading: in order, then closeWrite (Deno reader)", () =>
  queuedWrites("deno"));

Deno.test("200 unawaited writes, peer not reading: in order, then closeWrite", () =>
  queuedWrites("tcp"));

Deno.test("close() rejects a pending read and queued writes; later calls reject; close twice ok", async () => {
  const { listener, client, server } = await connectedPair("127.0.0.1");
  try {
    const pendingRead = client.read(new Uint8Array(10));
    assert.ok(await stillPending(pendingRead), "nothing to read yet");
    // Fill client → server until a write has to wait (server does not read).
    const big = pattern(1 << 20, 2);
    const queued: Promise<number>[] = [];
    for (let i = 0; i < 64; i++) {
      const w = client.write(big);
      queued.push(w);
      if (await stillPending(w)) break;
    }
    const waiting = queued[queued.length - 1];
    assert.ok(await stillPending(waiting), "a write should be waiting for buffer space");
    const another = client.write(Uint8Array.of(1)); // queued behind it
    const shut = client.closeWrite(); // waits for the queue

    client.close();
    await assert.rejects(within(pendingRead, "pending read"), ConnClosedError);
    await assert.rejects(within(waiting, "waiting write"), ConnClosedError);
    await assert.rejects(within(another, "queued write"), ConnClosedError);
    await assert.rejects(within(shut, "pending closeWrite"), ConnClosedError);

    await assert.rejects(client.read(new Uint8Array(10)), ConnClosedError);
    await assert.rejects(client.read(new Uint8Array(0)), ConnClosedError);
    await assert.rejects(client.write(Uint8Array.of(1)), ConnClosedError);
    await assert.rejects(client.closeWrite(), ConnClosedError);
    client.close();
    client.close();
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("connect to a port nobody listens on rejects with SysError ECONNREFUSED", async () => {
  for (const host of ["127.0.0.1", "::1"]) {
    const port = freePort(host);
    const err = await within(
      connectTcp(host, port).then(
        (c) => {
          c.close();
          return null;
        },
        (e: unknown) => e,
      ),
      `connect ${host}:${port}`,
    );
    assert.ok(err instanceof SysError, `${host}: ${err}`);
    assert.equal(err.code, "ECONNREFUSED");
  }
  assert.equal(reactor().size, 0);
});

Deno.test("connect aborted right after the call rejects with the signal's reason", async () => {
  const listener = new TcpListener({ host: "127.0.0.1", port: 0 });
  try {
    const controller = new AbortController();
    const reason = new Error("gave up");
    // connectTcp returns at `connect() = EINPROGRESS` (always so for a nonblocking TCP connect),
    // so aborting now hits the wait for the handshake.
    const pending = connectTcp("127.0.0.1", listener.addr.port, { signal: controller.signal });
    controller.abort(reason);
    await assert.rejects(within(pending, "aborted connect"), (e) => e === reason);
    // The socket was closed: the listener's backlog may hold the connection, the dialer is gone.
    assert.equal(reactor().size, 1, "only the listener is left");
  } finally {
    closeAll(listener);
  }
});

Deno.test("connect with an already-aborted signal rejects with its reason", async () => {
  const listener = new TcpListener({ host: "127.0.0.1", port: 0 });
  let conn: TcpConn | undefined;
  try {
    const reason = new Error("aborted before the call");
    const signal = AbortSignal.abort(reason);
    const outcome = await within(
      connectTcp("127.0.0.1", listener.addr.port, { signal }).then((c) => conn = c, (e) => e),
      "connect with an aborted signal",
    );
    assert.equal(outcome, reason, "must reject with the reason, not connect");
  } finally {
    closeAll(conn, listener);
  }
});

Deno.test("a peer reset (SO_LINGER 0 then close) rejects the pending read and later reads", async () => {
  const { listener, client, server } = await connectedPair("127.0.0.1");
  try {
    const pending = server.read(new Uint8Array(100));
    assert.ok(await stillPending(pending));
    lingerZero(client);
    client.close();
    const first = await within(pending.then(() => null, (e: unknown) => e), "read after RST");
    assert.ok(first instanceof SysError, `pending read should reject, got ${first}`);
    assert.equal(first.errno, ECONNRESET, first.message);
    await assert.rejects(
      within(server.read(new Uint8Array(100)), "read again"),
      (e) => e === first,
    );
    await assert.rejects(within(server.write(Uint8Array.of(1)), "write after RST"), SysError);
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("interop: Deno.listen server with a connectTcp client", async () => {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let client: TcpConn | undefined;
  let peer: Deno.Conn | undefined;
  try {
    const accepted = server.accept();
    client = await within(connectTcp("127.0.0.1", server.addr.port), "connect");
    peer = await within(accepted, "Deno accept");
    assert.equal((peer.remoteAddr as Deno.NetAddr).port, client.localAddr.port);

    const request = pattern(300_000, 11);
    await within(writeAll(client, request), "client writes");
    await within(client.closeWrite(), "client closeWrite");
    assertSameBytes(await within(readToEnd(peer), "Deno side reads to EOF"), request, "request");

    const response = pattern(500_000, 13);
    await within(writeAll(peer, response), "Deno side writes");
    assertSameBytes(await within(readExactly(client, response.length), "read"), response, "resp");
    await within(peer.closeWrite(), "Deno closeWrite");
    assert.equal(await within(client.read(new Uint8Array(10)), "client reads EOF"), null);
  } finally {
    peer?.close();
    server.close();
    closeAll(client);
  }
});

Deno.test("interop: TcpListener with a Deno.connect client", async () => {
  const listener = new TcpListener({ host: "127.0.0.1", port: 0 });
  let conn: Deno.Conn | undefined;
  let accepted: TcpConn | undefined;
  try {
    const acceptance = listener.accept();
    conn = await within(Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }), "dial");
    accepted = await within(acceptance, "accept");
    assert.equal(accepted.remoteAddr.port, (conn.localAddr as Deno.NetAddr).port);

    const request = pattern(400_000, 17);
    await within(writeAll(conn, request), "Deno client writes");
    assertSameBytes(await within(readExactly(accepted, request.length), "read"), request, "req");
    await within(conn.closeWrite(), "Deno closeWrite");
    assert.equal(await within(accepted.read(new Uint8Array(10)), "TcpConn reads EOF"), null);

    const response = pattern(250_000, 19);
    await within(writeAll(accepted, response), "TcpConn writes");
    await within(accepted.closeWrite(), "TcpConn closeWrite");
    assertSameBytes(await within(readToEnd(conn), "Deno client reads to EOF"), response, "resp");
  } finally {
    conn?.close();
    closeAll(accepted, listener);
  }
});

Deno.test("listener: accept after connections queued, close rejects a pending accept", async () => {
  const listener = new TcpListener({ host: "127.0.0.1", port: 0 });
  const conns: TcpConn[] = [];
  try {
    // Two connections land in the backlog before anyone accepts: both come out.
    conns.push(await within(connectTcp("127.0.0.1", listener.addr.port), "dial 1"));
    conns.push(await within(connectTcp("127.0.0.1", listener.addr.port), "dial 2"));
    conns.push(await within(listener.accept(), "accept 1"));
    conns.push(await within(listener.accept(), "accept 2"));
    const ports = new Set([conns[2].remoteAddr.port, conns[3].remoteAddr.port]);
    assert.deepEqual(ports, new Set([conns[0].localAddr.port, conns[1].localAddr.port]));

    const pending = listener.accept();
    assert.ok(await stillPending(pending));
    listener.close();
    await assert.rejects(within(pending, "accept across close"), ConnClosedError);
    await assert.rejects(listener.accept(), ConnClosedError);
    listener.close();
  } finally {
    closeAll(...conns, listener);
  }
});

Deno.test("a second accept while one waits is refused; close rejects the first", async () => {
  // Deno's own listener rejects the second accept (Busy: "Another accept task is ongoing");
  // tcp.ts overwrites its single waiter, so the first accept never settles, not even on close().
  const listener = new TcpListener({ host: "127.0.0.1", port: 0 });
  try {
    const first = listener.accept();
    const second = listener.accept();
    await assert.rejects(within(second, "second accept", 1000), Deno.errors.Busy);
    assert.ok(await stillPending(first));
    listener.close();
    await assert.rejects(within(first, "first accept", 1000), ConnClosedError);
  } finally {
    closeAll(listener);
  }
});

Deno.test("a second read while one waits is refused, the first still gets the data", async () => {
  // tcp.ts keeps one reader and overwrites it: the first read would never settle.
  const { listener, client, server } = await connectedPair("127.0.0.1");
  try {
    const first = server.read(new Uint8Array(10));
    const second = server.read(new Uint8Array(10));
    await assert.rejects(within(second, "second read", 1000), Deno.errors.Busy);
    await within(writeAll(client, Uint8Array.of(7, 8)), "write");
    assert.equal(await within(first, "first read", 1000), 2);
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("listener: a port in use throws EADDRINUSE; reusePort shares the port", async () => {
  const first = new TcpListener({ host: "127.0.0.1", port: 0 });
  const port = first.addr.port;
  let shareA: TcpListener | undefined;
  let shareB: TcpListener | undefined;
  let client: TcpConn | undefined;
  let served: TcpConn | undefined;
  try {
    assert.throws(
      () => new TcpListener({ host: "127.0.0.1", port }),
      (e) => e instanceof SysError && e.code === "EADDRINUSE",
    );
    assert.equal(reactor().size, 1, "the failed listener registered nothing");
    first.close();

    shareA = new TcpListener({ host: "127.0.0.1", port: 0, reusePort: true });
    shareB = new TcpListener({ host: "127.0.0.1", port: shareA.addr.port, reusePort: true });
    assert.equal(shareB.addr.port, shareA.addr.port);
    const a = shareA.accept();
    const b = shareB.accept();
    client = await within(connectTcp("127.0.0.1", shareA.addr.port), "dial the shared port");
    served = await within(Promise.race([a, b]), "one of them accepts");
    assert.equal(served.remoteAddr.port, client.localAddr.port);
    shareA.close();
    shareB.close();
    // The one that did not get the connection rejects; the other already resolved.
    const outcomes = await within(Promise.allSettled([a, b]), "both accepts settle");
    assert.deepEqual(outcomes.map((o) => o.status).sort(), ["fulfilled", "rejected"]);
  } finally {
    closeAll(first, shareA, shareB, client, served);
  }
});

Deno.test("zero-length read resolves 0 without waiting; empty write resolves 0", async () => {
  const { listener, client, server } = await connectedPair("::1");
  try {
    assert.equal(await within(server.read(new Uint8Array(0)), "empty read", 1000), 0);
    assert.equal(await within(client.write(new Uint8Array(0)), "empty write", 1000), 0);
    // The empty write sent nothing: the next byte is the first the server sees.
    await within(writeAll(client, Uint8Array.of(42)), "write 1");
    assertSameBytes(await within(readExactly(server, 1), "read 1"), [42], "after empty write");
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("writeNow sends at once, yields 0 behind queued writes and after close", async () => {
  const { listener, client, server } = await connectedPair("127.0.0.1");
  try {
    assert.equal(client.writeNow(Uint8Array.of(1, 2, 3)), 3);
    assertSameBytes(await within(readExactly(server, 3), "read 3"), [1, 2, 3], "sent at once");
    // Fill the socket until the kernel takes nothing more: writeNow then reports 0 …
    const big = pattern(1 << 20, 7);
    let sent = 0;
    while (sent < 64 << 20) {
      const n = client.writeNow(big);
      if (n < big.length) {
        sent += n;
        break;
      }
      sent += n;
    }
    const queued = client.write(big);
    assert.equal(client.writeNow(Uint8Array.of(9)), 0, "a queued write goes first");
    // … and the order is kept once the peer drains: all of big, after what writeNow took.
    const total = sent + big.length;
    const got = await within(readExactly(server, total), "drain", 20_000);
    assert.equal(got.length, total);
    assert.equal(await within(queued, "queued write"), big.length);
    client.close();
    assert.equal(client.writeNow(Uint8Array.of(1)), 0, "closed");
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("a small queued write is a copy: the caller's (slab) bytes are not held", async () => {
  const { listener, client, server } = await connectedPair("127.0.0.1");
  try {
    const big = pattern(1 << 20, 3);
    let sent = 0;
    for (;;) {
      const n = client.writeNow(big);
      sent += n;
      if (n < big.length) break;
    }
    const small = Uint8Array.of(7, 7, 7);
    const queued = client.write(small);
    small.fill(0); // the caller reuses its bytes at once
    const got = await within(readExactly(server, sent + 3), "drain", 20_000);
    assertSameBytes(got.subarray(sent), [7, 7, 7], "the queued copy");
    assert.equal(await within(queued, "queued write"), 3);
  } finally {
    closeAll(client, server, listener);
  }
});

Deno.test("the reactor empties with the last socket and works again for the next", async () => {
  // Several open/close rounds with idle time between: each round's first add() restarts the
  // loop that the previous round's last remove() ended (reactor_test.ts sees it end).
  for (let round = 0; round < 3; round++) {
    const { listener, client, server } = await connectedPair(round % 2 ? "::1" : "127.0.0.1");
    assert.equal(reactor().size, 3);
    await within(writeAll(server, Uint8Array.of(round)), "write");
    assertSameBytes(await within(readExactly(client, 1), "read"), [round], `round ${round}`);
    closeAll(client, server, listener);
    // Idle between rounds: the loop must really stop (and the next add restart it).
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
});
