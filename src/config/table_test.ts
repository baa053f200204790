import assert from "node:assert/strict";
import { compile } from "./_testing.ts";

Deno.test("wrong TOML types name what was expected and found", () => {
  const { lines } = compile(`
[global]
maxconn = 1.5
log = 3
[admin]
bind = "127.0.0.1:1"
allow_changes = "yes"
auth = "a:b"
[vrrp]
instance = { name = "x" }
`);
  assert.deepEqual(lines, [
    "3:11: global.maxconn: expected an integer, found a float",
    "4:7: global.log: expected a string, found an integer",
    "7:17: admin.allow_changes: expected a boolean (true or false), found a string",
    "8:8: admin.auth: expected an array of strings, found a string",
    "10:12: vrrp.instance: expected an array of tables, found a table",
  ]);
});

Deno.test("unknown keys suggest the nearest valid key of that place", () => {
  const { lines } = compile(`
[[vrrp.instance]]
name = "a"
interface = "eth0"
virtual_router_id = 1
priorty = 100
[vrrp.script.s]
script = "/bin/true"
intervall = "1s"
[defaults]
timeout.conect = "1s"
`);
  assert.deepEqual(lines, [
    '6:1: vrrp.instance[0].priorty: unknown key "priorty" (did you mean "priority"?)',
    '9:1: vrrp.script.s.intervall: unknown key "intervall" (did you mean "interval"?)',
    '11:9: defaults.timeout.conect: unknown key "conect" (did you mean "connect"?)',
  ]);
});

Deno.test("a section that is not a table is reported", () => {
  assert.deepEqual(compile('global = "x"\nfrontend = 3\n').lines, [
    "1:10: global: expected a table, found a string",
    "2:12: frontend: expected a table, found an integer",
  ]);
});
