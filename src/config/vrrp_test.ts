import assert from "node:assert/strict";
import { compile } from "./_testing.ts";

const INSTANCE = `
[[vrrp.instance]]
name = "VI_1"
interface = "eth0"
virtual_router_id = 51
virtual_ipaddress = ["192.0.2.10/24"]
`;

Deno.test("vrrp defaults as keepalived", () => {
  const { config, lines } = compile(`[vrrp]\n${INSTANCE}`);
  assert.deepEqual(lines, []);
  const v = config!.vrrp!;
  assert.deepEqual([v.routerId, v.mcastGroup4, v.mcastGroup6, v.scriptUser], [
    "testhost",
    "224.0.0.18",
    "ff02::12",
    null,
  ]);
  const i = v.instances[0];
  assert.deepEqual(
    [i.state, i.priority, i.advertInt, i.version, i.family, i.preempt, i.preemptDelay],
    ["BACKUP", 100, 1000, 2, 4, true, 0],
  );
  assert.deepEqual(
    [i.garpMasterDelay, i.garpMasterRepeat, i.v3Ipv4Checksum, i.lowerPrioNoAdvert, i.smtpAlert],
    [5000, 5, "pseudo", false, false],
  );
  assert.deepEqual(i.virtualIpaddress[0], {
    address: "192.0.2.10",
    prefix: 24,
    family: 4,
    dev: null,
    label: null,
    text: "192.0.2.10/24",
  });
});

Deno.test("IPv6 VIPs select version 3 unless a version is written", () => {
  const v6 = INSTANCE.replace('"192.0.2.10/24"', '"2001:db8::1/64"');
  const auto = compile(`[vrrp]\n${v6}advert_int = "250ms"\n`);
  assert.deepEqual(auto.lines, []);
  assert.equal(auto.config!.vrrp!.instances[0].version, 3);
  assert.equal(auto.config!.vrrp!.instances[0].family, 6);
  const explicit = compile(`[vrrp]\nversion = 2\n${v6}`);
  assert.deepEqual(explicit.lines, [
    "8:22: vrrp.instance[0].virtual_ipaddress[0]: IPv6 needs VRRP version 3 (version 2 is IPv4 only)",
  ]);
});

Deno.test("scripts: argv split, defaults, weights inherited by track_script", () => {
  const { config, lines } = compile(`
[vrrp]
script_user = "halb"
[vrrp.script.chk]
script = "/usr/bin/check --name 'my svc'"
weight = -20
[vrrp.script.sh]
script = "pidof halb || exit 1"
shell = true
interval = "3s"
${INSTANCE}
track_script = ["chk", { name = "sh", weight = 5 }]
track_interface = ["eth1", { name = "eth9", weight = -3 }]
`);
  assert.deepEqual(lines, [
    '19:37: vrrp.instance[0].track_interface[1].name: warning: interface "eth9" does not exist ' +
    "on this machine",
  ]);
  const v = config!.vrrp!;
  assert.deepEqual(v.scripts[0].argv, ["/usr/bin/check", "--name", "my svc"]);
  assert.deepEqual(
    [v.scripts[0].interval, v.scripts[0].timeout, v.scripts[0].fall, v.scripts[0].rise],
    [1000, 1000, 1, 1],
  );
  assert.equal(v.scripts[0].user, "halb");
  assert.deepEqual(v.scripts[1].argv, ["/bin/sh", "-c", "pidof halb || exit 1"]);
  assert.equal(v.scripts[1].timeout, 3000);
  assert.deepEqual(v.instances[0].trackScript, [{ name: "chk", weight: -20 }, {
    name: "sh",
    weight: 5,
  }]);
  assert.deepEqual(v.instances[0].trackInterface, [{ name: "eth1", weight: 0 }, {
    name: "eth9",
    weight: -3,
  }]);
});

Deno.test("a script using shell syntax without shell = true warns", () => {
  const { lines } = compile('[vrrp.script.c]\nscript = "pidof x | grep y"\n');
  assert.deepEqual(lines, [
    '2:10: vrrp.script.c.script: warning: "|" is passed as an argument, not run by a shell; set ' +
    "shell = true to use shell syntax",
  ]);
});

Deno.test("nopreempt: ignored with a warning on MASTER, an error at priority 255", () => {
  const master = compile(`[vrrp]\n${INSTANCE}state = "MASTER"\npreempt = false\n`);
  assert.equal(master.config!.vrrp!.instances[0].preempt, true);
  assert.equal(master.lines.length, 1);
  const backup = compile(`[vrrp]\n${INSTANCE}preempt = false\npreempt_delay = "3s"\n`);
  assert.deepEqual(backup.lines, []);
  assert.equal(backup.config!.vrrp!.instances[0].preempt, false);
  assert.equal(backup.config!.vrrp!.instances[0].preemptDelay, 3000);
});

Deno.test("same VRID on one interface: allowed for disjoint unicast peers or other family", () => {
  const second = (extra: string) =>
    `${INSTANCE}unicast_peer = ["192.0.2.2"]\n${
      INSTANCE.replace('"VI_1"', '"VI_2"').replace("192.0.2.10", "192.0.2.11")
    }${extra}`;
  assert.deepEqual(compile(`[vrrp]\n${second('unicast_peer = ["192.0.2.3"]')}`).lines, []);
  assert.equal(compile(`[vrrp]\n${second('unicast_peer = ["192.0.2.2"]')}`).lines.length, 1);
  const v6 = INSTANCE.replace('"VI_1"', '"VI_6"').replace('"192.0.2.10/24"', '"2001:db8::1/64"');
  assert.deepEqual(compile(`[vrrp]\n${INSTANCE}${v6}`).lines, []);
});

Deno.test("advert_int: v2 whole seconds, v3 10ms steps", () => {
  const table: [string, string, boolean][] = [
    ["2", '"2s"', true],
    ["2", '"255s"', true],
    ["2", '"500ms"', false],
    ["2", '"256s"', false],
    ["3", '"10ms"', true],
    ["3", '"40.95s"', true],
    ["3", '"5ms"', false],
    ["3", '"41s"', false],
    ["3", '"1005ms"', false],
  ];
  for (const [version, value, ok] of table) {
    const r = compile(`[vrrp]\n${INSTANCE}version = ${version}\nadvert_int = ${value}\n`);
    assert.equal(r.config !== null, ok, `v${version} ${value}: ${r.lines.join()}`);
  }
});
