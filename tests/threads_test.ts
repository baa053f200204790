/**
 * Proxy threads (`nbthread`): a real `halb run` with two threads serves every connection, writes
 * the workers' traffic lines through the main logger, survives a reload, and stops cleanly; a
 * config that needs shared state runs one thread and says why.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort } from "./helpers/backends.ts";
import { sleep } from "./helpers/net.ts";
import { startOrigin } from "./helpers/origin.ts";
import { compileConfig } from "../src/config/load.ts";
import { addSnapshots, threadCount } from "../src/runtime/threads.ts";
import type { ProxySnapshot } from "../src/proxy/proxy.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

function toml(port: number, o1: number, o2: number, extra = ""): string {
  return `[global]
nbthread = 2
log_level = "info"
grace = "1s"
[defaults]
mode = "http"
log = true
httplog = true
[defaults.timeout]
connect = "1s"
client = "5s"
server = "5s"
[frontend.fe]
bind = ["127.0.0.1:${port}"]
default_backend = "be"
[backend.be]
${extra}server = [
  { name = "o1", address = "127.0.0.1:${o1}" },
  { name = "o2", address = "127.0.0.1:${o2}" },
]
`;
}

async function get(port: number): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode("GET / HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n"),
    );
    const buf = new Uint8Array(4096);
    let text = "";
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  } finally {
    conn.close();
  }
}

Deno.test({
  name: "nbthread 2: every connection served, worker logs reach the main logger, reload, stop",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const o1 = startOrigin("o1");
    const o2 = startOrigin("o2");
    const dir = await Deno.makeTempDir({ prefix: "halb-threads-" });
    const file = `${dir}/halb.toml`;
    // The port is picked free but a parallel test may take it before halb binds: then halb exits
    // with "cannot bind" and the start is retried on another port.
    let port = 0;
    let child: Deno.ChildProcess | null = null;
    let output = Promise.resolve("");
    let errors = Promise.resolve("");
    for (let attempt = 1; attempt <= 3 && child === null; attempt++) {
      port = freePort();
      await Deno.writeTextFile(file, toml(port, o1.port, o2.port));
      const c = new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", MAIN, "run", "-c", file],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const out = new Response(c.stdout).text();
      const err = new Response(c.stderr).text();
      let exited = false;
      c.status.then(() => exited = true);
      let up = false;
      for (let i = 0; i < 100 && !up && !exited; i++) {
        up = await get(port).then((st) => st === 200, () => false);
        if (!up) await sleep(100);
      }
      if (up) {
        child = c;
        output = out;
        errors = err;
      } else {
        try {
          c.kill("SIGKILL");
        } catch {
          // already exited
        }
        await c.status;
        const text = await err;
        if (attempt === 3 || !/cannot bind/.test(text)) {
          await o1.close();
          await o2.close();
          await Deno.remove(dir, { recursive: true });
          assert.fail(`halb does not serve:\n${text}\n${await out}`);
        }
      }
    }
    assert.ok(child !== null);
    try {
      const statuses = await Promise.all(Array.from({ length: 200 }, () => get(port)));
      assert.deepEqual(new Set(statuses), new Set([200]));
      await Deno.writeTextFile(file, toml(port, o1.port, o2.port, 'balance = "static-rr"\n'));
      child.kill("SIGHUP");
      await sleep(800);
      const after = await Promise.all(Array.from({ length: 50 }, () => get(port)));
      assert.deepEqual(new Set(after), new Set([200]));
    } finally {
      try {
        child.kill("SIGTERM");
      } catch {
        // exited by itself: the status below says how
      }
      const status = await child.status;
      const log = await output;
      const err = await errors;
      await o1.close();
      await o2.close();
      await Deno.remove(dir, { recursive: true });
      assert.equal(status.code, 0, err);
      assert.match(log, /running 2 proxy threads/);
      assert.match(log, /reload done/);
      const traffic = log.split("\n").filter((l) => /\] fe be\/o[12] /.test(l));
      // 1 probe + 200 + 50 requests, from both threads, each logged once by the main logger.
      assert.ok(traffic.length >= 251, `traffic lines: ${traffic.length}\n${log.slice(-2000)}`);
      console.log(`traffic lines logged: ${traffic.length}`);
    }
  },
});

Deno.test("threadCount: shared-state settings keep one thread and say why", () => {
  const base = (extra: string) => {
    const r = compileConfig(toml(1, 2, 3, extra), { file: "t.toml" });
    assert.ok(r.config, JSON.stringify(r.diagnostics));
    return threadCount(r.config);
  };
  assert.deepEqual(base(""), { count: 2, reason: null });
  assert.deepEqual(base('balance = "leastconn"\n'), {
    count: 1,
    reason: "backend 'be' uses balance leastconn",
  });
});

Deno.test("addSnapshots adds the workers' counters to the main snapshot", () => {
  const snap = (n: number): ProxySnapshot => ({
    actconn: n,
    maxconn: 100,
    frontends: [{
      name: "fe",
      mode: "http",
      started: true,
      listening: true,
      backend: "be",
      binds: [],
      http: { requests: n, denied: 0, invalid: 0, responses: [0, 0, n, 0, 0, 0] },
      cur: n,
      max: n,
      limit: 0,
      total: n,
      bytesIn: n,
      bytesOut: n,
    }],
    backends: [],
  });
  const sum = addSnapshots(snap(1), [snap(2), snap(3)]);
  assert.equal(sum.actconn, 6);
  assert.equal(sum.frontends[0].total, 6);
  assert.deepEqual(sum.frontends[0].http?.responses, [0, 0, 6, 0, 0, 0]);
  assert.equal(sum.maxconn, 100);
});
