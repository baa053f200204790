import assert from "node:assert/strict";
import { fakeSource, testAdminConfig } from "../admin/_testing.ts";
import { startAdmin } from "../admin/server.ts";
import { createLogger, memorySink } from "../log/logger.ts";
import { adminUrl, parseCtlArgs, parseSocketAnswer, runCtl } from "./ctl.ts";

const logger = createLogger({ sink: memorySink(), level: "debug" });

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
}

Deno.test("parseCtlArgs: options first, then the command verbatim", () => {
  const a = parseCtlArgs(["--socket", "/run/h.sock", "show", "stat", "be", "4", "-1"]);
  assert.equal(a.socket, "/run/h.sock");
  assert.equal(a.command, "show stat be 4 -1");
  const b = parseCtlArgs(["--admin=http://x:1", "--user", "u", "--password=p", "reload"]);
  assert.deepEqual([b.url, b.user, b.password, b.command], ["http://x:1", "u", "p", "reload"]);
  assert.equal(parseCtlArgs(["-c", "f.toml", "--", "-weird"]).command, "-weird");
  assert.throws(() => parseCtlArgs(["--bogus", "x"]), /unknown option "--bogus"/);
  assert.throws(() => parseCtlArgs(["--socket"]), /needs a value/);
  assert.throws(() => parseCtlArgs(["-s", "a", "-u", "b", "x"]), /not both/);
});

Deno.test("parseSocketAnswer strips severity prefixes and spots errors", () => {
  assert.deepEqual(parseSocketAnswer("\n1 (initial 1)\n\n"), {
    text: "1 (initial 1)",
    failed: false,
  });
  assert.deepEqual(parseSocketAnswer("\n[3]: No such server.\n\n"), {
    text: "No such server.",
    failed: true,
  });
  assert.deepEqual(parseSocketAnswer("\n[6]: Reload done.\n\n"), {
    text: "Reload done.",
    failed: false,
  });
  assert.deepEqual(parseSocketAnswer("\n\n"), { text: "", failed: false });
});

Deno.test("adminUrl maps wildcard binds to loopback", () => {
  const cfg = (host: string, family: 4 | 6) =>
    testAdminConfig({ bind: { kind: "inet", host, port: 8404, family, text: "" } });
  assert.equal(adminUrl(cfg("0.0.0.0", 4)), "http://127.0.0.1:8404");
  assert.equal(adminUrl(cfg("::", 6)), "http://[::1]:8404");
  assert.equal(adminUrl(cfg("10.0.0.1", 4)), "http://10.0.0.1:8404");
});

Deno.test("ctl: usage errors exit 2", async () => {
  const a = io();
  assert.equal(await runCtl([], a.io), 2);
  assert.match(a.err[0], /no command given/);
  const b = io();
  assert.equal(await runCtl(["--help"], b.io), 0);
  assert.match(b.out[0], /^Usage: halb ctl/);
  const c = io();
  assert.equal(await runCtl(["-c", "/nonexistent/halb.toml", "show", "info"], c.io), 2);
  assert.match(c.err.at(-1)!, /has errors; give --socket or --url/);
});

Deno.test("ctl over the socket and over HTTP, from flags and from the config file", async () => {
  const dir = await Deno.makeTempDir();
  const socket = `${dir}/halb.sock`;
  const source = fakeSource();
  const admin = await startAdmin(
    testAdminConfig({ socket, auth: [{ user: "admin", password: "pw" }], allowChanges: true }),
    { source, logger },
  );
  try {
    const port = (admin.addr as Deno.NetAddr).port;
    const url = `http://127.0.0.1:${port}`;

    let r = io();
    assert.equal(await runCtl(["--socket", socket, "get", "weight", "web/app1"], r.io), 0);
    assert.deepEqual(r.out, ["1 (initial 1)"]);
    r = io();
    assert.equal(
      await runCtl(["--socket", socket, "set", "server", "web/app1", "state", "maint"], r.io),
      0,
    );
    assert.deepEqual([r.out, r.err], [[], []]);
    assert.equal(source.model().backends[0].servers[0].status, "MAINT");
    r = io();
    assert.equal(await runCtl(["--socket", socket, "get", "weight", "web/nope"], r.io), 1);
    assert.deepEqual(r.err, ["No such server."]);
    r = io();
    assert.equal(await runCtl(["--socket", `${dir}/absent.sock`, "show", "info"], r.io), 1);
    assert.match(r.err[0], /cannot reach/);

    r = io();
    const auth = ["--user", "admin", "--password", "pw"];
    assert.equal(await runCtl(["--url", url, ...auth, "show", "servers", "state", "db"], r.io), 0);
    assert.match(r.out[0], /^1\n# be_id be_name/);
    r = io();
    assert.equal(await runCtl(["--url", url, ...auth, "set", "weight", "web/app3", "5"], r.io), 0);
    assert.equal(source.model().backends[0].servers[2].uweight, 5);
    r = io();
    assert.equal(await runCtl(["--url", url, ...auth, "set", "weight", "web/app3", "x"], r.io), 1);
    assert.deepEqual(r.err, ["Empty weight string empty or preceded by garbage"]);
    r = io();
    assert.equal(await runCtl(["--url", url, "show", "info"], r.io), 1);
    assert.match(r.err[0], /authentication failed/);

    const file = `${dir}/halb.toml`;
    await Deno.writeTextFile(
      file,
      `[admin]\nbind = "127.0.0.1:${port}"\nauth = ["admin:pw"]\nallow_changes = true\n`,
    );
    r = io();
    assert.equal(await runCtl(["-c", file, "get", "weight", "db/db1"], r.io), 0, r.err.join("\n"));
    assert.deepEqual(r.out, ["3 (initial 3)"]);
    await Deno.writeTextFile(
      file,
      `[admin]\nbind = "127.0.0.1:${port}"\nauth = ["admin:pw"]\nsocket = "${socket}"\n`,
    );
    r = io();
    assert.equal(await runCtl(["-c", file, "show", "vrrp"], r.io), 0, r.err.join("\n"));
    assert.match(r.out[0], /^# name state priority/);
  } finally {
    await admin.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
