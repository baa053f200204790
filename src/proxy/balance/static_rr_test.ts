import assert from "node:assert/strict";
import { StaticRoundRobinBalancer } from "./static_rr.ts";
import { entries, FakePool, picks } from "./_testing.ts";

function srr(weights: number[], pool = new FakePool()): StaticRoundRobinBalancer<string> {
  const b = new StaticRoundRobinBalancer(pool);
  b.update(entries(weights));
  return b;
}

Deno.test("static-rr: HAProxy's map order", () => {
  assert.equal(picks(srr([2, 1]), 6), "s1 s1 s2 s1 s1 s2");
  assert.equal(picks(srr([1, 1]), 4), "s1 s2 s1 s2");
  // Produced by HAProxy 2.6.12 (also checked live in tests/balance_haproxy_test.ts).
  assert.equal(picks(srr([3, 1, 2]), 12), "s1 s1 s3 s1 s2 s3 s1 s1 s3 s1 s2 s3");
  assert.equal(picks(srr([5, 3]), 8), "s1 s1 s2 s1 s1 s2 s1 s2");
});

Deno.test("static-rr: weights are reduced by their gcd", () => {
  assert.equal(picks(srr([4, 2]), 6), "s1 s1 s2 s1 s1 s2");
});

Deno.test("static-rr: a full slot is skipped and the cursor moves past it", () => {
  const pool = new FakePool();
  const b = srr([2, 1], pool);
  assert.equal(b.pick(null), "s1");
  pool.fulls.add("s1");
  assert.equal(b.pick(null), "s2");
  pool.fulls.clear();
  assert.equal(picks(b, 3), "s1 s1 s2");
});
