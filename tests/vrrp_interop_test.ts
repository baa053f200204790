/**
 * VRRP interop: halb's VRRP driver against keepalived 2.2.7 (and against itself) in network
 * namespaces joined by a bridge. Root only; skipped visibly without root, `ip` or keepalived.
 * Failover times are measured from the signal to the VIP appearing on the other node, printed,
 * and checked against the RFC timers (+100 ms, plus the 20 ms polling step).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { VrrpConfig, VrrpInstanceConfig } from "../src/config/types.ts";
import { instanceConfig } from "../src/vrrp/testdata/instance_config.ts";
import {
  bracket,
  createLab,
  holders,
  KEEPALIVED,
  keepalivedLab,
  type Lab,
  pollUntil,
  Proc,
  vip4,
  waitFor,
} from "./helpers/netns.ts";

const { ignore, prefix: PREFIX } = keepalivedLab();
const DENO = Deno.execPath();
const RUNNER = new URL("./testdata/vrrp/run_vrrp.ts", import.meta.url).pathname;
const SENDER = new URL("./testdata/vrrp/send_malformed.ts", import.meta.url).pathname;
/** Beyond the protocol's own time: the signal's delivery and one advert's trip. */
const SLACK_MS = 100;

let lab: Lab | null = null;
let dir = "";
const procs: Proc[] = [];

async function setup(): Promise<Lab> {
  if (!lab) {
    lab = await createLab(3);
    dir = await Deno.makeTempDir({ prefix: "halb-vrrp-" });
  }
  return lab;
}

async function stopAll(): Promise<void> {
  for (const p of procs.splice(0)) {
    await p.stop();
    await killVrrpChild(p);
  }
}

/** keepalived forks a VRRP child even with -n; stop it by its pid file if it outlived the parent. */
async function killVrrpChild(p: Proc): Promise<void> {
  const file = `${dir}/${p.name}.vrrp.pid`;
  let pid = 0;
  try {
    pid = Number((await Deno.readTextFile(file)).trim());
  } catch {
    return;
  }
  if (pid > 0) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

function vrrpConfig(instances: VrrpInstanceConfig[]): VrrpConfig {
  return {
    routerId: "halb",
    mcastGroup4: "224.0.0.18",
    mcastGroup6: "ff02::12",
    scriptUser: null,
    scripts: [],
    instances,
    syncGroups: [],
  };
}

async function startHalb(name: string, ns: string, config: VrrpConfig): Promise<Proc> {
  const file = `${dir}/${name}.json`;
  await Deno.writeTextFile(file, JSON.stringify(config));
  const p = new Proc(name, ns, [DENO, "run", "--allow-all", RUNNER, file]);
  procs.push(p);
  await p.waitLine(/READY|error/i, 20_000);
  return p;
}

async function startKa(name: string, ns: string, conf: string): Promise<Proc> {
  const file = `${dir}/${name}.conf`;
  await Deno.writeTextFile(file, conf);
  const p = new Proc(name, ns, [
    KEEPALIVED,
    "-n",
    "-l",
    "-D",
    "-P",
    "-R",
    "-f",
    file,
    "-p",
    `${dir}/${name}.pid`,
    "-r",
    `${dir}/${name}.vrrp.pid`,
  ]);
  procs.push(p);
  await p.waitLine(/Entering BACKUP STATE|Entering MASTER STATE/, 10_000);
  return p;
}

interface KaInstance {
  readonly state: "MASTER" | "BACKUP";
  readonly priority: number;
  readonly vrid: number;
  readonly vip: string;
  readonly version?: 2 | 3;
  readonly advertInt?: string;
  readonly auth?: string;
  readonly extra?: string;
}

function kaConf(name: string, i: KaInstance): string {
  return `global_defs {
  router_id ${name}
  vrrp_garp_master_delay 0
}
vrrp_instance VI_1 {
  state ${i.state}
  interface eth0
  virtual_router_id ${i.vrid}
  priority ${i.priority}
  advert_int ${i.advertInt ?? "1"}
  version ${i.version ?? 2}
  ${i.auth ?? ""}
  ${i.extra ?? ""}
  virtual_ipaddress {
    ${i.vip} dev eth0
  }
}
`;
}

async function exactlyOne(nodes: readonly string[], vip: string, expected: string): Promise<void> {
  const h = await holders(nodes, vip);
  assert.deepEqual(h, [expected], `VIP ${vip} holders ${h.join(",")} (want ${expected})`);
}

function dumpOnFailure(err: unknown): never {
  for (const p of procs) console.error(`--- ${p.name}\n${p.lines.slice(-40).join("\n")}`);
  throw err;
}

async function scenario(fn: () => Promise<void>): Promise<void> {
  await setup();
  try {
    await fn();
  } catch (err) {
    dumpOnFailure(err);
  } finally {
    await stopAll();
  }
}

Deno.test({
  name: `${PREFIX}(a) v2 PASS: halb MASTER 150 + keepalived BACKUP 100; SIGKILL halb → keepalived`,
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    scenario(async () => {
      const [n1, n2] = lab!.nodes;
      const vip = "192.0.2.101";
      const auth = { type: "PASS" as const, password: "secret12" };
      const halbCfg = vrrpConfig([instanceConfig({
        version: 2,
        priority: 150,
        virtualRouterId: 61,
        authentication: auth,
        virtualIpaddress: vip4(vip),
      })]);
      const halb = await startHalb("a-halb", n1, halbCfg);
      const ka = await startKa(
        "a-ka",
        n2,
        kaConf("a-ka", {
          state: "BACKUP",
          priority: 100,
          vrid: 61,
          vip: `${vip}/24`,
          auth: "authentication {\n    auth_type PASS\n    auth_pass secret12\n  }",
        }),
      );
      await halb.waitLine(/\(VI_1\) Entering MASTER STATE/, 6000);
      await waitFor(() => holders([n1], vip).then((h) => h.length === 1), {
        timeoutMs: 2000,
        what: "VIP on halb",
      });
      await new Promise((r) => setTimeout(r, 1500));
      await exactlyOne([n1, n2], vip, n1);
      assert.ok(!ka.lines.some((l) => /Entering MASTER/.test(l)), "keepalived stayed BACKUP");

      const start = performance.now();
      halb.signal("SIGKILL");
      const took = await pollUntil(() => holders([n2], vip).then((h) => h.length === 1), start, {
        timeoutMs: 6000,
        what: "VIP on keepalived",
      });
      console.log(`  (a) SIGKILL halb → VIP on keepalived after ${bracket(took)} (MDI 3609)`);
      assert.ok(took.earliest <= 3609 + SLACK_MS, `failover took ${bracket(took)}`);
      // SIGKILL leaves the VIP on the dead node (as keepalived); a restart removes it first.
      const restarted = await startHalb("a-halb2", n1, halbCfg);
      await restarted.waitLine(/\(VI_1\) removing VIPs\./, 2000);
      await restarted.waitLine(/\(VI_1\) Entering MASTER STATE/, 6000);
      await waitFor(() => holders([n1, n2], vip).then((h) => h.length === 1 && h[0] === n1), {
        timeoutMs: 2000,
        what: "VIP back on halb only",
      });
    }),
});

Deno.test({
  name: `${PREFIX}(b) v2: keepalived MASTER 150 + halb BACKUP 100; SIGTERM keepalived → halb`,
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    scenario(async () => {
      const [n1, n2] = lab!.nodes;
      const vip = "192.0.2.102";
      const ka = await startKa(
        "b-ka",
        n2,
        kaConf("b-ka", { state: "MASTER", priority: 150, vrid: 62, vip: `${vip}/24` }),
      );
      const halb = await startHalb(
        "b-halb",
        n1,
        vrrpConfig([instanceConfig({
          version: 2,
          priority: 100,
          virtualRouterId: 62,
          virtualIpaddress: vip4(vip),
        })]),
      );
      await ka.waitLine(/Entering MASTER STATE/, 6000);
      await waitFor(() => holders([n2], vip).then((h) => h.length === 1), {
        timeoutMs: 2000,
        what: "VIP on keepalived",
      });
      await new Promise((r) => setTimeout(r, 1500));
      await exactlyOne([n1, n2], vip, n2);
      assert.ok(!halb.lines.some((l) => /Entering MASTER/.test(l)), "halb stayed BACKUP");
      const start = performance.now();
      ka.signal("SIGTERM");
      const took = await pollUntil(() => holders([n1], vip).then((h) => h.length === 1), start, {
        timeoutMs: 3000,
        what: "VIP on halb",
      });
      console.log(`  (b) SIGTERM keepalived → VIP on halb after ${bracket(took)} (skew 609)`);
      assert.ok(took.earliest <= 609 + SLACK_MS, `failover took ${bracket(took)}`);
      await ka.wait();
      await exactlyOne([n1, n2], vip, n1);
      await halb.waitLine(/Backup received priority 0 advertisement/, 1000);
    }),
});

interface TermCase {
  readonly label: string;
  readonly vip: string;
  readonly halb: Partial<VrrpInstanceConfig>;
  readonly ka: Omit<KaInstance, "state" | "priority">;
  /** Skew_Time of the priority-100 backup in ms. */
  readonly skewMs: number;
  /** Time to let the pair settle after halb became master. */
  readonly settleMs: number;
}

/** halb MASTER 150 + keepalived BACKUP 100; SIGTERM halb → keepalived within Skew_Time. */
async function halbMasterThenTerm(c: TermCase): Promise<void> {
  const [n1, n2] = lab!.nodes;
  const halb = await startHalb(
    `${c.label}-halb`,
    n1,
    vrrpConfig([instanceConfig({ priority: 150, ...c.halb })]),
  );
  const ka = await startKa(
    `${c.label}-ka`,
    n2,
    kaConf(`${c.label}-ka`, { state: "BACKUP", priority: 100, ...c.ka }),
  );
  await halb.waitLine(/\(VI_1\) Entering MASTER STATE/, 6000);
  await waitFor(() => holders([n1], c.vip).then((h) => h.length === 1), {
    timeoutMs: 2000,
    what: "VIP on halb",
  });
  await new Promise((r) => setTimeout(r, c.settleMs));
  await exactlyOne([n1, n2], c.vip, n1);
  assert.ok(!ka.lines.some((l) => /Entering MASTER/.test(l)), "keepalived stayed BACKUP");
  const start = performance.now();
  halb.signal("SIGTERM");
  const took = await pollUntil(() => holders([n2], c.vip).then((h) => h.length === 1), start, {
    timeoutMs: 3000,
    what: "VIP on keepalived",
  });
  console.log(
    `  (${c.label}) SIGTERM halb → VIP on keepalived after ${bracket(took)} (skew ${c.skewMs})`,
  );
  assert.ok(took.earliest <= c.skewMs + SLACK_MS, `failover took ${bracket(took)}`);
  await halb.wait();
  assert.ok(halb.lines.some((l) => /\(VI_1\) sent 0 priority/.test(l)), "priority 0 sent");
  await exactlyOne([n1, n2], c.vip, n2);
}

Deno.test({
  name: `${PREFIX}(c) v3 IPv4 A=100ms: halb MASTER → SIGTERM → keepalived`,
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    scenario(() =>
      halbMasterThenTerm({
        label: "c",
        vip: "192.0.2.103",
        halb: {
          version: 3,
          advertInt: 100,
          virtualRouterId: 63,
          virtualIpaddress: vip4("192.0.2.103"),
        },
        ka: { vrid: 63, version: 3, advertInt: "0.1", vip: "192.0.2.103/24" },
        skewMs: 61,
        settleMs: 500,
      })
    ),
});

Deno.test({
  name: `${PREFIX}(d) v3 IPv6 A=100ms: halb MASTER → SIGTERM → keepalived`,
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    scenario(() =>
      halbMasterThenTerm({
        label: "d",
        vip: "2001:db8::104",
        halb: {
          version: 3,
          family: 6,
          advertInt: 100,
          virtualRouterId: 64,
          virtualIpaddress: [{
            address: "2001:db8::104",
            prefix: 64,
            family: 6,
            dev: null,
            label: null,
            text: "2001:db8::104/64",
          }],
        },
        ka: { vrid: 64, version: 3, advertInt: "0.1", vip: "2001:db8::104/64" },
        skewMs: 61,
        settleMs: 500,
      })
    ),
});

Deno.test({
  name: `${PREFIX}(e) v2 AH: halb MASTER → SIGTERM → keepalived`,
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    scenario(() =>
      halbMasterThenTerm({
        label: "e",
        vip: "192.0.2.105",
        halb: {
          version: 2,
          virtualRouterId: 65,
          authentication: { type: "AH", password: "secret12" },
          virtualIpaddress: vip4("192.0.2.105"),
        },
        ka: {
          vrid: 65,
          vip: "192.0.2.105/24",
          auth: "authentication {\n    auth_type AH\n    auth_pass secret12\n  }",
        },
        skewMs: 609,
        settleMs: 2500,
      })
    ),
});

Deno.test({
  name: `${PREFIX}(f) v3 unicast A=100ms: halb MASTER → SIGTERM → keepalived`,
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    scenario(() =>
      halbMasterThenTerm({
        label: "f",
        vip: "192.0.2.106",
        halb: {
          version: 3,
          advertInt: 100,
          virtualRouterId: 66,
          unicastSrcIp: "192.0.2.1",
          unicastPeer: ["192.0.2.2"],
          virtualIpaddress: vip4("192.0.2.106"),
        },
        ka: {
          vrid: 66,
          version: 3,
          advertInt: "0.1",
          vip: "192.0.2.106/24",
          extra: "unicast_src_ip 192.0.2.2\n  unicast_peer {\n    192.0.2.1\n  }",
        },
        skewMs: 61,
        settleMs: 500,
      })
    ),
});

Deno.test({
  name: `${PREFIX}(g) nopreempt: halb BACKUP 150 nopreempt does not take over keepalived 100`,
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    scenario(async () => {
      const [n1, n2] = lab!.nodes;
      const vip = "192.0.2.107";
      const ka = await startKa(
        "g-ka",
        n2,
        kaConf("g-ka", {
          state: "BACKUP",
          priority: 100,
          vrid: 67,
          version: 3,
          advertInt: "0.1",
          vip: `${vip}/24`,
        }),
      );
      await ka.waitLine(/Entering MASTER STATE/, 3000);
      const halb = await startHalb(
        "g-halb",
        n1,
        vrrpConfig([instanceConfig({
          priority: 150,
          preempt: false,
          advertInt: 100,
          virtualRouterId: 67,
          virtualIpaddress: vip4(vip),
        })]),
      );
      await new Promise((r) => setTimeout(r, 1500));
      await exactlyOne([n1, n2], vip, n2);
      assert.ok(!halb.lines.some((l) => /Entering MASTER/.test(l)), "halb did not preempt");
      ka.signal("SIGTERM");
      const t0 = performance.now();
      await waitFor(() => holders([n1], vip).then((h) => h.length === 1), {
        timeoutMs: 3000,
        what: "VIP on halb",
      });
      console.log(
        `  (g) SIGTERM keepalived → halb after ${(performance.now() - t0).toFixed(0)} ms`,
      );
      await ka.wait();
      await exactlyOne([n1, n2], vip, n1);
    }),
});

Deno.test({
  name: `${PREFIX}(h) track_script weight -60 failing moves the VIP from halb to keepalived`,
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    scenario(async () => {
      const [n1, n2] = lab!.nodes;
      const vip = "192.0.2.108";
      const failFile = `${dir}/h-fail`;
      const cfg: VrrpConfig = {
        ...vrrpConfig([instanceConfig({
          priority: 150,
          advertInt: 100,
          virtualRouterId: 68,
          virtualIpaddress: vip4(vip),
          trackScript: [{ name: "chk", weight: -60 }],
        })]),
        scripts: [{
          name: "chk",
          script: `test ! -e ${failFile}`,
          argv: ["test", "!", "-e", failFile],
          shell: false,
          interval: 200,
          timeout: 1000,
          weight: -60,
          fall: 1,
          rise: 1,
          user: null,
        }],
      };
      const halb = await startHalb("h-halb", n1, cfg);
      await startKa(
        "h-ka",
        n2,
        kaConf("h-ka", {
          state: "BACKUP",
          priority: 100,
          vrid: 68,
          version: 3,
          advertInt: "0.1",
          vip: `${vip}/24`,
        }),
      );
      await halb.waitLine(/\(VI_1\) Entering MASTER STATE/, 3000);
      await new Promise((r) => setTimeout(r, 500));
      await exactlyOne([n1, n2], vip, n1);
      await Deno.writeTextFile(failFile, "");
      const t0 = performance.now();
      await waitFor(() => holders([n1, n2], vip).then((h) => h.length === 1 && h[0] === n2), {
        timeoutMs: 3000,
        what: "VIP moved to keepalived",
      });
      console.log(
        `  (h) script failure → VIP on keepalived after ${(performance.now() - t0).toFixed(0)} ms`,
      );
      await halb.waitLine(/Changing effective priority from 150 to 90/, 100);
      await halb.waitLine(/\(VI_1\) Entering BACKUP STATE/, 1000);
    }),
});

Deno.test({
  name: `${PREFIX}(i) halb with halb: v3 A=100ms, SIGTERM the master`,
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    scenario(async () => {
      const [n1, n2] = lab!.nodes;
      const vip = "192.0.2.109";
      const base = { advertInt: 100, virtualRouterId: 69, virtualIpaddress: vip4(vip) };
      const h1 = await startHalb(
        "i-h1",
        n1,
        vrrpConfig([instanceConfig({ priority: 150, ...base })]),
      );
      const h2 = await startHalb(
        "i-h2",
        n2,
        vrrpConfig([instanceConfig({ priority: 100, ...base })]),
      );
      await h1.waitLine(/\(VI_1\) Entering MASTER STATE/, 3000);
      await new Promise((r) => setTimeout(r, 700));
      await exactlyOne([n1, n2], vip, n1);
      assert.ok(!h2.lines.some((l) => /Entering MASTER/.test(l)), "second halb stayed BACKUP");
      const start = performance.now();
      h1.signal("SIGTERM");
      const took = await pollUntil(() => holders([n2], vip).then((h) => h.length === 1), start, {
        timeoutMs: 3000,
        what: "VIP on second halb",
      });
      console.log(`  (i) SIGTERM halb → other halb after ${bracket(took)} (skew 61)`);
      assert.ok(took.earliest <= 61 + SLACK_MS, `failover took ${bracket(took)}`);
      await h1.wait();
      await exactlyOne([n1, n2], vip, n2);
    }),
});

Deno.test({
  name: `${PREFIX}malformed corpus: 1300 bad adverts are dropped, counted, harmless`,
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    scenario(async () => {
      const [n1, n2] = lab!.nodes;
      const vip = "192.0.2.110";
      const halb = await startHalb(
        "m-halb",
        n1,
        vrrpConfig([instanceConfig({
          version: 2,
          priority: 150,
          virtualRouterId: 70,
          authentication: { type: "PASS", password: "secret12" },
          virtualIpaddress: vip4(vip),
        })]),
      );
      await halb.waitLine(/\(VI_1\) Entering MASTER STATE/, 6000);
      const sender = new Proc("m-sender", n2, [
        DENO,
        "run",
        "--allow-all",
        SENDER,
        "192.0.2.2",
        "100",
      ]);
      procs.push(sender);
      await sender.wait();
      const sentLine = sender.lines.find((l) => l.startsWith("SENT "));
      assert.ok(sentLine, `sender output: ${sender.lines.join("\n")}`);
      const sent = Number(sentLine.slice(5));
      assert.ok(sent >= 1000, `sent ${sent}`);
      await new Promise((r) => setTimeout(r, 300));
      const before = halb.lines.length;
      halb.signal("SIGUSR2");
      const line = await waitFor(
        () => halb.lines.slice(before).some((l) => l.startsWith("SNAPSHOT ")),
        { timeoutMs: 2000, what: "snapshot" },
      ).then(() => halb.lines.slice(before).find((l) => l.startsWith("SNAPSHOT "))!);
      const [snap] = JSON.parse(line.slice(9));
      const drops = snap.counters.drops as Record<string, number>;
      const total = Object.values(drops).reduce((a, b) => a + b, 0);
      console.log(`  malformed: sent ${sent}, dropped ${total}: ${JSON.stringify(drops)}`);
      assert.equal(total, sent);
      assert.equal(snap.counters.advertsReceived, 0);
      assert.equal(snap.state, "master");
      assert.ok(!halb.exited, "halb still running");
      for (
        const reason of [
          "malformed",
          "length",
          "ttl",
          "checksum",
          "auth-password",
          "auth-type-mismatch",
          "addr-count",
          "version",
          "adver-int",
          "vip-missing",
          "type",
          "not-ours",
        ]
      ) {
        assert.ok((drops[reason] ?? 0) > 0, `no drop counted for ${reason}`);
      }
      await exactlyOne([n1, n2], vip, n1);
    }),
});

Deno.test({
  name: `${PREFIX}cleanup: namespaces removed`,
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await stopAll();
    await lab?.close();
    if (dir) await Deno.remove(dir, { recursive: true });
    lab = null;
  },
});
