import assert from "node:assert/strict";
import type { VrrpScriptConfig } from "../config/types.ts";
import { createLogger, memorySink } from "../log/logger.ts";
import {
  initialScriptState,
  scriptArgv,
  scriptResult,
  ScriptTracker,
  trackOutcome,
} from "./track_script.ts";

function script(over: Partial<VrrpScriptConfig> = {}): VrrpScriptConfig {
  return {
    name: "chk",
    script: "/bin/true",
    argv: ["/bin/true"],
    shell: false,
    interval: 50,
    timeout: 1000,
    weight: 0,
    fall: 1,
    rise: 1,
    user: null,
    ...over,
  };
}

Deno.test("scriptResult applies rise and fall", () => {
  const cfg = { rise: 2, fall: 3 };
  let s = initialScriptState(cfg);
  const seen: boolean[] = [];
  for (const r of [true, false, false, true, false, false, false, true, true]) {
    s = scriptResult(s, r, cfg);
    seen.push(s.ok);
  }
  // one success away from OK at first; then 3 failures in a row needed, then 2 successes
  assert.deepEqual(seen, [true, true, true, true, true, true, false, false, true]);
});

Deno.test("trackOutcome: weight 0 faults, positive adds while OK, negative subtracts while KO", () => {
  const table: [Parameters<typeof trackOutcome>[0], { delta: number; fault: boolean }][] = [
    [[], { delta: 0, fault: false }],
    [[{ ok: true, weight: 0 }], { delta: 0, fault: false }],
    [[{ ok: false, weight: 0 }], { delta: 0, fault: true }],
    [[{ ok: true, weight: 20 }, { ok: false, weight: 20 }], { delta: 20, fault: false }],
    [[{ ok: false, weight: -60 }, { ok: true, weight: -10 }], { delta: -60, fault: false }],
  ];
  for (const [items, want] of table) assert.deepEqual(trackOutcome(items), want);
});

Deno.test("scriptArgv wraps shell and user", () => {
  assert.deepEqual(scriptArgv(script({ shell: true, script: "a | b" }), false), [
    "/bin/sh",
    "-c",
    "a | b",
  ]);
  assert.deepEqual(scriptArgv(script({ user: "nobody" }), true), [
    "runuser",
    "-u",
    "nobody",
    "--",
    "/bin/true",
  ]);
  assert.equal(scriptArgv(script({ user: "nobody" }), false), null);
});

Deno.test({
  name: "ScriptTracker: a script user applies while root, halb's own user after the switch",
  ignore: Deno.uid() !== 0,
  async fn() {
    const dir = await Deno.makeTempDir();
    await Deno.chmod(dir, 0o777);
    const out = `${dir}/uids`;
    let calls = 0;
    const sink = memorySink();
    const { promise: ran, resolve } = Promise.withResolvers<void>();
    const t = new ScriptTracker(
      script({ shell: true, script: `id -u >> ${out}`, user: "nobody", interval: 20 }),
      {
        logger: createLogger({ sink, level: "debug" }),
        onChange: () => {},
        // Root for start()'s check and the first run; then [global] user has switched.
        isRoot: () => {
          if (++calls === 3) resolve();
          return calls <= 2;
        },
      },
    );
    t.start();
    await ran;
    await new Promise((r) => setTimeout(r, 200));
    await t.stop();
    const uids = (await Deno.readTextFile(out)).trim().split("\n");
    await Deno.remove(dir, { recursive: true });
    assert.deepEqual(uids.slice(0, 2), ["65534", "0"]);
    assert.deepEqual(sink.lines, []);
  },
});

async function changes(cfg: VrrpScriptConfig, count: number): Promise<boolean[]> {
  const seen: boolean[] = [];
  const sink = memorySink();
  let resolve!: () => void;
  const done = new Promise<void>((r) => resolve = r);
  const t = new ScriptTracker(cfg, {
    logger: createLogger({ sink, level: "debug" }),
    onChange: (ok) => {
      seen.push(ok);
      if (seen.length >= count) resolve();
    },
  });
  t.start();
  const guard = setTimeout(resolve, 5000);
  await done;
  clearTimeout(guard);
  await t.stop();
  return seen;
}

Deno.test("ScriptTracker reports a failing script", async () => {
  assert.deepEqual(await changes(script({ argv: ["/bin/false"] }), 1), [false]);
});

Deno.test("ScriptTracker counts a timeout as a failure (SIGTERM)", async () => {
  const started = performance.now();
  const seen = await changes(script({ argv: ["/bin/sleep", "5"], timeout: 100 }), 1);
  assert.deepEqual(seen, [false]);
  assert.ok(performance.now() - started < 2000);
});

Deno.test("ScriptTracker flips back when the script recovers", async () => {
  const flag = await Deno.makeTempFile();
  const cfg = script({ argv: ["/usr/bin/test", "!", "-e", flag] });
  const p = changes(cfg, 2);
  setTimeout(() => Deno.removeSync(flag), 300);
  assert.deepEqual(await p, [false, true]);
});
