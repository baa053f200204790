import assert from "node:assert/strict";
import { createLogger, memorySink } from "../log/logger.ts";
import { fakeSource, testAdminConfig } from "./_testing.ts";
import { serveRuntimeSocket } from "./runtime_socket.ts";
import { startAdmin } from "./server.ts";

const logger = createLogger({ sink: memorySink(), level: "debug" });

/** Sends `text` and reads until the server closes (bounded by a timeout). */
async function exchange(path: string, text: string): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path });
  await conn.write(new TextEncoder().encode(text));
  await conn.closeWrite();
  const timer = setTimeout(() => conn.close(), 5000);
  try {
    return await new Response(conn.readable).text();
  } finally {
    clearTimeout(timer);
  }
}

/** Reads from an open connection until `until` appears in what was read (bounded). */
async function readUntil(conn: Deno.Conn, until: string): Promise<string> {
  const buf = new Uint8Array(65536);
  const dec = new TextDecoder();
  let text = "";
  for (let i = 0; i < 100 && !text.endsWith(until); i++) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += dec.decode(buf.subarray(0, n));
  }
  return text;
}

Deno.test("runtime socket: one line per connection, answers, then close", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/halb.sock`;
  const source = fakeSource();
  const sock = await serveRuntimeSocket(path, { source, logger });
  try {
    assert.equal((await Deno.lstat(path)).mode! & 0o777, 0o600);
    assert.equal(await exchange(path, "get weight web/app1\n"), "1 (initial 1)\n\n");
    assert.equal(
      await exchange(path, "disable server web/app2;get weight web/nope\n"),
      "\nNo such server.\n\n",
    );
    assert.deepEqual(source.calls.map((c) => c.action), ["maint"]);
    assert.equal(await exchange(path, "get weight web/app3"), "2 (initial 2)\n\n", "no newline");
    assert.match(await exchange(path, "show stat\n"), /^# pxname,svname,/);
  } finally {
    await sock.stop();
    await Deno.remove(dir, { recursive: true });
  }
  await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
});

Deno.test("runtime socket: prompt mode keeps the connection and prompts after each answer", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/halb.sock`;
  const sock = await serveRuntimeSocket(path, { source: fakeSource(), logger });
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    const enc = new TextEncoder();
    await conn.write(enc.encode("prompt\n"));
    assert.equal(await readUntil(conn, "> "), "\n> ");
    await conn.write(enc.encode("get weight web/app1;get weight web/app3\n"));
    assert.equal(
      await readUntil(conn, "2 (initial 2)\n\n> "),
      "1 (initial 1)\n\n> 2 (initial 2)\n\n> ",
    );
    await conn.write(enc.encode("quit\n"));
    assert.equal(await readUntil(conn, "never"), "");
  } finally {
    conn.close();
    await sock.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Leaves a socket file nobody listens on, as a crashed process does (killed with SIGKILL). */
async function leaveStaleSocket(path: string): Promise<void> {
  const code = `Deno.listen({ transport: "unix", path: ${JSON.stringify(path)} });` +
    `console.log("ready"); setInterval(() => {}, 1000);`;
  const child = new Deno.Command(Deno.execPath(), { args: ["eval", code], stdout: "piped" })
    .spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  try {
    await reader.read();
  } finally {
    child.kill("SIGKILL");
    clearTimeout(timer);
    await reader.cancel();
    await child.status;
  }
}

Deno.test("runtime socket: a stale file is replaced, a live socket or a plain file refused", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/halb.sock`;
  try {
    await leaveStaleSocket(path);
    assert.ok((await Deno.lstat(path)).isSocket, "a stale socket file is there");
    const first = await serveRuntimeSocket(path, { source: fakeSource(), logger });
    try {
      await assert.rejects(
        serveRuntimeSocket(path, { source: fakeSource(), logger }),
        /already in use/,
      );
      assert.equal(await exchange(path, "get weight db/db1\n"), "3 (initial 3)\n\n");
    } finally {
      await first.stop();
    }
    const plain = `${dir}/plain`;
    await Deno.writeTextFile(plain, "x");
    await assert.rejects(
      serveRuntimeSocket(plain, { source: fakeSource(), logger }),
      /exists and is not a socket/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startAdmin: serves the app on port 0 and the runtime socket; stop ends SSE streams", async () => {
  const dir = await Deno.makeTempDir();
  const socket = `${dir}/halb.sock`;
  const admin = await startAdmin(testAdminConfig({ socket }), {
    source: fakeSource(),
    logger,
    pushIntervalMs: 50,
  });
  try {
    assert.ok("port" in admin.addr && admin.addr.port > 0);
    const base = `http://127.0.0.1:${admin.addr.port}`;
    const health = await fetch(`${base}/healthz`);
    assert.equal(await health.text(), "OK\n");
    const csv = await fetch(`${base}/stats;csv`);
    assert.match(await csv.text(), /^# pxname,/);
    assert.equal(await exchange(socket, "get weight web/app1\n"), "1 (initial 1)\n\n");
    const events = await fetch(`${base}/stats/events`);
    const reader = events.body!.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /^event: stats\ndata: \{/);
    const stopped = admin.stop();
    let done = false;
    for (let i = 0; i < 200 && !done; i++) done = (await reader.read()).done;
    assert.ok(done, "the SSE stream ends on stop");
    await stopped;
  } finally {
    await admin.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("startAdmin: a bind failure says where", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    await assert.rejects(
      startAdmin(
        testAdminConfig({
          bind: { kind: "inet", host: "127.0.0.1", port, family: 4, text: `127.0.0.1:${port}` },
        }),
        { source: fakeSource(), logger },
      ),
      new RegExp(`\\[admin\\] bind 127\\.0\\.0\\.1:${port}: `),
    );
  } finally {
    taken.close();
  }
});
