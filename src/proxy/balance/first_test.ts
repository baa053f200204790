import assert from "node:assert/strict";
import { FirstBalancer } from "./first.ts";
import { FakePool, picks } from "./_testing.ts";

Deno.test("first: lowest id with a free slot, whatever the weights and order", () => {
  const pool = new FakePool();
  const b = new FirstBalancer(pool);
  b.update([
    { server: "c", id: 3, weight: 100 },
    { server: "a", id: 1, weight: 1 },
    { server: "b", id: 2, weight: 50 },
  ]);
  assert.equal(picks(b, 3), "a a a");
  pool.fulls.add("a");
  assert.equal(picks(b, 2), "b b");
  pool.fulls.add("b");
  assert.equal(b.pick(null), "c");
  pool.fulls.delete("a");
  assert.equal(b.pick(null), "a");
  assert.equal(b.pick(null, "a"), "c");
});
