/**
 * The admin layer inside a real `halb run`: the stats CSV and /metrics count the proxied
 * requests; `halb ctl` over the runtime socket puts a server in MAINT, traffic then avoids it,
 * the state survives a reload asked through the API, and an invalid config reloaded through the
 * API is refused with its error.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort } from "./helpers/backends.ts";
import { sleep } from "./helpers/net.ts";
import { startOrigin } from "./helpers/origin.ts";
import { main } from "../src/cli/main.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

function toml(o: { port: number; admin: number; sock: string; o1: number; o2: number }): string {
  return `[global]
log_level = "info"
grace = "1s"
[admin]
bind = "127.0.0.1:${o.admin}"
socket = "${o.sock}"
allow_changes = true
[defaults]
mode = "http"
[defaults.timeout]
connect = "1s"
client = "5s"
server = "5s"
[frontend.fe]
bind = ["127.0.0.1:${o.port}"]
default_backend = "be"
[backend.be]
server = [
  { name = "o1", address = "127.0.0.1:${o.o1}" },
  { name = "o2", address = "127.0.0.1:${o.o2}" },
]
`;
}

async function ctl(sock: string, command: string): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await main(["ctl", "-s", sock, command], {
    out: (t) => out += t + "\n",
    err: (t) => out += t + "\n",
  });
  return { code, out };
}

Deno.test({
  name: "admin in halb run: CSV/metrics counts, ctl MAINT steers traffic, API reload keeps it",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const o1 = startOrigin("o1");
    const o2 = startOrigin("o2");
    const dir = await Deno.makeTempDir({ prefix: "halb-admin-" });
    const o = {
      port: freePort(),
      admin: freePort(),
      sock: `${dir}/halb.sock`,
      o1: o1.port,
      o2: o2.port,
    };
    const file = `${dir}/halb.toml`;
    await Deno.writeTextFile(file, toml(o));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN, "run", "-c", file],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = new Response(child.stdout).text();
    const errors = new Response(child.stderr).text();
    const base = `http://127.0.0.1:${o.admin}`;
    try {
      let up = false;
      for (let i = 0; i < 100 && !up; i++) {
        up = await fetch(`${base}/healthz`).then(
          async (r) => (await r.body?.cancel(), r.ok),
          () => false,
        );
        if (!up) await sleep(100);
      }
      assert.ok(up, "admin endpoint answers");
      for (let i = 0; i < 10; i++) {
        const r = await fetch(`http://127.0.0.1:${o.port}/`);
        await r.body?.cancel();
        assert.equal(r.status, 200);
      }
      const csv = await (await fetch(`${base}/stats;csv`)).text();
      const header = csv.split("\n")[0].slice(2).split(",");
      const fe = csv.split("\n").find((l) => l.startsWith("fe,FRONTEND,"))!.split(",");
      assert.equal(fe[header.indexOf("req_tot")], "10");
      assert.equal(fe[header.indexOf("hrsp_2xx")], "10");
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, /\n# TYPE \S+ counter\n/);

      assert.equal((await ctl(o.sock, "set server be/o2 state maint")).code, 0);
      const before = o2.requests.length;
      for (let i = 0; i < 6; i++) {
        const r = await fetch(`http://127.0.0.1:${o.port}/`);
        await r.body?.cancel();
      }
      assert.equal(o2.requests.length, before, "a server in MAINT gets no new request");

      const reload = await fetch(`${base}/api/reload`, { method: "POST" });
      assert.equal(reload.status, 200, await reload.text());
      const state = await ctl(o.sock, "show servers state");
      const row = state.out.split("\n").find((l) => l.split(" ")[3] === "o2")?.split(" ");
      // `show servers state`: field 6 is srv_admin_state, 1 = forced maintenance.
      assert.equal(row?.[6], "1", `o2 stays in MAINT across the reload:\n${state.out}`);

      // A reload asked through the endpoint that changes [admin] itself: it answers, then the
      // endpoint restarts with the new settings.
      await Deno.writeTextFile(
        file,
        toml(o).replace("allow_changes = true", 'allow_changes = true\nrefresh = "2s"'),
      );
      const changed = await fetch(`${base}/api/reload`, { method: "POST" });
      assert.equal(changed.status, 200, await changed.text());
      let again = false;
      for (let i = 0; i < 50 && !again; i++) {
        await sleep(100);
        again = await fetch(`${base}/healthz`).then(
          async (r) => (await r.body?.cancel(), r.ok),
          () => false,
        );
      }
      assert.ok(again, "the admin endpoint is back after its own restart");

      await Deno.writeTextFile(file, toml(o) + "\n[backend.be.nope]\n");
      const bad = await fetch(`${base}/api/reload`, { method: "POST" });
      const body = await bad.text();
      assert.notEqual(bad.status, 200);
      assert.match(body, /halb\.toml:\d+:\d+: backend\.be\.nope/);
    } finally {
      child.kill("SIGTERM");
      const status = await child.status;
      await output;
      const err = await errors;
      await o1.close();
      await o2.close();
      await Deno.remove(dir, { recursive: true });
      assert.equal(status.code, 0, err);
    }
  },
});
