import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { compile, TIMEOUTS } from "./_testing.ts";

const WEB_PEM = Deno.readTextFileSync(
  fileURLToPath(new URL("../../tests/testdata/valid/certs/web.pem", import.meta.url)),
);

Deno.test("proxies inherit [defaults]; proxy keys override", () => {
  const { config, lines } = compile(`
[defaults]
mode = "http"
log = true
httplog = true
dontlognull = true
forwardfor = true
redispatch = true
retries = 5
maxconn = 100
balance = "leastconn"
hash_type = "consistent"
[defaults.timeout]
connect = "5s"
client = "1m"
server = "1m"
http_request = "10s"

[frontend.f]
bind = [":8080"]
maxconn = 7
dontlognull = false
timeout = { client = "2m" }
default_backend = "b"

[frontend.t]
mode = "tcp"
bind = [":9090"]
default_backend = "b"

[backend.b]
retries = 1
timeout = { server = "5m" }
server = [{ name = "s1", address = "127.0.0.1:80" }]
`);
  assert.deepEqual(lines, []);
  const [f, t] = config!.frontends;
  assert.equal(f.mode, "http");
  assert.equal(f.maxconn, 7);
  assert.equal(f.log, true);
  assert.equal(f.logStyle, "httplog");
  assert.equal(f.dontlognull, false);
  assert.deepEqual(f.forwardfor, { except: null, header: "X-Forwarded-For", ifNone: false });
  assert.deepEqual(f.timeout, { client: 120_000, httpRequest: 10_000, httpKeepAlive: null });
  assert.equal(t.mode, "tcp");
  assert.equal(t.maxconn, 100);
  assert.equal(t.logStyle, "tcplog");
  const b = config!.backends[0];
  assert.equal(b.retries, 1);
  assert.equal(b.redispatch, true);
  assert.deepEqual(b.balance, { algorithm: "leastconn" });
  assert.deepEqual(b.hashType, { method: "consistent", fn: "sdbm", avalanche: true });
  assert.deepEqual(b.timeout, { connect: 5000, server: 300_000, queue: 5000, check: null });
});

Deno.test("built-in proxy defaults: tcp, roundrobin, server check defaults", () => {
  const { config, lines } = compile(`${TIMEOUTS}
[backend.b]
server = [{ name = "s1", address = "10.0.0.1:80" }, { name = "s2", address = "db:5432", id = 1 }]
`);
  assert.deepEqual(lines, []);
  const b = config!.backends[0];
  assert.equal(b.mode, "tcp");
  assert.deepEqual(b.balance, { algorithm: "roundrobin" });
  assert.deepEqual(b.hashType, { method: "map-based", fn: "sdbm", avalanche: false });
  assert.equal(b.retries, 3);
  assert.deepEqual(b.healthCheck.type, "tcp");
  const s = b.servers[0];
  assert.deepEqual(
    [s.id, s.weight, s.inter, s.fastinter, s.downinter, s.rise, s.fall, s.check, s.verify],
    [2, 1, 2000, 2000, 2000, 2, 3, false, "none"],
  );
  assert.equal(b.servers[1].id, 1);
  assert.equal(b.servers[1].address.host, "db");
});

Deno.test("missing timeouts are warnings, as HAProxy", () => {
  const { config, lines } = compile(`
[frontend.f]
bind = [":80"]
default_backend = "b"
[backend.b]
timeout = { connect = "1s" }
`);
  assert.ok(config !== null);
  assert.deepEqual(lines, [
    "2:11: frontend.f: warning: missing timeouts for frontend 'f': set timeout.client here or " +
    "in [defaults.timeout]",
    "5:10: backend.b: warning: missing timeouts for backend 'b': set timeout.server here or in " +
    "[defaults.timeout]",
  ]);
});

Deno.test("cross-references: unknown use_backend warns, mode mismatch is an error", () => {
  const { lines } = compile(`${TIMEOUTS}
[frontend.h]
mode = "http"
bind = [":80"]
use_backend = [{ backend = "tcpb" }, { backend = "httpb" }, { backend = "nope" }]
[frontend.t]
mode = "tcp"
bind = [":81"]
default_backend = "httpb"
[backend.tcpb]
mode = "tcp"
[backend.httpb]
mode = "http"
`);
  assert.deepEqual(lines, [
    "10:28: frontend.h.use_backend[0].backend: http frontend 'h' tries to use incompatible tcp " +
    "backend 'tcpb'",
    "10:73: frontend.h.use_backend[2].backend: warning: no backend 'nope'; requests matching " +
    "this rule go to default_backend",
  ]);
});

Deno.test("TLS binds load certificates relative to the config; ALPN defaults to http/1.1", () => {
  const { config, lines } = compile(
    `${TIMEOUTS}
[frontend.f]
mode = "http"
bind = [":80", { address = "[::]:443", crt = ["certs/web.pem"] }, { address = ":8443", crt = "certs/web.pem", alpn = ["h2"] }]
`,
    { "/etc/halb/certs/web.pem": WEB_PEM },
  );
  assert.deepEqual(lines, []);
  const [plain, tls, tls2] = config!.frontends[0].binds;
  assert.equal(plain.tls, null);
  assert.equal(tls.address.kind === "inet" && tls.address.family, 6);
  assert.equal(tls.tls?.certificates[0].file, "/etc/halb/certs/web.pem");
  assert.deepEqual(tls.tls?.certificates[0].names, [
    "www.test1.com",
    "www.test2.com",
    "localhost",
    "127.0.0.1",
  ]);
  assert.deepEqual(tls.tls?.alpn, ["http/1.1"]);
  assert.deepEqual(tls2.tls?.alpn, ["h2"]);
});

Deno.test("tcp mode: HTTP-only settings warn", () => {
  const { config, lines } = compile(`${TIMEOUTS}
[frontend.f]
bind = [":80"]
http_request = [{ action = "del-header", name = "X" }]
default_backend = "b"
[backend.b]
balance = "uri"
cookie = { name = "S", insert = true }
`);
  assert.ok(config !== null);
  assert.deepEqual(lines, [
    "9:1: frontend.f.http_request: warning: http_request rules are ignored in tcp mode",
    '12:11: backend.b.balance: warning: balance uri needs mode "http"; roundrobin is used',
    "13:1: backend.b.cookie: warning: cookie is ignored in tcp mode",
  ]);
  assert.deepEqual(config.backends[0].balance, { algorithm: "roundrobin" });
});

Deno.test("balance url_param(uid) check_post compiles without a warning", () => {
  const { config, lines } = compile(`${TIMEOUTS}
[frontend.f]
mode = "http"
bind = [":80"]
default_backend = "b"
[backend.b]
mode = "http"
balance = "url_param(uid) check_post"
server = [{ name = "s1", address = "127.0.0.1:80" }]
`);
  assert.deepEqual(lines, []);
  assert.deepEqual(config!.backends[0].balance, {
    algorithm: "url_param",
    name: "uid",
    checkPost: true,
  });
});
