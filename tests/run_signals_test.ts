/**
 * `halb run` owns its signals from the start: a SIGHUP that arrives while the first generation
 * is still starting neither kills the process (SIGHUP's default action) nor gets lost — it is
 * applied as a reload once halb is up. The child sends the signal to itself, so no other test
 * sees it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort } from "./helpers/backends.ts";

const CHILD = new URL("./testdata/run/early_sighup.ts", import.meta.url).pathname;

Deno.test("a SIGHUP during startup is kept and applied as a reload once started", async () => {
  const dir = await Deno.makeTempDir({ prefix: "halb-signals-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", CHILD, `${dir}/halb.toml`, `${freePort()}`, `${freePort()}`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.signal, null, `killed by ${out.signal}\n${err}`);
    assert.equal(out.code, 0, err);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), { second: true, code: 0 });
    assert.match(err, /reload done/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
