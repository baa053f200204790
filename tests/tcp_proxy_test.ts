/**
 * End-to-end tests of the L4 engine against real loopback sockets: balancing order through the
 * proxy, queues, retries/redispatch, timeouts, half-close, integrity, maxconn, graceful stop and
 * tcplog lines. Timing assertions are deliberately loose (shared, busy machine).
 *
 * @module
 */
import assert from "node:assert/strict";
import { createLogger, memorySink } from "../src/log/logger.ts";
import { type Proxy, startProxy } from "../src/proxy/proxy.ts";
import { testBackend, testBind, testConfig, testFrontend, testServer } from "./helpers/config.ts";
import {
  askName,
  closeQuietly,
  dial,
  digest,
  echoAfterEofServer,
  echoServer,
  namedServer,
  pattern,
  readAll,
  readDigest,
  readLine,
  silentServer,
  sleep,
  streamServer,
  waitFor,
  writeAll,
} from "./helpers/net.ts";
import { deadPort, oneBackend, parseLog, sequence, withProxy } from "./helpers/proxy.ts";
import { compileConfig } from "../src/config/load.ts";

Deno.test("roundrobin 3:1 gives HAProxy's order through the proxy", async () => {
  const s1 = namedServer("s1");
  const s2 = namedServer("s2");
  const cfg = oneBackend([{ name: "s1", port: s1.port, weight: 3 }, {
    name: "s2",
    port: s2.port,
    weight: 1,
  }]);
  await withProxy(cfg, [s1, s2], async ({ port }) => {
    // A fresh HAProxy 2.6 starts the 3:1 cycle as s1 s1 s1 s2; the reference's sequence
    // (s1 s1 s2 s1 s1 s1 s2 s1) is the same cycle seen after one earlier request.
    const seen = await sequence(port, 9);
    assert.deepEqual(seen.slice(1), ["s1", "s1", "s2", "s1", "s1", "s1", "s2", "s1"]);
    assert.equal(seen[0], "s1");
  });
});

Deno.test("static-rr 2:1 gives s1 s1 s2 s1 s1 s2", async () => {
  const s1 = namedServer("s1");
  const s2 = namedServer("s2");
  const cfg = oneBackend(
    [{ name: "s1", port: s1.port, weight: 2 }, { name: "s2", port: s2.port, weight: 1 }],
    { balance: { algorithm: "static-rr" } },
  );
  await withProxy(cfg, [s1, s2], async ({ port }) => {
    assert.deepEqual(await sequence(port, 6), ["s1", "s1", "s2", "s1", "s1", "s2"]);
  });
});

Deno.test("leastconn steers new connections to the idle server", async () => {
  const s1 = namedServer("s1");
  const s2 = namedServer("s2");
  const cfg = oneBackend([{ name: "s1", port: s1.port }, { name: "s2", port: s2.port }], {
    balance: { algorithm: "leastconn" },
  });
  await withProxy(cfg, [s1, s2], async ({ port, proxy }) => {
    const held = await dial(port);
    const first = await readLine(held);
    const other = first === "s1" ? "s2" : "s1";
    const pool = proxy.pools.get("be")!;
    for (let i = 0; i < 3; i++) {
      assert.equal(await askName(port), other);
      assert.ok(await waitFor(() => pool.cur === 1), "session ended");
    }
    closeQuietly(held);
  });
});

Deno.test("balance source keeps one client on one server", async () => {
  const servers = [namedServer("s1"), namedServer("s2"), namedServer("s3")];
  const cfg = oneBackend(servers.map((s, i) => ({ name: `s${i + 1}`, port: s.port })), {
    balance: { algorithm: "source" },
  });
  await withProxy(cfg, servers, async ({ port }) => {
    const names = await sequence(port, 6);
    assert.ok(names[0] !== null);
    assert.deepEqual(names, new Array(6).fill(names[0]));
  });
});

Deno.test("server maxconn: the second connection waits in the queue until the first ends", async () => {
  const s1 = namedServer("s1");
  const cfg = oneBackend([{ name: "s1", port: s1.port, maxconn: 1 }], {
    timeout: { connect: 1000, server: null, queue: 5000, check: null },
  });
  await withProxy(cfg, [s1], async ({ port, traffic, proxy }) => {
    const a = await dial(port);
    assert.equal(await readLine(a), "s1");
    const b = await dial(port);
    const bName = readLine(b);
    const early = await Promise.race([bName, sleep(300).then(() => "waiting")]);
    assert.equal(early, "waiting");
    assert.equal(proxy.snapshot().backends[0].queueCur, 1);
    closeQuietly(a);
    assert.equal(await bName, "s1");
    closeQuietly(b);
    assert.ok(await waitFor(() => traffic().length === 2));
    const second = parseLog(traffic()[1]);
    assert.equal(second.ts, "--");
    assert.ok(second.tw >= 250, `Tw ${second.tw}`);
    assert.equal(second.bq, 1);
    assert.equal(proxy.snapshot().backends[0].queueMax, 1);
  });
});

Deno.test("queue timeout closes the waiting connection and logs sQ", async () => {
  const s1 = namedServer("s1");
  const cfg = oneBackend([{ name: "s1", port: s1.port, maxconn: 1 }], {
    timeout: { connect: 1000, server: null, queue: 400, check: null },
  });
  await withProxy(cfg, [s1], async ({ port, traffic }) => {
    const a = await dial(port);
    assert.equal(await readLine(a), "s1");
    const t0 = Date.now();
    const b = await dial(port);
    const got = await readAll(b);
    const elapsed = Date.now() - t0;
    closeQuietly(b);
    assert.equal(got.length, 0);
    assert.ok(elapsed >= 350 && elapsed < 1500, `closed after ${elapsed} ms`);
    assert.ok(await waitFor(() => traffic().length === 1));
    const log = parseLog(traffic()[0]);
    assert.equal(log.ts, "sQ");
    assert.equal(log.srv, "<NOSRV>");
    assert.equal(log.tc, -1);
    assert.ok(log.tw >= 350, `Tw ${log.tw}`);
    assert.equal(log.bq, 1);
    closeQuietly(a);
  });
});

Deno.test("retries against a refused server: closed after retries × min(connect, 1s), logged SC", async () => {
  const cfg = oneBackend([{ name: "s1", port: deadPort() }], {
    retries: 2,
    timeout: { connect: 300, server: null, queue: null, check: null },
  });
  await withProxy(cfg, [], async ({ port, traffic, proxy }) => {
    const t0 = Date.now();
    const c = await dial(port);
    const got = await readAll(c);
    const elapsed = Date.now() - t0;
    closeQuietly(c);
    assert.equal(got.length, 0);
    assert.ok(elapsed >= 550 && elapsed < 2000, `closed after ${elapsed} ms`);
    assert.ok(await waitFor(() => traffic().length === 1));
    const log = parseLog(traffic()[0]);
    assert.equal(log.ts, "SC");
    assert.equal(log.srv, "s1");
    assert.equal(log.rc, "2");
    assert.equal(log.tc, -1);
    const be = proxy.snapshot().backends[0];
    assert.equal(be.retries, 2);
    assert.equal(be.connectErrors, 1);
  });
});

Deno.test("redispatch: the last retry goes to a live server", async () => {
  const s2 = namedServer("s2");
  const cfg = oneBackend([{ name: "s1", port: deadPort() }, { name: "s2", port: s2.port }], {
    retries: 3,
    redispatch: true,
    timeout: { connect: 200, server: null, queue: null, check: null },
  });
  await withProxy(cfg, [s2], async ({ port, traffic, proxy }) => {
    const t0 = Date.now();
    const name = await askName(port);
    const elapsed = Date.now() - t0;
    assert.equal(name, "s2");
    // Two pauses of min(200, 1000) ms before the redispatch, none after it.
    assert.ok(elapsed >= 350 && elapsed < 2000, `served after ${elapsed} ms`);
    assert.ok(await waitFor(() => traffic().length === 1));
    const log = parseLog(traffic()[0]);
    assert.equal(log.srv, "s2");
    assert.equal(log.rc, "+3");
    assert.equal(log.ts, "--");
    assert.equal(proxy.snapshot().backends[0].redispatches, 1);
  });
});

Deno.test("connect timeout against a server whose backlog is full: sC", async () => {
  const full = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const fullPort = (full.addr as Deno.NetAddr).port;
  const fillers: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 2048; i++) {
      try {
        fillers.push(
          await Deno.connect({
            hostname: "127.0.0.1",
            port: fullPort,
            signal: AbortSignal.timeout(200),
          }),
        );
      } catch {
        break; // the backlog is full: SYNs are now dropped
      }
    }
    const cfg = oneBackend([{ name: "s1", port: fullPort }], {
      retries: 0,
      timeout: { connect: 300, server: null, queue: null, check: null },
    });
    await withProxy(cfg, [], async ({ port, traffic }) => {
      const t0 = Date.now();
      const c = await dial(port);
      await readAll(c);
      const elapsed = Date.now() - t0;
      closeQuietly(c);
      assert.ok(elapsed >= 250 && elapsed < 2000, `closed after ${elapsed} ms`);
      assert.ok(await waitFor(() => traffic().length === 1));
      assert.equal(parseLog(traffic()[0]).ts, "sC");
    });
  } finally {
    for (const c of fillers) closeQuietly(c);
    full.close();
  }
});

Deno.test("half-close: client EOF reaches the server, the reply still flows back", async () => {
  const srv = echoAfterEofServer();
  const cfg = oneBackend([{ name: "s1", port: srv.port }]);
  await withProxy(cfg, [srv], async ({ port, traffic }) => {
    const c = await dial(port);
    const data = pattern(200_000);
    await writeAll(c, data);
    await c.closeWrite();
    const back = await readAll(c);
    closeQuietly(c);
    assert.equal(back.length, data.length);
    assert.equal(digest(back), digest(data));
    assert.ok(await waitFor(() => traffic().length === 1));
    const log = parseLog(traffic()[0]);
    assert.equal(log.ts, "--");
    assert.equal(log.bytes, data.length);
  });
});

Deno.test("32 MiB each way through the proxy keep their checksum", async () => {
  const srv = echoServer();
  const cfg = oneBackend([{ name: "s1", port: srv.port }]);
  await withProxy(cfg, [srv], async ({ port, proxy }) => {
    const size = 32 * 1024 * 1024;
    const data = pattern(size);
    const c = await dial(port);
    const reading = readDigest(c);
    await writeAll(c, data);
    await c.closeWrite();
    const got = await reading;
    closeQuietly(c);
    assert.equal(got.size, size);
    assert.equal(got.sum, digest(data));
    assert.ok(await waitFor(() => proxy.snapshot().frontends[0].bytesOut === size));
    assert.equal(proxy.snapshot().frontends[0].bytesIn, size);
  });
});

Deno.test("timeout client closes an idle client (cD)", async () => {
  const srv = silentServer();
  const cfg = oneBackend([{ name: "s1", port: srv.port }], {}, {
    timeout: { client: 300, httpRequest: null, httpKeepAlive: null },
  });
  await withProxy(cfg, [srv], async ({ port, traffic }) => {
    const t0 = Date.now();
    const c = await dial(port);
    await readAll(c);
    const elapsed = Date.now() - t0;
    closeQuietly(c);
    assert.ok(elapsed >= 250 && elapsed < 2000, `closed after ${elapsed} ms`);
    assert.ok(await waitFor(() => traffic().length === 1));
    assert.equal(parseLog(traffic()[0]).ts, "cD");
  });
});

Deno.test("timeout server closes when the server stays silent (sD), activity re-arms it", async () => {
  const srv = echoServer();
  const cfg = oneBackend([{ name: "s1", port: srv.port }], {
    timeout: { connect: 1000, server: 400, queue: null, check: null },
  });
  await withProxy(cfg, [srv], async ({ port, traffic }) => {
    const c = await dial(port);
    const t0 = Date.now();
    // Traffic every 150 ms for ~750 ms keeps the session alive past one timeout period.
    const one = new Uint8Array(1);
    for (let i = 0; i < 5; i++) {
      await writeAll(c, one);
      await c.read(new Uint8Array(16));
      await sleep(150);
    }
    const rest = await readAll(c);
    const elapsed = Date.now() - t0;
    closeQuietly(c);
    assert.equal(rest.length, 0);
    assert.ok(elapsed >= 900 && elapsed < 3000, `closed after ${elapsed} ms`);
    assert.ok(await waitFor(() => traffic().length === 1));
    assert.equal(parseLog(traffic()[0]).ts, "sD");
  });
});

Deno.test("frontend maxconn 1: the second connection is accepted only after the first ends", async () => {
  const s1 = namedServer("s1");
  const cfg = oneBackend([{ name: "s1", port: s1.port }], {}, { maxconn: 1 });
  await withProxy(cfg, [s1], async ({ port, proxy }) => {
    const a = await dial(port);
    assert.equal(await readLine(a), "s1");
    const b = await dial(port); // completes in the kernel backlog
    const bName = readLine(b);
    assert.equal(await Promise.race([bName, sleep(300).then(() => "waiting")]), "waiting");
    assert.equal(s1.accepted, 1);
    assert.equal(proxy.snapshot().frontends[0].cur, 1);
    closeQuietly(a);
    assert.equal(await bName, "s1");
    closeQuietly(b);
    assert.equal(proxy.snapshot().frontends[0].max, 1);
  });
});

Deno.test("global maxconn applies across frontends", async () => {
  const s1 = namedServer("s1");
  const cfg = testConfig({
    frontends: [testFrontend("fe", "be"), testFrontend("fe2", "be")],
    backends: [testBackend("be", [testServer("s1", s1.port)])],
    global: { maxconn: 1 },
  });
  await withProxy(cfg, [s1], async ({ port, proxy }) => {
    const port2 = (proxy.addresses("fe2")[0] as Deno.NetAddr).port;
    const a = await dial(port);
    assert.equal(await readLine(a), "s1");
    const b = await dial(port2);
    const bName = readLine(b);
    assert.equal(await Promise.race([bName, sleep(300).then(() => "waiting")]), "waiting");
    closeQuietly(a);
    assert.equal(await bName, "s1");
    closeQuietly(b);
  });
});

Deno.test("graceful stop: in-flight transfer completes, new connections are refused", async () => {
  const total = 24 * 16384;
  const srv = streamServer(total, { chunk: 16384, pauseMs: 40 });
  const cfg = oneBackend([{ name: "s1", port: srv.port }]);
  const sink = memorySink();
  const proxy = await startProxy(cfg, { logger: createLogger({ sink, level: "info" }) });
  const port = (proxy.addresses("fe")[0] as Deno.NetAddr).port;
  try {
    const c = await dial(port);
    const reading = readDigest(c);
    await sleep(200);
    const t0 = Date.now();
    const stopped = proxy.stop({ graceMs: 2000 });
    await sleep(50);
    await assert.rejects(dial(port));
    const got = await reading;
    closeQuietly(c);
    await stopped;
    assert.equal(got.size, total);
    assert.equal(got.sum, digest(pattern(total)));
    assert.ok(Date.now() - t0 < 2000);
    const lines = sink.lines.filter((l) => l.kind === "traffic").map((l) => l.line);
    assert.equal(parseLog(lines[0]).ts, "--");
  } finally {
    await proxy.stop({ graceMs: 0 });
    await srv.close();
  }
});

Deno.test("stop after the grace period kills what is left (KD)", async () => {
  const srv = silentServer();
  const cfg = oneBackend([{ name: "s1", port: srv.port }]);
  await withProxy(cfg, [srv], async ({ port, proxy, traffic }) => {
    const c = await dial(port);
    await waitFor(() => proxy.snapshot().backends[0].servers[0].cur === 1);
    const t0 = Date.now();
    await proxy.stop({ graceMs: 200 });
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 150 && elapsed < 1500, `stopped after ${elapsed} ms`);
    assert.equal((await readAll(c)).length, 0);
    closeQuietly(c);
    assert.equal(parseLog(traffic()[0]).ts, "KD");
  });
});

Deno.test("tcplog line: exact layout and counters", async () => {
  const srv = echoServer();
  const cfg = oneBackend([{ name: "s1", port: srv.port }]);
  await withProxy(cfg, [srv], async ({ port, traffic }) => {
    const c = await dial(port);
    await writeAll(c, new TextEncoder().encode("hello"));
    await c.closeWrite();
    assert.equal((await readAll(c)).length, 5);
    closeQuietly(c);
    assert.ok(await waitFor(() => traffic().length === 1));
    const line = traffic()[0];
    const log = parseLog(line);
    assert.deepEqual(
      { fe: log.fe, be: log.be, srv: log.srv, bytes: log.bytes, ts: log.ts, rc: log.rc },
      { fe: "fe", be: "be", srv: "s1", bytes: 5, ts: "--", rc: "0" },
    );
    assert.deepEqual([log.ac, log.fc, log.bc, log.sc, log.sq, log.bq], [1, 1, 0, 0, 0, 0]);
    assert.equal(log.tw, 0);
    assert.ok(log.tc >= 0 && log.tt >= log.tc);
  });
});

Deno.test("no server usable: <NOSRV> and SC", async () => {
  const cfg = oneBackend([{ name: "s1", port: deadPort() }]);
  await withProxy(cfg, [], async ({ port, traffic, proxy }) => {
    const pool = proxy.pools.get("be")!;
    pool.setMaintenance(pool.servers[0], true);
    const c = await dial(port);
    await readAll(c);
    closeQuietly(c);
    assert.ok(await waitFor(() => traffic().length === 1));
    const log = parseLog(traffic()[0]);
    assert.equal(log.srv, "<NOSRV>");
    assert.equal(log.ts, "SC");
    assert.equal(proxy.snapshot().backends[0].usable, false);
  });
});

Deno.test("dontlognull: an empty connection is not logged, one with data is", async () => {
  const srv = echoServer();
  const cfg = oneBackend([{ name: "s1", port: srv.port }], {}, { dontlognull: true });
  await withProxy(cfg, [srv], async ({ port, traffic, proxy }) => {
    const empty = await dial(port);
    await empty.closeWrite();
    await readAll(empty);
    closeQuietly(empty);
    const full = await dial(port);
    await writeAll(full, new Uint8Array([1, 2, 3]));
    await full.closeWrite();
    await readAll(full);
    closeQuietly(full);
    assert.ok(await waitFor(() => proxy.snapshot().frontends[0].cur === 0 && traffic().length > 0));
    await sleep(50);
    assert.equal(traffic().length, 1);
    assert.equal(parseLog(traffic()[0]).bytes, 3);
  });
});

Deno.test("without tcplog: a 'Connect from' line at accept; with log off: nothing", async () => {
  const s1 = namedServer("s1");
  const cfg = testConfig({
    frontends: [
      testFrontend("fe", "be", { logStyle: "connect" }),
      testFrontend("quiet", "be", { log: false }),
    ],
    backends: [testBackend("be", [testServer("s1", s1.port)])],
  });
  await withProxy(cfg, [s1], async ({ port, traffic, proxy }) => {
    assert.equal(await askName(port), "s1");
    assert.equal(await askName((proxy.addresses("quiet")[0] as Deno.NetAddr).port), "s1");
    await waitFor(() => proxy.snapshot().actconn === 0);
    assert.equal(traffic().length, 1);
    assert.match(
      traffic()[0],
      new RegExp(String.raw`^Connect from 127\.0\.0\.1:\d+ to 127\.0\.0\.1:${port} \(fe/TCP\)$`),
    );
  });
});

Deno.test("several binds, IPv6 loopback and unix sockets serve the same frontend", async () => {
  const s1 = namedServer("s1");
  const dir = await Deno.makeTempDir();
  const path = `${dir}/fe.sock`;
  let v6 = true;
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
  } catch {
    v6 = false;
  }
  const binds = [testBind(), testBind(), {
    address: { kind: "unix" as const, path, text: `unix@${path}` },
    tls: null,
  }];
  if (v6) binds.push(testBind("::1"));
  const cfg = oneBackend([{ name: "s1", port: s1.port }], {}, { binds });
  try {
    await withProxy(cfg, [s1], async ({ proxy }) => {
      const addrs = proxy.addresses("fe");
      assert.equal(addrs.length, binds.length);
      for (const a of addrs) {
        const conn = a.transport === "unix"
          ? await Deno.connect({ transport: "unix", path: a.path })
          : await Deno.connect({
            hostname: (a as Deno.NetAddr).hostname,
            port: (a as Deno.NetAddr).port,
          });
        assert.equal(await readLine(conn), "s1");
        closeQuietly(conn);
      }
      const snap = proxy.snapshot().frontends[0];
      assert.equal(snap.listening, true);
      assert.equal(snap.binds.length, binds.length);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bind failure names frontend and address and closes what was opened", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const busyPort = (busy.addr as Deno.NetAddr).port;
  const freePort = deadPort();
  const cfg = testConfig({
    frontends: [
      testFrontend("first", "be", { binds: [testBind("127.0.0.1", freePort)] }),
      testFrontend("main", "be", { binds: [testBind("127.0.0.1", busyPort)] }),
    ],
    backends: [testBackend("be", [testServer("s1", 1)])],
  });
  try {
    await assert.rejects(
      startProxy(cfg, { logger: createLogger({ sink: memorySink(), level: "info" }) }),
      { message: `frontend 'main': cannot bind 127.0.0.1:${busyPort}: address already in use` },
    );
    Deno.listen({ hostname: "127.0.0.1", port: freePort }).close();
  } finally {
    busy.close();
  }
});

Deno.test("tcp and http frontends run side by side, each with its engine", async () => {
  const s1 = namedServer("s1");
  const cfg = testConfig({
    frontends: [testFrontend("fe", "be"), testFrontend("web", "hb", { mode: "http" })],
    backends: [
      testBackend("be", [testServer("s1", s1.port)]),
      testBackend("hb", [testServer("h1", s1.port)], { mode: "http" }),
    ],
  });
  await withProxy(cfg, [s1], async ({ proxy, port }) => {
    assert.equal(await askName(port), "s1");
    const [fe, web] = proxy.snapshot().frontends;
    assert.deepEqual([fe.name, fe.started, fe.listening, fe.http], ["fe", true, true, null]);
    assert.deepEqual([web.name, web.started, web.listening], ["web", true, true]);
    assert.equal(web.http?.requests, 0);
    assert.equal(proxy.addresses("web").length, 1);
  });
});

Deno.test("listeners handed to a new generation keep their port while the old one drains", async () => {
  const s1 = namedServer("s1");
  const s2 = namedServer("s2");
  const logger = createLogger({ sink: memorySink(), level: "info" });
  const port = deadPort();
  const bind = { binds: [testBind("127.0.0.1", port)] };
  const gen1 = await startProxy(oneBackend([{ name: "s1", port: s1.port }], {}, bind), { logger });
  let gen2: Proxy | null = null;
  try {
    const held = await dial(port);
    assert.equal(await readLine(held), "s1");
    const listeners = gen1.releaseListeners();
    const cfg2 = oneBackend([{ name: "s2", port: s2.port }], {}, bind);
    gen2 = await startProxy(cfg2, { logger, listeners });
    assert.equal(listeners.size, 0);
    const draining = gen1.stop({ graceMs: 5000 });
    assert.equal(await askName(port), "s2");
    closeQuietly(held);
    await draining;
  } finally {
    await gen1.stop({ graceMs: 0 });
    await gen2?.stop({ graceMs: 0 });
    await Promise.all([s1.close(), s2.close()]);
  }
});

Deno.test("tcp use_backend conditions pick the backend per connection (dst_port, src)", async () => {
  const s1 = namedServer("s1");
  const s2 = namedServer("s2");
  const s3 = namedServer("s3");
  const [p1, p2] = [deadPort(), deadPort()];
  const { config, diagnostics } = compileConfig(
    `[frontend.fe]
mode = "tcp"
bind = ["127.0.0.1:${p1}", "127.0.0.1:${p2}"]
default_backend = "b1"
use_backend = [
  { backend = "b2", if = "{ dst_port ${p2} }" },
  { backend = "b3", if = "{ src 10.0.0.0/8 }" },
]
[backend.b1]
mode = "tcp"
server = [{ name = "s1", address = "127.0.0.1:${s1.port}" }]
[backend.b2]
mode = "tcp"
server = [{ name = "s2", address = "127.0.0.1:${s2.port}" }]
[backend.b3]
mode = "tcp"
server = [{ name = "s3", address = "127.0.0.1:${s3.port}" }]
`,
    { file: "tcp_acl.toml" },
  );
  assert.ok(config, JSON.stringify(diagnostics));
  await withProxy(config, [s1, s2, s3], async () => {
    assert.equal(await askName(p1), "s1");
    assert.equal(await askName(p2), "s2");
    assert.equal(await askName(p1), "s1");
  });
});

Deno.test("reload: a TLS bind kept across generations serves the new certificate", async () => {
  const s1 = namedServer("s1");
  const certs = new URL("./testdata/http_diff/certs/", import.meta.url).pathname;
  const port = deadPort();
  const conf = (crt: string) => {
    const { config, diagnostics } = compileConfig(
      `[frontend.fe]
mode = "tcp"
bind = [{ address = "127.0.0.1:${port}", crt = ["${certs}${crt}"] }]
default_backend = "be"
[backend.be]
mode = "tcp"
server = [{ name = "s1", address = "127.0.0.1:${s1.port}" }]
`,
      { file: "tls_reload.toml" },
    );
    assert.ok(config, JSON.stringify(diagnostics));
    return config;
  };
  const logger = createLogger({ sink: memorySink(), level: "info" });
  const ask = async (hostname: string, ca: string) => {
    // startTls names the server without resolving it (SNI and verification use `hostname`).
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
    const conn = await Deno.startTls(tcp, {
      hostname,
      caCerts: [Deno.readTextFileSync(certs + ca)],
    });
    try {
      return await readLine(conn as unknown as Deno.Conn);
    } finally {
      conn.close();
    }
  };
  const gen1 = await startProxy(conf("web.pem"), { logger });
  let gen2: Proxy | null = null;
  try {
    assert.equal(await ask("localhost", "ca.pem"), "s1");
    const listeners = gen1.releaseListeners();
    gen2 = await startProxy(conf("sni.pem"), { logger, listeners, previous: gen1 });
    assert.equal(listeners.size, 0, "the TLS listener was handed over, not reopened");
    await gen1.stop({ graceMs: 0 });
    assert.equal(await ask("sni.test", "sni_ca.pem"), "s1");
    await assert.rejects(() => ask("localhost", "ca.pem"));
  } finally {
    await gen2?.stop({ graceMs: 0 });
    await gen1.stop({ graceMs: 0 });
    await s1.close();
  }
});
