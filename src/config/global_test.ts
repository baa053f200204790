import assert from "node:assert/strict";
import { compile } from "./_testing.ts";
import { parseLogTarget } from "./global.ts";

Deno.test("parseLogTarget", () => {
  assert.deepEqual(parseLogTarget("stdout"), { kind: "stdout" });
  assert.deepEqual(parseLogTarget("stderr"), { kind: "stderr" });
  assert.deepEqual(parseLogTarget("syslog:/dev/log"), { kind: "syslog-unix", path: "/dev/log" });
  assert.deepEqual(parseLogTarget("syslog:udp://127.0.0.1:1514"), {
    kind: "syslog-udp",
    host: "127.0.0.1",
    port: 1514,
  });
  assert.deepEqual(parseLogTarget("syslog:udp://logs.local"), {
    kind: "syslog-udp",
    host: "logs.local",
    port: 514,
  });
  assert.match(parseLogTarget("syslog:dev/log") as string, /absolute socket path/);
  assert.match(parseLogTarget("file") as string, /invalid log target/);
});

Deno.test("[global] and [global.notify]", () => {
  const { config, lines } = compile(`
[global]
maxconn = 100
user = "nobody-here"
grace = "30s"
log_facility = "local3"
[global.notify]
email_to = ["a@example.com", "bad"]
smtp_server = "mail.example.com"
`);
  assert.deepEqual(lines, [
    '4:8: global.user: warning: user "nobody-here" does not exist on this machine',
    '8:30: global.notify.email_to[1]: "bad" is not an email address',
  ]);
  assert.equal(config, null);
  const ok = compile('[global.notify]\nemail_to = ["a@b.c"]\nsmtp_server = "10.0.0.1:2525"\n');
  assert.deepEqual(ok.config?.global.notify, {
    emailTo: ["a@b.c"],
    emailFrom: "halb@localhost",
    smtpServer: { host: "10.0.0.1", port: 2525, text: "10.0.0.1:2525" },
    smtpConnectTimeout: 30_000,
  });
});

Deno.test("[admin]: defaults, auth parsing, auth required off loopback", () => {
  const { config, lines } = compile('[admin]\nbind = "127.0.0.1:8404"\nauth = ["a:b:c"]\n');
  assert.deepEqual(lines, []);
  assert.deepEqual(config?.admin, {
    bind: { kind: "inet", host: "127.0.0.1", port: 8404, family: 4, text: "127.0.0.1:8404" },
    statsUri: "/stats",
    realm: "halb",
    auth: [{ user: "a", password: "b:c" }],
    refresh: null,
    allowChanges: false,
    socket: null,
  });
  assert.deepEqual(compile('[admin]\nbind = "[::1]:8404"\n').lines, []);
  assert.equal(compile('[admin]\nbind = "[::]:8404"\n').lines.length, 1);
  assert.deepEqual(compile('[admin]\nbind = ":8404"\nauth = ["u:p"]\n').lines, []);
});
