import assert from "node:assert/strict";
import { TomlLocator } from "./locate.ts";

const TEXT = `[global]
maxconn = 10

[[vrrp.instance]]
name = "a"

[[vrrp.instance]]
name = "b"
authentication = { type = "PASS", password = "x" }
virtual_ipaddress = ["10.0.0.1/24", "10.0.0.2/24"]

[frontend."my fe"]
acl.is_api = "path_beg /api"
`;

Deno.test("TomlLocator finds keys and values (1-based columns)", () => {
  const loc = new TomlLocator(TEXT);
  assert.deepEqual(loc.locate(["global", "maxconn"], "key"), { line: 2, column: 1 });
  assert.deepEqual(loc.locate(["global", "maxconn"], "value"), { line: 2, column: 11 });
  assert.deepEqual(loc.locate(["vrrp", "instance", 1, "name"], "value"), { line: 8, column: 8 });
  assert.deepEqual(
    loc.locate(["vrrp", "instance", 1, "authentication", "password"], "value"),
    { line: 9, column: 46 },
  );
  assert.deepEqual(
    loc.locate(["vrrp", "instance", 1, "virtual_ipaddress", 1], "value"),
    { line: 10, column: 37 },
  );
  assert.deepEqual(loc.locate(["frontend", "my fe", "acl", "is_api"], "key"), {
    line: 13,
    column: 5,
  });
  assert.deepEqual(loc.locate(["frontend", "my fe"], "key"), { line: 12, column: 11 });
});

Deno.test("TomlLocator falls back to the nearest ancestor, then 1:1", () => {
  const loc = new TomlLocator(TEXT);
  assert.deepEqual(loc.locate(["vrrp", "instance", 0, "interface"], "value"), {
    line: 4,
    column: 1,
  });
  assert.deepEqual(loc.locate(["nothing"], "key"), { line: 1, column: 1 });
  assert.deepEqual(new TomlLocator("a = [").locate(["a"], "key"), { line: 1, column: 1 });
});
