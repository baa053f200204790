import assert from "node:assert/strict";
import { systemProbe } from "./probe.ts";

const linux = Deno.build.os === "linux";

Deno.test({
  name: "systemProbe looks at this machine",
  ignore: !linux,
  fn() {
    const p = systemProbe();
    assert.equal(p.interfaceExists("lo"), true);
    assert.equal(p.interfaceExists("no-such-if0"), false);
    assert.equal(p.userExists("root"), true);
    assert.equal(p.userExists("no-such-user-halb"), false);
    assert.equal(p.groupExists("root"), true);
    assert.equal(p.executableExists("sh"), true);
    assert.equal(p.executableExists("/bin/sh"), true);
    assert.equal(p.executableExists("/etc/passwd"), false);
    assert.equal(p.executableExists("no-such-command-halb"), false);
    assert.ok(p.hostname().length > 0);
  },
});
