/**
 * VRRP features end to end in network namespaces (root only; skipped visibly without root, `ip`
 * or keepalived): sync groups, `track_interface`, `track_proxy` (through `halb run`),
 * `preempt_delay` and a keepalived `nopreempt` backup against halb (the interop matrix covers
 * halb's own `nopreempt`). Failover times side by side with keepalived: tests/vrrp_failover_test.ts.
 * After each transition the test checks with netlink that exactly one node holds each VIP.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { VrrpConfig, VrrpInstanceConfig, VrrpScriptConfig } from "../src/config/types.ts";
import { instanceConfig } from "../src/vrrp/testdata/instance_config.ts";
import { bracket, keepalivedLab, must, type Proc, vip4, VrrpHarness } from "./helpers/netns.ts";

const { ignore, prefix: PREFIX } = keepalivedLab();
const DENO = Deno.execPath();
const RUNNER = new URL("./testdata/vrrp/run_vrrp.ts", import.meta.url).pathname;
const MAIN = new URL("../main.ts", import.meta.url).pathname;
/** Polling step (20 ms) plus scheduling noise on a shared 2-core machine. */
const SLACK_MS = 60;

const h = new VrrpHarness(2);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function vrrpConfig(
  instances: VrrpInstanceConfig[],
  more: Partial<VrrpConfig> = {},
): VrrpConfig {
  return {
    routerId: "halb",
    mcastGroup4: "224.0.0.18",
    mcastGroup6: "ff02::12",
    scriptUser: null,
    scripts: [],
    instances,
    syncGroups: [],
    ...more,
  };
}

/** A v3 IPv4 instance with 100 ms adverts (the fast timers keep the file short). */
function fast(over: Partial<VrrpInstanceConfig>): VrrpInstanceConfig {
  return instanceConfig({ advertInt: 100, garpMasterDelay: 0, ...over });
}

/** A script that fails while `file` exists (no shell). */
function failWhenExists(name: string, file: string, weight: number): VrrpScriptConfig {
  return {
    name,
    script: `test ! -e ${file}`,
    argv: ["test", "!", "-e", file],
    shell: false,
    interval: 100,
    timeout: 1000,
    weight,
    fall: 1,
    rise: 1,
    user: null,
  };
}

const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: `${PREFIX}sync group: one member's FAULT drags the other; both VIPs move and come back`,
  ...opts,
  fn: () =>
    h.scenario(async (lab) => {
      const [n1, n2] = lab.nodes;
      const [vipA, vipB] = ["192.0.2.121", "192.0.2.122"];
      const failFile = `${h.dir}/sg-fail`;
      const halb = await h.startHalb(
        "sg-halb",
        n1,
        vrrpConfig([
          fast({
            name: "VI_A",
            priority: 150,
            virtualRouterId: 81,
            virtualIpaddress: vip4(vipA),
            trackScript: [{ name: "chk", weight: 0 }],
          }),
          fast({ name: "VI_B", priority: 150, virtualRouterId: 82, virtualIpaddress: vip4(vipB) }),
        ], {
          scripts: [failWhenExists("chk", failFile, 0)],
          syncGroups: [{ name: "G1", instances: ["VI_A", "VI_B"] }],
        }),
      );
      await h.startKeepalived("sg-ka", n2, [
        { name: "VI_A", state: "BACKUP", priority: 100, vrid: 81, vip: vipA },
        { name: "VI_B", state: "BACKUP", priority: 100, vrid: 82, vip: vipB },
      ]);
      await h.vipOn(vipA, n1, 8000);
      await h.vipOn(vipB, n1, 8000);
      await sleep(400);
      await h.exactlyOne(vipA, n1);
      await h.exactlyOne(vipB, n1);

      // Only VI_A tracks the script; the group puts VI_B in FAULT as well.
      await Deno.writeTextFile(failFile, "");
      const t0 = performance.now();
      await h.vipOn(vipA, n2, 8000);
      await h.vipOn(vipB, n2, 8000);
      console.log(
        `  sync group FAULT → both VIPs on keepalived after ${
          (performance.now() - t0).toFixed(0)
        } ms`,
      );
      await halb.waitLine(/\(VI_B\) Entering FAULT STATE/, 500);

      await Deno.remove(failFile);
      await h.vipOn(vipA, n1, 8000);
      await h.vipOn(vipB, n1, 8000);
      await sleep(300);
      await h.exactlyOne(vipA, n1);
      await h.exactlyOne(vipB, n1);
    }),
});

Deno.test({
  name: `${PREFIX}sync group: one member going BACKUP drags the other despite its higher priority`,
  ...opts,
  fn: () =>
    h.scenario(async (lab) => {
      const [n1, n2] = lab.nodes;
      const [vipA, vipB] = ["192.0.2.123", "192.0.2.124"];
      // n1: VI_A 150 and VI_B 150 (nopreempt, so it stays BACKUP once dragged there) in a group.
      const h1 = await h.startHalb(
        "sgb-h1",
        n1,
        vrrpConfig([
          fast({ name: "VI_A", priority: 150, virtualRouterId: 83, virtualIpaddress: vip4(vipA) }),
          fast({
            name: "VI_B",
            priority: 150,
            preempt: false,
            virtualRouterId: 84,
            virtualIpaddress: vip4(vipB),
          }),
        ], { syncGroups: [{ name: "G1", instances: ["VI_A", "VI_B"] }] }),
      );
      await h.vipOn(vipA, n1, 8000);
      await h.vipOn(vipB, n1, 8000);
      // n2 (no group): VI_A 200 preempts n1's VI_A; VI_B 100 only takes over once n1 drops it.
      const h2 = await h.startHalb(
        "sgb-h2",
        n2,
        vrrpConfig([
          fast({ name: "VI_A", priority: 200, virtualRouterId: 83, virtualIpaddress: vip4(vipA) }),
          fast({ name: "VI_B", priority: 100, virtualRouterId: 84, virtualIpaddress: vip4(vipB) }),
        ]),
      );
      await h.vipOn(vipA, n2, 8000);
      await h.vipOn(vipB, n2, 8000);
      await h1.waitLine(/\(VI_B\) Entering BACKUP STATE \(sync group\)/, 500);
      await sleep(1000);
      await h.exactlyOne(vipA, n2);
      await h.exactlyOne(vipB, n2);
      assert.equal(
        h1.lines.filter((l) => /\(VI_B\) Entering MASTER STATE/.test(l)).length,
        1,
        "VI_B on n1 stays BACKUP after the drag (no flapping)",
      );
      assert.ok(h2.lines.some((l) => /\(VI_B\) Entering MASTER STATE/.test(l)));
    }),
});

Deno.test({
  name: `${PREFIX}track_interface: weight -60 drops the priority, weight 0 means FAULT; up → back`,
  ...opts,
  fn: () =>
    h.scenario(async (lab) => {
      const [n1, n2] = lab.nodes;
      const vip = "192.0.2.125";
      for (const dev of ["trka", "trkb"]) {
        await must(["ip", "-n", n1, "link", "add", dev, "type", "veth", "peer", "name", `${dev}p`]);
        await must(["ip", "-n", n1, "link", "set", `${dev}p`, "up"]);
        await must(["ip", "-n", n1, "link", "set", dev, "up"]);
      }
      const halb = await h.startHalb(
        "ti-halb",
        n1,
        vrrpConfig([fast({
          priority: 150,
          virtualRouterId: 85,
          virtualIpaddress: vip4(vip),
          trackInterface: [{ name: "trka", weight: -60 }, { name: "trkb", weight: 0 }],
        })]),
      );
      await h.startKeepalived("ti-ka", n2, [{ state: "BACKUP", priority: 100, vrid: 85, vip }]);
      await h.vipOn(vip, n1, 8000);
      await sleep(300);
      await h.exactlyOne(vip, n1);

      const cases: [string, RegExp][] = [
        ["trka", /Changing effective priority from 150 to 90/],
        ["trkb", /\(VI_1\) Entering FAULT STATE/],
      ];
      for (const [dev, expect] of cases) {
        await must(["ip", "-n", n1, "link", "set", dev, "down"]);
        const took = await h.vipOn(vip, n2, 8000);
        console.log(`  track_interface ${dev} down → VIP on keepalived after ${bracket(took)}`);
        await halb.waitLine(expect, 200);
        await must(["ip", "-n", n1, "link", "set", dev, "up"]);
        const t1 = performance.now();
        await h.vipOn(vip, n1, 8000);
        console.log(
          `  track_interface ${dev} up → VIP back on halb after ${
            (performance.now() - t1).toFixed(0)
          } ms`,
        );
        await sleep(300);
        await h.exactlyOne(vip, n1);
      }
    }),
});

function trackProxyToml(vip: string, ports: { fe: number; be: number }): string {
  return `[global]
log = "stdout"
grace = "500ms"

[vrrp]
router_id = "tp"

[[vrrp.instance]]
name = "VI_1"
state = "BACKUP"
interface = "eth0"
virtual_router_id = 86
priority = 150
advert_int = "100ms"
version = 3
garp_master_delay = "0s"
virtual_ipaddress = ["${vip}/24"]
track_proxy = { frontends = ["fe"], weight = -60 }

[defaults]
mode = "tcp"

[defaults.timeout]
connect = "500ms"
client = "5s"
server = "5s"

[frontend.fe]
bind = ["127.0.0.1:${ports.fe}"]
default_backend = "be"

[backend.be]
server = [{ name = "s1", address = "127.0.0.1:${ports.be}", check = true, inter = "200ms", rise = 1, fall = 1 }]
`;
}

/** A TCP server in `ns` that accepts and closes connections. */
async function startTcpServer(name: string, ns: string, port: number): Promise<Proc> {
  const code = `const l = Deno.listen({ hostname: "127.0.0.1", port: ${port} });` +
    `console.log("LISTENING"); for await (const c of l) c.close();`;
  const p = h.spawn(name, ns, [DENO, "eval", code]);
  await p.waitLine(/^LISTENING$/, 15_000);
  return p;
}

Deno.test({
  name:
    `${PREFIX}track_proxy: backend's only server down by health check → peer takes the VIP; up → back`,
  ...opts,
  fn: () =>
    h.scenario(async (lab) => {
      const [n1, n2] = lab.nodes;
      const vip = "192.0.2.126";
      const ports = { fe: 18081, be: 18082 };
      const file = `${h.dir}/tp.toml`;
      await Deno.writeTextFile(file, trackProxyToml(vip, ports));
      let server = await startTcpServer("tp-server", n1, ports.be);
      const halb = h.spawn("tp-halb", n1, [DENO, "run", "--allow-all", MAIN, "run", "-c", file]);
      await halb.waitLine(/halb started with/, 20_000);
      await h.startKeepalived("tp-ka", n2, [{ state: "BACKUP", priority: 100, vrid: 86, vip }]);
      await h.vipOn(vip, n1, 5000);
      await sleep(300);
      await h.exactlyOne(vip, n1);

      await server.stop();
      const t0 = performance.now();
      await h.vipOn(vip, n2, 4000);
      console.log(
        `  track_proxy: server down → VIP on keepalived after ${
          (performance.now() - t0).toFixed(0)
        } ms`,
      );
      await halb.waitLine(/\(VI_1\) track_proxy fe down/, 200);
      await halb.waitLine(/Changing effective priority from 150 to 90/, 200);

      server = await startTcpServer("tp-server2", n1, ports.be);
      const t1 = performance.now();
      await h.vipOn(vip, n1, 4000);
      console.log(
        `  track_proxy: server up → VIP back on halb after ${
          (performance.now() - t1).toFixed(0)
        } ms`,
      );
      await halb.waitLine(/\(VI_1\) track_proxy fe up/, 200);
      await sleep(300);
      await h.exactlyOne(vip, n1);
    }),
});

Deno.test({
  name: `${PREFIX}preempt_delay 1s: halb 150 waits before preempting keepalived 100`,
  ...opts,
  fn: () =>
    h.scenario(async (lab) => {
      const [n1, n2] = lab.nodes;
      const vip = "192.0.2.127";
      await h.startKeepalived("pd-ka", n2, [{ state: "BACKUP", priority: 100, vrid: 87, vip }]);
      await h.vipOn(vip, n2, 8000);
      const halb = h.spawn("pd-halb", n1, [DENO, "run", "--allow-all", RUNNER, `${h.dir}/pd.json`]);
      await Deno.writeTextFile(
        `${h.dir}/pd.json`,
        JSON.stringify(vrrpConfig([fast({
          priority: 150,
          preemptDelay: 1000,
          virtualRouterId: 87,
          virtualIpaddress: vip4(vip),
        })])),
      );
      await halb.waitLine(/READY/, 20_000);
      const took = await h.vipOn(vip, n1, 4000);
      // Preemption once the delay is over, then the down timer (3 × 100 ms + skew 41 ms).
      console.log(
        `  preempt_delay: VIP on halb ${bracket(took)} after start (delay 1000 + MDI 341)`,
      );
      assert.ok(took.latest >= 950, `preempted after ${bracket(took)}, before the delay`);
      assert.ok(took.earliest <= 1000 + 341 + 100 + SLACK_MS * 3, `preempted ${bracket(took)}`);
      await sleep(300);
      await h.exactlyOne(vip, n1);
    }),
});

Deno.test({
  name: `${PREFIX}nopreempt on keepalived: keepalived BACKUP 150 nopreempt leaves halb 100 master`,
  ...opts,
  fn: () =>
    h.scenario(async (lab) => {
      const [n1, n2] = lab.nodes;
      const vip = "192.0.2.128";
      const halb = await h.startHalb(
        "np-halb",
        n1,
        vrrpConfig([fast({ priority: 100, virtualRouterId: 88, virtualIpaddress: vip4(vip) })]),
      );
      await h.vipOn(vip, n1, 8000);
      const ka = await h.startKeepalived("np-ka", n2, [
        { state: "BACKUP", priority: 150, vrid: 88, vip, extra: "nopreempt" },
      ]);
      await sleep(1500);
      await h.exactlyOne(vip, n1);
      assert.ok(!ka.lines.some((l) => /Entering MASTER/.test(l)), "keepalived did not preempt");
      const start = performance.now();
      halb.signal("SIGTERM");
      const took = await h.vipOn(vip, n2, 8000, start);
      console.log(`  nopreempt: SIGTERM halb → keepalived after ${bracket(took)} (skew 41)`);
      assert.ok(took.earliest <= 41 + 100 + SLACK_MS, `took ${bracket(took)}`);
    }),
});

Deno.test({
  name: `${PREFIX}cleanup: namespaces removed`,
  ...opts,
  fn: () => h.close(),
});
