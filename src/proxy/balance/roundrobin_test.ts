import assert from "node:assert/strict";
import { RoundRobinBalancer } from "./roundrobin.ts";
import { entries, FakePool, picks } from "./_testing.ts";

// Every expected sequence below was produced by HAProxy 2.6.12 (Debian) for the same weights
// and the same runtime changes (`set weight`, `disable server`, `enable server`).

function rr(weights: number[]): RoundRobinBalancer<string> {
  const b = new RoundRobinBalancer(new FakePool());
  b.update(entries(weights));
  return b;
}

Deno.test("roundrobin: equal weights alternate", () => {
  assert.equal(picks(rr([1, 1]), 6), "s1 s2 s1 s2 s1 s2");
});

Deno.test("roundrobin: 3:1 follows HAProxy's order", () => {
  assert.equal(picks(rr([3, 1]), 8), "s1 s1 s1 s2 s1 s1 s1 s2");
  // The sequence quoted in the reference is the same cycle seen after one earlier request.
  const b = rr([3, 1]);
  b.pick(null);
  assert.equal(picks(b, 8), "s1 s1 s2 s1 s1 s1 s2 s1");
});

Deno.test("roundrobin: 2:1, 1:2:3, 3:1:2 and 5:3", () => {
  assert.equal(picks(rr([2, 1]), 6), "s1 s1 s2 s1 s1 s2");
  assert.equal(picks(rr([1, 2, 3]), 12), "s3 s2 s3 s1 s3 s2 s3 s2 s3 s1 s3 s2");
  assert.equal(picks(rr([3, 1, 2]), 12), "s1 s3 s1 s2 s1 s3 s1 s3 s1 s2 s1 s3");
  assert.equal(picks(rr([5, 3]), 16), "s1 s1 s2 s1 s2 s1 s1 s2 s1 s1 s2 s1 s2 s1 s1 s2");
});

Deno.test("roundrobin: weight change, server removed and added back", () => {
  const b = rr([1, 2, 3]);
  assert.equal(picks(b, 5), "s3 s2 s3 s1 s3");
  b.update(entries([4, 2, 3])); // set weight s1 4
  assert.equal(picks(b, 12), "s2 s3 s1 s2 s3 s1 s1 s3 s2 s1 s3 s1");
  b.update([{ server: "s1", id: 1, weight: 4 }, { server: "s3", id: 3, weight: 3 }]);
  assert.equal(picks(b, 6), "s3 s1 s1 s3 s1 s3");
  b.update(entries([4, 2, 3]));
  assert.equal(picks(b, 12), "s1 s3 s1 s2 s1 s3 s1 s3 s2 s1 s3 s1");
});

Deno.test("roundrobin: a full server is skipped and its turns resume afterwards", () => {
  const pool = new FakePool();
  const b = new RoundRobinBalancer(pool);
  b.update(entries([1, 1, 1]));
  assert.equal(picks(b, 3), "s1 s2 s3");
  pool.fulls.add("s2");
  assert.equal(picks(b, 4), "s1 s3 s1 s3");
  pool.fulls.clear();
  const after = picks(b, 6).split(" ");
  assert.equal(after.filter((s) => s === "s2").length, 2);
});

Deno.test("roundrobin: avoid takes the next server without losing the rotation", () => {
  const b = rr([1, 1]);
  assert.equal(b.pick(null, "s1"), "s2");
  assert.equal(b.pick(null), "s1");
  assert.equal(b.pick(null, "s2"), "s1");
});

Deno.test("roundrobin: slowstart weights (fractions of 1/16) stay proportional", () => {
  const b = rr([1, 0.25]);
  const seq = picks(b, 50).split(" ");
  assert.equal(seq.filter((s) => s === "s2").length, 10);
});
