import assert from "node:assert/strict";
import type { VrrpInstanceConfig } from "../config/types.ts";
import type { V2Advert, V3Advert } from "./codec.ts";
import { parseIp } from "./address.ts";
import {
  effectivePriority,
  initialState,
  step,
  type VrrpAction,
  type VrrpEvent,
  type VrrpState,
} from "./state.ts";
import { instanceConfig } from "./testdata/instance_config.ts";

const ME = parseIp("192.0.2.2")!;
const LOWER_IP = parseIp("192.0.2.1")!;
const HIGHER_IP = parseIp("192.0.2.3")!;
const VIP = parseIp("192.0.2.100")!;
const S = 1_000_000;

function v3(priority: number, maxAdverInt = 100): V3Advert {
  return { version: 3, family: 4, vrid: 51, priority, maxAdverInt, addresses: [VIP] };
}

function v2(priority: number): V2Advert {
  return {
    version: 2,
    family: 4,
    vrid: 51,
    priority,
    adverInt: 2,
    authType: 0,
    authData: new Uint8Array(8),
    addresses: [VIP],
  };
}

/** A fake-clock harness: runs events at given times and collects the actions. */
class Harness {
  state: VrrpState;
  actions: VrrpAction[] = [];
  constructor(over: Partial<VrrpInstanceConfig> = {}, primary = ME) {
    this.state = initialState(instanceConfig(over), { primaryAddress: primary });
  }
  at(now: number, event: VrrpEvent): VrrpAction[] {
    const r = step(this.state, event, now);
    this.state = r.state;
    this.actions = [...r.actions];
    return this.actions;
  }
  /** Fires whichever armed timer is due first, at its deadline; returns that time. */
  fireNext(): number {
    const armed = Object.entries(this.state.timers).filter(([, at]) => at !== null) as [
      "adver" | "masterDown" | "garp",
      number,
    ][];
    assert.ok(armed.length > 0, "no timer armed");
    armed.sort((a, b) => a[1] - b[1]);
    const [timer, at] = armed[0];
    this.at(at, { type: "timer", timer });
    return at;
  }
  advert(now: number, advert: V2Advert | V3Advert, source: Uint8Array): VrrpAction[] {
    return this.at(now, { type: "advert", advert, source });
  }
}

/** The actions without logs, as compact strings. */
function effects(actions: readonly VrrpAction[]): string[] {
  return actions.filter((a) => a.type !== "log").map((a) => {
    switch (a.type) {
      case "arm":
        return `arm ${a.timer} ${a.at}`;
      case "cancel":
        return `cancel ${a.timer}`;
      case "send-advert":
        return `advert ${a.priority}`;
      case "send-garp":
        return `garp ${a.repeat}`;
      case "notify":
        return `notify ${a.state}`;
      default:
        return a.type;
    }
  });
}

function logs(actions: readonly VrrpAction[]): string[] {
  return actions.flatMap((a) => a.type === "log" ? [a.message] : []);
}

Deno.test("startup removes stale VIPs, enters BACKUP and arms Master_Down_Interval (3.609375 s)", () => {
  const h = new Harness();
  const t0 = 10 * S;
  assert.deepEqual(effects(h.at(t0, { type: "startup" })), [
    "remove-vips",
    "notify BACKUP",
    `arm masterDown ${t0 + 3_609_375}`,
  ]);
  assert.equal(h.state.name, "backup");
  assert.ok(logs(h.actions).includes("(VI_1) Entering BACKUP STATE (init)"));
});

Deno.test("master down: advert, then VIPs, then GARP burst, then notify; timers armed", () => {
  const h = new Harness();
  h.at(0, { type: "startup" });
  const t = h.fireNext();
  assert.equal(t, 3_609_375);
  assert.equal(h.state.name, "master");
  assert.deepEqual(effects(h.actions), [
    "advert 100",
    "add-vips",
    "garp 5",
    `arm garp ${t + 5 * S}`,
    "notify MASTER",
    `arm adver ${t + S}`,
  ]);
  // Adver_Timer: one advert per interval.
  assert.deepEqual(effects(h.at(t + S, { type: "timer", timer: "adver" })), [
    "advert 100",
    `arm adver ${t + 2 * S}`,
  ]);
  // The delayed second GARP burst.
  assert.deepEqual(effects(h.at(t + 5 * S, { type: "timer", timer: "garp" })), ["garp 5"]);
});

Deno.test("no second GARP burst when garp_master_delay is 0; none at all when repeat is 0", () => {
  const h = new Harness({ garpMasterDelay: 0 });
  h.at(0, { type: "startup" });
  h.fireNext();
  assert.deepEqual(effects(h.actions).filter((e) => e.includes("garp")), ["garp 5"]);
  const h0 = new Harness({ garpMasterRepeat: 0 });
  h0.at(0, { type: "startup" });
  h0.fireNext();
  assert.deepEqual(effects(h0.actions).filter((e) => e.includes("garp")), []);
});

Deno.test("address owner (255) becomes MASTER at startup after removing stale VIPs", () => {
  const h = new Harness({ priority: 255 });
  assert.deepEqual(effects(h.at(0, { type: "startup" })), [
    "remove-vips",
    "advert 255",
    "add-vips",
    "garp 5",
    `arm garp ${5 * S}`,
    "notify MASTER",
    `arm adver ${S}`,
  ]);
  assert.equal(h.state.name, "master");
});

Deno.test("backup: an accepted advert re-arms MDI; v3 adopts the master's interval (0.3609 s)", () => {
  const h = new Harness();
  h.at(0, { type: "startup" });
  assert.deepEqual(effects(h.advert(S, v3(150, 100), HIGHER_IP)), [
    `arm masterDown ${S + 3_609_375}`,
  ]);
  assert.deepEqual(effects(h.advert(2 * S, v3(150, 10), HIGHER_IP)), [
    `arm masterDown ${2 * S + 360_937}`,
  ]);
  assert.equal(h.state.masterAdverIntUs, 100_000);
  assert.deepEqual(h.state.master, { address: HIGHER_IP, priority: 150 });
});

Deno.test("v2 backup: MDI = 3 × A + (256 − p)/256 s (A=2 s, p=100 → 6.609375 s)", () => {
  const h = new Harness({ version: 2, advertInt: 2000 });
  h.at(0, { type: "startup" });
  assert.equal(h.state.timers.masterDown, 6_609_375);
  h.advert(S, v2(150), HIGHER_IP);
  assert.equal(h.state.timers.masterDown, S + 6_609_375);
});

Deno.test("backup: a priority-0 advert sets the down timer to Skew_Time (0.609375 s)", () => {
  const h = new Harness();
  h.at(0, { type: "startup" });
  h.advert(S, v3(150), HIGHER_IP);
  assert.deepEqual(effects(h.advert(2 * S, v3(0), HIGHER_IP)), [
    `arm masterDown ${2 * S + 609_375}`,
  ]);
  assert.equal(h.fireNext(), 2 * S + 609_375);
  assert.equal(h.state.name, "master");
});

Deno.test("backup with preempt discards a lower priority without touching the timer (measured 3.609 s)", () => {
  // keepalived ka1 150 → 90 (tracking); ka2 at 100 takes over 3.609375 s after the last 150 advert.
  const h = new Harness();
  h.at(0, { type: "startup" });
  h.advert(S, v3(150), HIGHER_IP);
  const deadline = S + 3_609_375;
  for (const t of [2 * S, 3 * S, 4 * S]) {
    assert.deepEqual(effects(h.advert(t, v3(90), HIGHER_IP)), []);
    assert.equal(h.state.timers.masterDown, deadline);
    assert.match(
      logs(h.actions)[0],
      /received lower priority \(90\) advert from 192\.0\.2\.3 - discarding/,
    );
  }
  assert.equal(h.fireNext(), deadline);
  assert.equal(h.state.name, "master");
});

Deno.test("nopreempt: a lower-priority advert is accepted and re-arms the timer", () => {
  const h = new Harness({ preempt: false, priority: 200 });
  h.at(0, { type: "startup" });
  assert.deepEqual(effects(h.advert(S, v3(100), LOWER_IP)), [`arm masterDown ${S + 3_218_750}`]);
  assert.equal(h.state.name, "backup");
});

Deno.test("preempt_delay: lower adverts are accepted until the delay has run, then discarded", () => {
  const h = new Harness({ priority: 200, preemptDelay: 2000 });
  h.at(0, { type: "startup" });
  assert.equal(h.state.preemptAt, 2 * S);
  assert.equal(effects(h.advert(S, v3(100), LOWER_IP)).length, 1); // accepted (re-armed)
  assert.equal(effects(h.advert(1.5 * S, v3(100), LOWER_IP)).length, 1);
  assert.deepEqual(effects(h.advert(2.5 * S, v3(100), LOWER_IP)), []); // discarded
  assert.equal(h.fireNext(), 1.5 * S + 3_218_750);
  assert.equal(h.state.name, "master");
});

Deno.test("preempt_delay: a higher advert stops the delay and the next lower one restarts it", () => {
  const h = new Harness({ priority: 200, preemptDelay: 2000 });
  h.at(0, { type: "startup" });
  h.advert(S, v3(250), HIGHER_IP);
  assert.equal(h.state.preemptAt, null);
  h.advert(10 * S, v3(100), LOWER_IP);
  assert.equal(h.state.preemptAt, 12 * S);
  assert.equal(effects(h.advert(11 * S, v3(100), LOWER_IP)).length, 1);
  assert.deepEqual(effects(h.advert(12 * S, v3(100), LOWER_IP)), []);
});

function masterAt(over: Partial<VrrpInstanceConfig> = {}): [Harness, number] {
  const h = new Harness(over);
  h.at(0, { type: "startup" });
  return [h, h.fireNext()];
}

Deno.test("master hearing a higher priority: cancel timers, remove VIPs, BACKUP, arm MDI", () => {
  const [h, t] = masterAt();
  const now = t + 100;
  assert.deepEqual(effects(h.advert(now, v3(150, 50), HIGHER_IP)), [
    "cancel adver",
    "cancel garp",
    "remove-vips",
    "notify BACKUP",
    `arm masterDown ${now + 3 * 500_000 + 304_687}`,
  ]);
  assert.equal(h.state.name, "backup");
  assert.ok(
    logs(h.actions)[0].includes(
      "Master received advert from 192.0.2.3 with higher priority 150, ours 100",
    ),
  );
});

Deno.test("master at equal priority: higher source address wins, lower one forces an election", () => {
  const [h1, t1] = masterAt();
  h1.advert(t1 + 1, v3(100), HIGHER_IP);
  assert.equal(h1.state.name, "backup");
  assert.ok(logs(h1.actions)[0].includes("same priority 100 but higher IP address than ours"));
  const [h2, t2] = masterAt();
  h2.advert(t2 + 1, v3(100), LOWER_IP);
  assert.equal(h2.state.name, "master");
  assert.ok(effects(h2.actions).includes("advert 100"));
  // Bytewise unsigned compare: 10.x < 192.x although a signed compare of the first byte agrees;
  // 200.x > 192.x checks the high bit is treated as unsigned.
  const [h3, t3] = masterAt();
  h3.advert(t3 + 1, v3(100), parseIp("200.0.0.1")!);
  assert.equal(h3.state.name, "backup");
});

Deno.test("master hearing a lower priority: immediate advert + GARP burst (keepalived)", () => {
  const [h, t] = masterAt();
  const now = t + 300_000;
  assert.deepEqual(effects(h.advert(now, v3(50), HIGHER_IP)), [
    "advert 100",
    `arm adver ${now + S}`,
    "garp 5",
    `arm garp ${now + 5 * S}`,
  ]);
  assert.ok(logs(h.actions)[0].endsWith("with lower priority 50, ours 100, forcing new election"));
});

Deno.test("lowerPrioNoAdvert: no extra advert (the GARP burst stays, as keepalived)", () => {
  const [h, t] = masterAt({ lowerPrioNoAdvert: true });
  assert.deepEqual(effects(h.advert(t + 1, v3(50), HIGHER_IP)), [
    "garp 5",
    `arm garp ${t + 1 + 5 * S}`,
  ]);
  assert.ok(logs(h.actions)[0].endsWith("with lower priority 50, ours 100"));
});

Deno.test("master hearing priority 0 sends an advert at once and resets Adver_Timer", () => {
  const [h, t] = masterAt();
  assert.deepEqual(effects(h.advert(t + 10, v3(0), HIGHER_IP)), [
    "advert 100",
    `arm adver ${t + 10 + S}`,
  ]);
  assert.equal(h.state.name, "master");
});

Deno.test("both address owners: local priority drops to 254 and the instance goes BACKUP", () => {
  const h = new Harness({ priority: 255 });
  h.at(0, { type: "startup" });
  h.advert(S, v3(255), HIGHER_IP);
  assert.equal(h.state.basePriority, 254);
  assert.equal(h.state.effectivePriority, 254);
  assert.equal(h.state.name, "backup");
  assert.ok(logs(h.actions)[0].includes("CONFIGURATION ERROR"));
});

Deno.test("shutdown: master sends priority 0 then removes VIPs; backup only notifies STOP", () => {
  const [h, t] = masterAt();
  assert.deepEqual(effects(h.at(t + 1, { type: "shutdown" })), [
    "cancel adver",
    "cancel garp",
    "advert 0",
    "remove-vips",
    "notify STOP",
  ]);
  assert.equal(h.state.name, "stopped");
  assert.deepEqual(effects(h.at(t + 2, { type: "shutdown" })), []);
  const b = new Harness();
  b.at(0, { type: "startup" });
  assert.deepEqual(effects(b.at(1, { type: "shutdown" })), ["cancel masterDown", "notify STOP"]);
});

Deno.test("fault: master sends priority 0 twice and removes VIPs; adverts ignored; clear → BACKUP", () => {
  const [h, t] = masterAt();
  assert.deepEqual(effects(h.at(t + 1, { type: "fault", on: true })), [
    "advert 0",
    "advert 0",
    "cancel adver",
    "cancel garp",
    "remove-vips",
    "notify FAULT",
  ]);
  assert.equal(h.state.name, "fault");
  assert.deepEqual(effects(h.advert(t + 2, v3(50), HIGHER_IP)), []);
  assert.deepEqual(effects(h.at(t + 3, { type: "timer", timer: "adver" })), []);
  assert.deepEqual(effects(h.at(t + 4, { type: "fault", on: false })), [
    "notify BACKUP",
    `arm masterDown ${t + 4 + 3_609_375}`,
  ]);
  assert.equal(h.state.name, "backup");
});

Deno.test("fault: owner leaves FAULT straight to MASTER; fault before startup starts in FAULT", () => {
  const o = new Harness({ priority: 255 });
  o.at(0, { type: "startup" });
  o.at(1, { type: "fault", on: true });
  o.at(2, { type: "fault", on: false });
  assert.equal(o.state.name, "master");
  const f = new Harness();
  assert.deepEqual(effects(f.at(0, { type: "fault", on: true })), []);
  assert.deepEqual(effects(f.at(1, { type: "startup" })), ["remove-vips", "notify FAULT"]);
  assert.equal(f.state.name, "fault");
});

Deno.test("tracking: effective priority clamps to 1..254, the owner is exempt, skew follows it", () => {
  assert.equal(effectivePriority(150, -60), 90);
  assert.equal(effectivePriority(100, 200), 254);
  assert.equal(effectivePriority(10, -50), 1);
  assert.equal(effectivePriority(255, -100), 255);
  const [h, t] = masterAt({ priority: 150 });
  h.at(t + 1, { type: "priority", delta: -60 });
  assert.equal(h.state.effectivePriority, 90);
  assert.ok(logs(h.actions)[0].includes("Changing effective priority from 150 to 90"));
  assert.deepEqual(effects(h.at(t + S, { type: "timer", timer: "adver" })), [
    "advert 90",
    `arm adver ${t + 2 * S}`,
  ]);
  // Backup at 200 (via +50): MDI with p=200 is 3.21875 s.
  const b = new Harness({ priority: 150 });
  b.at(0, { type: "startup" });
  b.at(1, { type: "priority", delta: 50 });
  b.advert(S, v3(254), HIGHER_IP);
  assert.equal(b.state.timers.masterDown, S + 3_218_750);
});

Deno.test("timer events for disarmed timers are ignored", () => {
  const h = new Harness();
  h.at(0, { type: "startup" });
  assert.deepEqual(effects(h.at(5, { type: "timer", timer: "adver" })), []);
  assert.deepEqual(effects(h.at(5, { type: "timer", timer: "garp" })), []);
  assert.equal(h.state.name, "backup");
  const before = h.state;
  h.at(6, { type: "advert", advert: v3(100), source: HIGHER_IP });
  assert.notEqual(h.state, before);
});

Deno.test("sync commands: master from BACKUP, backup from MASTER, fault and clear-fault", () => {
  const h = new Harness();
  h.at(0, { type: "startup" });
  h.at(S, { type: "sync", command: "master" });
  assert.equal(h.state.name, "master");
  assert.deepEqual(effects(h.at(2 * S, { type: "sync", command: "master" })), []);
  h.at(3 * S, { type: "sync", command: "backup" });
  assert.equal(h.state.name, "backup");
  assert.equal(h.state.timers.masterDown, 3 * S + 3_609_375);
  h.at(4 * S, { type: "sync", command: "fault" });
  assert.equal(h.state.name, "fault");
  h.at(5 * S, { type: "fault", on: true });
  h.at(6 * S, { type: "sync", command: "clear-fault" });
  assert.equal(h.state.name, "fault"); // own fault still set
  h.at(7 * S, { type: "fault", on: false });
  assert.equal(h.state.name, "backup");
});

Deno.test("restart after stop goes through startup again", () => {
  const [h, t] = masterAt();
  h.at(t + 1, { type: "shutdown" });
  h.at(t + 2, { type: "startup" });
  assert.equal(h.state.name, "backup");
  assert.equal(h.state.timers.masterDown, t + 2 + 3_609_375);
});
