import assert from "node:assert/strict";
import type { Balancer, BalancerHooks, LbEntry } from "./balance/balancer.ts";
import type { BackendConfig } from "../config/types.ts";
import { configuredBalancer } from "./proxy.ts";
import { type PoolServer, QueueTicket, ServerPool } from "./server_pool.ts";
import { testBackend, testServer } from "../../tests/helpers/config.ts";

/** Always the first eligible server, full or not (what a hash algorithm does with one key). */
class StickyBalancer implements Balancer<PoolServer> {
  entries: readonly LbEntry<PoolServer>[] = [];
  update(entries: readonly LbEntry<PoolServer>[]): void {
    this.entries = entries;
  }
  pick(_key: Uint8Array | null, avoid?: PoolServer): PoolServer | null {
    const other = this.entries.find((e) => e.server !== avoid);
    return (other ?? this.entries[0])?.server ?? null;
  }
}

function sticky(_b: BackendConfig, _h: BalancerHooks<PoolServer>): Balancer<PoolServer> {
  return new StickyBalancer();
}

function pool(
  servers: Parameters<typeof testServer>[2][],
  be: Partial<BackendConfig> = {},
  balancer = configuredBalancer,
): ServerPool {
  return new ServerPool(
    testBackend(
      "be",
      servers.map((o, i) => testServer(`s${i + 1}`, 1000 + i, { id: i + 1, ...o })),
      be,
    ),
    { balancer },
  );
}

function eligible(p: ServerPool): string[] {
  return p.servers.filter((s) => s.eligible).map((s) => s.name);
}

Deno.test("pool: actives first, then the first usable backup, or all with allbackups", () => {
  const p = pool([{}, {}, { backup: true }, { backup: true }]);
  assert.deepEqual(eligible(p), ["s1", "s2"]);
  p.setUsable(p.servers[0], false);
  p.setMaintenance(p.servers[1], true);
  assert.deepEqual(eligible(p), ["s3"]);
  p.setUsable(p.servers[2], false);
  assert.deepEqual(eligible(p), ["s4"]);
  p.setUsable(p.servers[0], true);
  assert.deepEqual(eligible(p), ["s1"]);

  const all = pool([{}, { backup: true }, { backup: true }], { allbackups: true });
  all.setDrain(all.servers[0], true);
  assert.deepEqual(eligible(all), ["s2", "s3"]);
  assert.equal(all.servers[0].status(), "DRAIN");
  all.setWeight(all.servers[1], 0);
  assert.deepEqual(eligible(all), ["s3"]);
});

Deno.test("pool: disabled servers start in maintenance; no usable server → no-server", () => {
  const p = pool([{ disabled: true }]);
  assert.equal(p.hasUsableServer(), false);
  assert.equal(p.assign(null), "no-server");
  assert.equal(p.snapshot().servers[0].status, "MAINT");
  p.setMaintenance(p.servers[0], false);
  assert.equal(p.assign(null), p.servers[0]);
});

Deno.test("pool: all servers full → backend queue, served in order as slots free", async () => {
  const p = pool([{ maxconn: 1 }, { maxconn: 1 }], {
    timeout: { connect: 1000, server: null, queue: 5000, check: null },
  });
  const a = p.assign(null) as PoolServer;
  const b = p.assign(null) as PoolServer;
  assert.notEqual(a, b);
  const t1 = p.assign(null);
  const t2 = p.assign(null);
  assert.ok(t1 instanceof QueueTicket && t2 instanceof QueueTicket);
  assert.equal(p.snapshot().queueCur, 2);
  p.release(b);
  assert.equal(await t1.promise, b);
  assert.equal(t1.backendQueuePos, 1);
  p.release(a);
  assert.equal(await t2.promise, a);
  // HAProxy counts the waiters served before this one, plus one: the second waiter logs 2.
  assert.equal(t2.backendQueuePos, 2);
  assert.deepEqual([p.snapshot().queueCur, p.snapshot().queueMax], [0, 2]);
  assert.deepEqual([a.cur, b.cur, a.max], [1, 1, 1]);
});

Deno.test("pool: a full bound server queues in its own queue, maxqueue then redispatch", () => {
  const p = pool([{ maxconn: 1, maxqueue: 1 }, {}], {}, sticky);
  const [s1, s2] = p.servers;
  assert.equal(p.assign(null), s1);
  const t = p.assign(null);
  assert.ok(t instanceof QueueTicket && t.owner === s1);
  assert.equal(s1.queue.length, 1);
  assert.equal(p.assign(null), "queue-full");
  const r = pool([{ maxconn: 1, maxqueue: 1 }, {}], { redispatch: true }, sticky);
  r.assign(null);
  r.assign(null);
  assert.equal(r.assign(null), r.servers[1]);
  p.cancel(t as QueueTicket);
  assert.equal(s1.queue.length, 0);
  assert.equal(s2.cur, 0);
});

Deno.test("pool: queue timeout resolves null and is counted", async () => {
  const p = pool([{ maxconn: 1 }], {
    timeout: { connect: 1000, server: null, queue: 20, check: null },
  });
  p.assign(null);
  const t = p.assign(null) as QueueTicket;
  assert.equal(await t.promise, null);
  assert.equal(t.backendQueuePos, 1);
  assert.equal(p.snapshot().queueTimeouts, 1);
  assert.equal(p.queue.length, 0);
});

Deno.test("pool: waiters of a server that goes down move to the backend queue", async () => {
  const p = pool([{ maxconn: 1 }, { maxconn: 1 }], {}, sticky);
  const [s1, s2] = p.servers;
  assert.equal(p.assign(null), s1);
  const t = p.assign(null) as QueueTicket;
  assert.equal(t.owner, s1);
  p.setUsable(s1, false);
  assert.equal(await t.promise, s2);
  assert.equal(s1.queue.length, 0);
  p.release(s1);
  p.close();
});

Deno.test("pool: close wakes every waiter with null", async () => {
  const p = pool([{ maxconn: 1 }]);
  p.assign(null);
  const t = p.assign(null) as QueueTicket;
  p.close();
  assert.equal(await t.promise, null);
});
