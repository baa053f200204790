import assert from "node:assert/strict";
import { parseIp } from "./address.ts";
import { initialState, step, type VrrpEvent, type VrrpState } from "./state.ts";
import { initialSyncGroup, type SyncGroupState, syncGroupStep } from "./sync_group.ts";
import { instanceConfig } from "./testdata/instance_config.ts";

/** Two real state machines wired through the coordinator, as a driver would. */
class Group {
  members: Record<string, VrrpState>;
  group: SyncGroupState;
  constructor() {
    const me = { primaryAddress: parseIp("192.0.2.2")! };
    this.members = {
      R1: initialState(instanceConfig({ name: "R1", virtualRouterId: 1 }), me),
      R2: initialState(instanceConfig({ name: "R2", virtualRouterId: 2, advertInt: 2000 }), me),
    };
    this.group = initialSyncGroup({ name: "G1", instances: ["R1", "R2"] });
  }
  send(member: string, event: VrrpEvent, now: number): void {
    const queue: [string, VrrpEvent][] = [[member, event]];
    for (let i = 0; i < queue.length && i < 50; i++) {
      const [m, e] = queue[i];
      const r = step(this.members[m], e, now);
      this.members[m] = r.state;
      const s = syncGroupStep(this.group, { member: m, state: r.state.name, fault: r.state.fault });
      this.group = s.group;
      for (const c of s.commands) queue.push([c.member, c.event]);
    }
  }
  names(): string[] {
    return [this.members.R1.name, this.members.R2.name];
  }
}

const S = 1_000_000;
const advert = (priority: number) => ({
  type: "advert" as const,
  advert: {
    version: 3 as const,
    family: 4 as const,
    vrid: 1,
    priority,
    maxAdverInt: 100,
    addresses: [parseIp("192.0.2.100")!],
  },
  source: parseIp("192.0.2.9")!,
});

Deno.test("sync group: the first member to become MASTER pulls the others along", () => {
  const g = new Group();
  g.send("R1", { type: "startup" }, 0);
  g.send("R2", { type: "startup" }, 0);
  assert.deepEqual(g.names(), ["backup", "backup"]);
  g.send("R1", { type: "timer", timer: "masterDown" }, 3_609_375);
  assert.deepEqual(g.names(), ["master", "master"]);
});

Deno.test("sync group: a member hearing a higher priority pushes the others to BACKUP", () => {
  const g = new Group();
  g.send("R1", { type: "startup" }, 0);
  g.send("R2", { type: "startup" }, 0);
  g.send("R1", { type: "timer", timer: "masterDown" }, 3_609_375);
  g.send("R1", advert(200), 4 * S);
  assert.deepEqual(g.names(), ["backup", "backup"]);
});

Deno.test("sync group: one FAULT faults all; recovery of the last fault releases all to BACKUP", () => {
  const g = new Group();
  g.send("R1", { type: "startup" }, 0);
  g.send("R2", { type: "startup" }, 0);
  g.send("R1", { type: "timer", timer: "masterDown" }, 3_609_375);
  g.send("R2", { type: "fault", on: true }, 5 * S);
  assert.deepEqual(g.names(), ["fault", "fault"]);
  g.send("R1", { type: "fault", on: true }, 6 * S);
  g.send("R2", { type: "fault", on: false }, 7 * S);
  assert.deepEqual(g.names(), ["fault", "fault"]);
  g.send("R1", { type: "fault", on: false }, 8 * S);
  assert.deepEqual(g.names(), ["backup", "backup"]);
});

Deno.test("syncGroupStep() ignores reports from non-members", () => {
  const g = initialSyncGroup({ name: "G1", instances: ["R1"] });
  const r = syncGroupStep(g, { member: "X", state: "master", fault: false });
  assert.equal(r.group, g);
  assert.deepEqual(r.commands, []);
});
