/**
 * `scripts/lab --quick` end to end (root only; skipped visibly otherwise): the two-node lab
 * prints the measured failover time within the protocol's bound, the client was served again,
 * and no namespace of the run is left behind.
 *
 * @module
 */
import assert from "node:assert/strict";

const LAB = new URL("../scripts/lab", import.meta.url).pathname;
const isRoot = Deno.uid() === 0;
const haveIp = ["/usr/sbin/ip", "/usr/bin/ip", "/sbin/ip"].some((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
const ignore = !isRoot || !haveIp;
const PREFIX = ignore ? `[SKIPPED: ${!isRoot ? "not root" : "no ip(8)"}] ` : "";
/** Master_Down_Interval of the lab's backup (VRRPv3, 1 s adverts, priority 100). */
const MDI_MS = 3609;

Deno.test({
  name: `${PREFIX}scripts/lab --quick prints the failover time and removes its namespaces`,
  ignore,
  async fn() {
    const child = new Deno.Command(LAB, {
      args: ["--quick"],
      env: { HALB_DENO: Deno.execPath(), NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const killer = setTimeout(() => child.kill("SIGTERM"), 75_000);
    const out = await child.output();
    clearTimeout(killer);
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    const id = /lab id: (hlab[0-9a-f]+)/.exec(text)?.[1];
    assert.ok(id, `no lab id in:\n${text}`);
    const left = new TextDecoder().decode(
      (await new Deno.Command("ip", { args: ["netns", "list"] }).output()).stdout,
    ).split("\n").filter((l) => l.startsWith(`${id}-`));
    assert.deepEqual(left, [], "namespaces left behind");
    assert.equal(out.code, 0, text);
    const m =
      /failover \(SIGKILL master\): backup owns the VIP after (\d+) ms; client served again after (\d+) ms/
        .exec(text);
    assert.ok(m, `no failover line in:\n${text}`);
    const [vipMs, servedMs] = [Number(m[1]), Number(m[2])];
    console.log(`  ${m[0]}`);
    assert.ok(vipMs > 0 && vipMs <= MDI_MS + 100 + 60, `VIP after ${vipMs} ms`);
    assert.ok(servedMs <= vipMs + 1000, `client served again after ${servedMs} ms`);
    assert.match(text, /cleaned up: 6 namespaces removed/);
  },
});
