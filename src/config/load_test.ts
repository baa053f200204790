import assert from "node:assert/strict";
import fc from "fast-check";
import { stringify } from "smol-toml";
import { compile, TIMEOUTS } from "./_testing.ts";
import { compileConfig, loadConfig, SCHEMA } from "./load.ts";

Deno.test("an empty file is a valid config with every default", () => {
  const { config, lines } = compile("");
  assert.deepEqual(lines, []);
  assert.ok(config !== null);
  assert.deepEqual(config.global, {
    maxconn: 4096,
    user: null,
    group: null,
    pidfile: null,
    log: { kind: "stdout" },
    logFacility: "daemon",
    logLevel: "info",
    logFormat: "text",
    gracePeriod: 10_000,
    nbthread: 1,
    notify: null,
  });
  assert.equal(config.admin, null);
  assert.equal(config.vrrp, null);
  assert.deepEqual(config.frontends, []);
  assert.equal(config.file, "/etc/halb/halb.toml");
});

Deno.test("the config is deeply frozen", () => {
  const { config } = compile(`${TIMEOUTS}
[backend.b]
server = [{ name = "s", address = "127.0.0.1:1" }]
`);
  assert.ok(config !== null);
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.backends[0].servers[0].address));
  assert.throws(() => {
    (config.backends[0].servers[0] as { weight: number }).weight = 5;
  });
});

Deno.test("TOML syntax errors keep smol-toml's position; nothing else is reported", () => {
  const { config, lines } = compile("[global]\nmaxconn = 1\nmaxconn = 2\n");
  assert.equal(config, null);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^3:\d+: TOML syntax error: /);
});

Deno.test("every problem is reported, sorted by position", () => {
  const { config, lines } = compile(`
[global]
maxconn = -1
log_level = "verbose"
bogus = 1
`);
  assert.equal(config, null);
  assert.deepEqual(lines, [
    "3:11: global.maxconn: -1 is out of range (at least 1)",
    '4:13: global.log_level: invalid value "verbose": expected one of emerg, alert, crit, err, ' +
    "warning, notice, info, debug",
    '5:1: global.bogus: unknown key "bogus"',
  ]);
});

Deno.test("warnings alone keep the config", () => {
  const { config, lines } = compile('[global]\ndaemon = true\nchroot = "/x"\n');
  assert.ok(config !== null);
  assert.equal(lines.length, 2);
});

Deno.test("relative paths resolve from the config file's directory", () => {
  const { config, lines } = compile(
    `${TIMEOUTS}
[backend.b]
mode = "http"
errorfile = { 503 = "errors/503.http", 404 = "/abs/404.http" }
`,
    {
      "/etc/halb/errors/503.http": "HTTP/1.1 503 X\r\n\r\n",
      "/abs/404.http": "HTTP/1.1 404 Y\r\n\r\n",
    },
  );
  assert.deepEqual(lines, []);
  assert.deepEqual(config?.backends[0].errorfiles, {
    503: "HTTP/1.1 503 X\r\n\r\n",
    404: "HTTP/1.1 404 Y\r\n\r\n",
  });
});

Deno.test("compileConfig defaults to reading real files", () => {
  const r = compileConfig('[frontend.f]\nbind = [{ address = ":1", crt = ["nope.pem"] }]\n', {
    file: "/nonexistent-dir/halb.toml",
  });
  assert.equal(r.config, null);
  assert.ok(
    r.diagnostics.some((d) => d.message === 'cannot read certificate "nope.pem": no such file'),
  );
});

Deno.test("loadConfig: unreadable file", () => {
  const r = loadConfig("/nonexistent-dir/halb.toml");
  assert.equal(r.config, null);
  assert.deepEqual(r.diagnostics, [{
    severity: "error",
    file: "/nonexistent-dir/halb.toml",
    line: 0,
    column: 0,
    path: "",
    message: "cannot read file: no such file",
  }]);
});

Deno.test("SCHEMA describes every section the validator reads", () => {
  for (const section of ["", "global", "vrrp.instance[]", "frontend.*", "backend.*", "server"]) {
    assert.ok(SCHEMA[section] !== undefined, section);
  }
  for (const [name, keys] of Object.entries(SCHEMA)) {
    for (const [key, spec] of Object.entries(keys)) {
      if (spec.section !== undefined) {
        assert.ok(SCHEMA[spec.section] !== undefined, `${name}.${key} → ${spec.section}`);
      }
    }
  }
  assert.equal(SCHEMA["vrrp.instance[]"].priority.default, 100);
  assert.equal(SCHEMA.server.inter.default, "2s");
});

Deno.test("bad input never throws: random documents over the schema's keys", () => {
  const keys = [...new Set(Object.values(SCHEMA).flatMap((s) => Object.keys(s)))];
  const scalar = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom("1s", "10ms", ":80", "10.0.0.1:80", "{ ssl_fc }", "%[path]", "MASTER", "http"),
    fc.integer({ min: -300, max: 70_000 }),
    fc.boolean(),
  );
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      scalar,
      fc.array(tie("value"), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom(...keys), tie("value"), { maxKeys: 4 }),
    ),
  }));
  const doc = fc.dictionary(
    fc.constantFrom("global", "admin", "vrrp", "defaults", "frontend", "backend"),
    fc.dictionary(fc.constantFrom(...keys, "x", "main"), value, { maxKeys: 5 }),
    { maxKeys: 4 },
  );
  fc.assert(
    fc.property(doc, (d) => {
      const r = compile(stringify(d));
      assert.equal(r.config === null, r.diagnostics.some((x) => x.severity === "error"));
    }),
    { numRuns: 300 },
  );
});

Deno.test("bad input never throws: arbitrary text", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => {
      const r = compile(text);
      assert.equal(r.config === null, r.diagnostics.some((x) => x.severity === "error"));
    }),
    { numRuns: 300 },
  );
});
