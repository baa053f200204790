import assert from "node:assert/strict";
import { RandomBalancer } from "./random.ts";
import { entries, FakePool, tally } from "./_testing.ts";

/** Cycles through fixed values so tests control every draw. */
function fixed(values: number[]): () => number {
  let i = 0;
  return function next(): number {
    return values[i++ % values.length];
  };
}

Deno.test("random: the less loaded of the drawn servers wins", () => {
  const pool = new FakePool();
  const draws = [0.1, 0.35, 0.6, 0.85];
  const b = new RandomBalancer(pool, { draws: 4, random: fixed(draws) });
  b.update(entries([1, 1]));
  pool.loads.set("s1", 5);
  const counts = tally(b, 50);
  // With four draws both servers are almost surely drawn, and s2 (idle) always wins then.
  assert.equal(counts.get("s1") ?? 0, 0);
  assert.equal(counts.get("s2"), 50);
});

Deno.test("random: one draw follows the injected random source", () => {
  const b1 = new RandomBalancer(new FakePool(), { draws: 1, random: fixed([0.42]) });
  const b2 = new RandomBalancer(new FakePool(), { draws: 1, random: fixed([0.42]) });
  b1.update(entries([1, 2, 3]));
  b2.update(entries([1, 2, 3]));
  const s = b1.pick(null);
  for (let i = 0; i < 10; i++) {
    assert.equal(b1.pick(null), s);
    assert.equal(b2.pick(null), s);
  }
});

Deno.test("random: load comparison is relative to weight", () => {
  const pool = new FakePool();
  const b = new RandomBalancer(pool, { draws: 2, random: fixed([0.1, 0.35, 0.6, 0.85]) });
  b.update(entries([4, 1]));
  pool.loads.set("s1", 6).set("s2", 2); // 6/4 < 2/1: s1 is relatively less loaded
  const counts = tally(b, 40);
  assert.ok((counts.get("s1") ?? 0) > (counts.get("s2") ?? 0));
});
