import assert from "node:assert/strict";
import type { VirtualIp } from "../config/types.ts";
import { createLogger, memorySink } from "../log/logger.ts";
import { instanceConfig } from "./testdata/instance_config.ts";
import { type InstanceIo, VrrpInstance } from "./instance.ts";
import type { NotifyEvent } from "./notify.ts";
import { encodeIpv4Packet } from "./ipv4.ts";
import { authKey } from "./codec.ts";

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  return new Uint8Array(clean.match(/../g)!.map((h) => parseInt(h, 16)));
}

function harness(over: Parameters<typeof instanceConfig>[0] = {}) {
  let clock = 0;
  const calls: string[] = [];
  const sent: { bytes: Uint8Array; dest: string }[] = [];
  const timers = new Map<string, number>();
  const notified: NotifyEvent[] = [];
  const sink = memorySink();
  const io: InstanceIo = {
    send: (bytes, dest) => void sent.push({ bytes, dest }),
    addVip: (v: VirtualIp) => void calls.push(`add ${v.address}`),
    removeVip: (v: VirtualIp) => void calls.push(`remove ${v.address}`),
    announce: (v: VirtualIp, n: number) => void calls.push(`garp ${v.address} x${n}`),
    arm: (t, at) => void timers.set(t, at),
    cancel: (t) => void timers.delete(t),
    notify: (e) => void notified.push(e),
  };
  const inst = new VrrpInstance(instanceConfig(over), {
    primaryAddress: "192.0.2.1",
    io,
    logger: createLogger({ sink, level: "debug" }),
    now: () => clock,
    mcastGroup4: "224.0.0.18",
    mcastGroup6: "ff02::12",
  });
  return {
    inst,
    calls,
    sent,
    timers,
    notified,
    lines: () => sink.lines.map((l) => l.line),
    setClock: (t: number) => void (clock = t),
  };
}

Deno.test("VrrpInstance startup removes stale VIPs and arms the down timer", () => {
  const h = harness();
  h.inst.dispatch({ type: "startup" });
  assert.deepEqual(h.calls, ["remove 192.0.2.100"]);
  assert.equal(h.timers.get("masterDown"), 3_609_375);
  assert.deepEqual(h.notified, [{ instance: "VI_1", state: "BACKUP", priority: 100 }]);
  assert.ok(h.lines().includes("(VI_1) removing VIPs."));
  assert.equal(h.inst.snapshot().state, "backup");
});

Deno.test("VrrpInstance as master sends keepalived's exact v2 PASS datagram (vector V1)", () => {
  const h = harness({
    version: 2,
    priority: 150,
    authentication: { type: "PASS", password: "secret12" },
  });
  h.inst.dispatch({ type: "startup" });
  h.setClock(3_414_063);
  h.inst.dispatch({ type: "timer", timer: "masterDown" });
  assert.equal(h.sent.length, 1);
  assert.equal(h.sent[0].dest, "224.0.0.18");
  assert.deepEqual(
    h.sent[0].bytes,
    hex(
      "45c0 0028 0001 0000 ff70 1891 c000 0201 e000 0012 2133 9601 0101 17e7 c000 0264 7365 6372 6574 3132",
    ),
  );
  assert.deepEqual(h.calls.slice(1), ["add 192.0.2.100", "garp 192.0.2.100 x5"]);
  const snap = h.inst.snapshot();
  assert.equal(snap.state, "master");
  assert.deepEqual(snap.vips, ["192.0.2.100/24"]);
  assert.equal(snap.counters.advertsSent, 1);
  h.inst.dispatch({ type: "shutdown" });
  assert.equal(h.sent.at(-1)!.bytes[22], 0, "priority 0 on shutdown");
  assert.ok(h.lines().includes("(VI_1) sent 0 priority"));
  assert.equal(h.notified.at(-1)!.state, "STOP");
  assert.deepEqual(h.inst.snapshot().vips, []);
});

Deno.test("VrrpInstance AH adverts carry the per-instance sequence counter (vector V6)", () => {
  const h = harness({
    version: 2,
    priority: 150,
    authentication: { type: "AH", password: "secret12" },
  });
  h.inst.dispatch({ type: "startup" });
  h.inst.dispatch({ type: "timer", timer: "masterDown" });
  h.inst.dispatch({ type: "timer", timer: "adver" });
  const [first, second] = h.sent.map((s) => s.bytes);
  assert.deepEqual(
    first.subarray(20, 44),
    hex("7004 0000 c000 0201 0000 0001 3579 13b0 5e26 6bc7 cffd f4b5"),
  );
  assert.deepEqual(second.subarray(28, 44), hex("0000 0002 c087 9650 0d4b 0da0 bd04 064e"));
});

Deno.test("VrrpInstance counts and rate-limits drops, and never throws on garbage", () => {
  const h = harness({ version: 2, authentication: { type: "PASS", password: "secret12" } });
  h.inst.dispatch({ type: "startup" });
  const bad = encodeIpv4Packet({
    version: 2,
    family: 4,
    vrid: 51,
    priority: 200,
    adverInt: 1,
    authType: 1,
    authData: authKey("wrong"),
    addresses: [new Uint8Array([192, 0, 2, 100])],
  }, { src: new Uint8Array([192, 0, 2, 2]), dst: new Uint8Array([224, 0, 0, 18]), id: 1 });
  for (let i = 0; i < 5; i++) h.inst.receive({ family: 4, packet: bad });
  for (let i = 0; i < 50; i++) {
    h.inst.receive({ family: 4, packet: crypto.getRandomValues(new Uint8Array(i)) });
  }
  const snap = h.inst.snapshot();
  assert.equal(snap.counters.drops["auth-password"], 5);
  assert.equal(Object.values(snap.counters.drops).reduce((a, b) => a + b, 0), 55);
  assert.equal(h.lines().filter((l) => l.includes("invalid passwd")).length, 1);
  assert.equal(snap.state, "backup");
});

Deno.test("VrrpInstance backup discards a lower-priority advert with keepalived's line", () => {
  const h = harness({ priority: 100 });
  h.inst.dispatch({ type: "startup" });
  const low = encodeIpv4Packet({
    version: 3,
    family: 4,
    vrid: 51,
    priority: 50,
    maxAdverInt: 100,
    addresses: [new Uint8Array([192, 0, 2, 100])],
  }, { src: new Uint8Array([192, 0, 2, 2]), dst: new Uint8Array([224, 0, 0, 18]), id: 1 });
  h.inst.receive({ family: 4, packet: low });
  assert.ok(
    h.lines().includes("(VI_1) received lower priority (50) advert from 192.0.2.2 - discarding"),
  );
  assert.equal(h.inst.snapshot().counters.advertsReceived, 1);
  assert.equal(h.inst.snapshot().masterAddress, "192.0.2.2");
});
