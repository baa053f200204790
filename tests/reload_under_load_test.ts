/**
 * Issue #6 acceptance: hot reload under load. `halb run` (a child process, as in production)
 * proxies HTTP to two nginx backends while wrk drives keep-alive traffic; the config is changed
 * and SIGHUP sent 10 times, once with an invalid config. Asserts zero non-2xx responses and zero
 * socket errors, the invalid config refused with its error while the running one keeps serving,
 * and health state carried across reloads (a DOWN server stays DOWN without re-logging).
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort, haveFile, startNginx } from "./helpers/backends.ts";
import { sleep } from "./helpers/net.ts";

const ready = haveFile("/usr/sbin/nginx") && haveFile("/usr/bin/wrk");
const MAIN = new URL("../main.ts", import.meta.url).pathname;

function config(o: { port: number; b1: number; b2: number; dead: number; weight: number }): string {
  return `[global]
log_level = "info"
grace = "3s"
[defaults]
mode = "http"
log = true
[defaults.timeout]
connect = "1s"
client = "10s"
server = "10s"
[frontend.fe]
bind = ["127.0.0.1:${o.port}"]
default_backend = "be"
use_backend = [{ backend = "spare", if = "{ path_beg /spare }" }]
[backend.be]
balance = "roundrobin"
server = [
  { name = "web1", address = "127.0.0.1:${o.b1}", check = true, inter = "300ms" },
  { name = "web2", address = "127.0.0.1:${o.b2}", weight = ${o.weight}, check = true, inter = "300ms" },
]
[backend.spare]
server = [{ name = "gone", address = "127.0.0.1:${o.dead}", check = true, inter = "300ms", fall = 1 }]
`;
}

Deno.test({
  name: "reload under load: 10 SIGHUPs (one invalid) — no non-2xx, no socket error",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const [b1, b2, port, dead] = [freePort(), freePort(), freePort(), freePort()];
    const n1 = await startNginx("web1", b1);
    const n2 = await startNginx("web2", b2);
    const dir = await Deno.makeTempDir({ prefix: "halb-reload-" });
    const file = `${dir}/halb.toml`;
    await Deno.writeTextFile(file, config({ port, b1, b2, dead, weight: 1 }));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN, "run", "-c", file],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const out: string[] = [];
    const pump = (async () => {
      const dec = new TextDecoderStream();
      for await (const chunk of child.stdout.pipeThrough(dec)) out.push(chunk);
    })();
    const errText = new Response(child.stderr).text();
    try {
      // Wait until it serves.
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          const r = await fetch(`http://127.0.0.1:${port}/`);
          await r.body?.cancel();
          if (r.status === 200) break;
        } catch {
          // not yet
        }
        if (Date.now() > deadline) throw new Error("halb did not start serving");
        await sleep(100);
      }
      await sleep(1000); // the dead server goes DOWN
      const wrk = new Deno.Command("/usr/bin/wrk", {
        args: ["-t1", "-c16", "-d12s", `http://127.0.0.1:${port}/`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      await sleep(500);
      for (let i = 1; i <= 10; i++) {
        const text = i === 5
          ? config({ port, b1, b2, dead, weight: 1 }) + "\n[backend.be.oops]\nnope = 1\n"
          : config({ port, b1, b2, dead, weight: 1 + (i % 3) });
        await Deno.writeTextFile(file, text);
        child.kill("SIGHUP");
        await sleep(1000);
      }
      const res = await wrk;
      const report = new TextDecoder().decode(res.stdout);
      console.log(
        report.trim().split("\n").filter((l) => /Requests|requests in|errors|Non-2xx/.test(l)).join(
          "\n",
        ),
      );
      assert.ok(/requests in/.test(report), report);
      assert.ok(!/Socket errors/.test(report), `socket errors during reloads:\n${report}`);
      assert.ok(!/Non-2xx/.test(report), `non-2xx responses during reloads:\n${report}`);
      const log = out.join("");
      const done = log.match(/reload done/g)?.length ?? 0;
      const rejected = log.match(/reload rejected/g)?.length ?? 0;
      console.log(`reloads done ${done}, rejected ${rejected}`);
      assert.equal(done, 9, log);
      assert.equal(rejected, 1, log);
      assert.match(log, /backend\.be\.oops/, "the invalid config's error is logged with its place");
      // Health state carried: the dead server went DOWN once, never UP, never DOWN again.
      assert.equal(log.match(/Server spare\/gone is DOWN/g)?.length ?? 0, 1, log);
      assert.doesNotMatch(log, /Server spare\/gone is UP/);
      assert.doesNotMatch(log, /Server be\/web\d is DOWN/);
    } finally {
      child.kill("SIGTERM");
      const status = await child.status;
      await pump;
      const stderr = await errText;
      await n1.close();
      await n2.close();
      await Deno.remove(dir, { recursive: true });
      assert.equal(status.code, 0, stderr);
    }
  },
});
