import assert from "node:assert/strict";
import { LeastConnBalancer } from "./leastconn.ts";
import { entries, FakePool, picks } from "./_testing.ts";

Deno.test("leastconn: idle servers take turns (sequential requests alternate)", () => {
  const b = new LeastConnBalancer(new FakePool());
  b.update(entries([1, 1, 1]));
  assert.equal(picks(b, 6), "s1 s2 s3 s1 s2 s3");
});

Deno.test("leastconn: the least loaded server wins, relative to its weight", () => {
  const pool = new FakePool();
  const b = new LeastConnBalancer(pool);
  b.update(entries([1, 1]));
  pool.loads.set("s1", 3).set("s2", 1);
  assert.equal(b.pick(null), "s2");
  b.update(entries([4, 1]));
  // keys: s1 (3+1)*4096/64 = 256, s2 (1+1)*4096/16 = 512
  assert.equal(b.pick(null), "s1");
});

Deno.test("leastconn: ties under load rotate in pick order", () => {
  const pool = new FakePool();
  const b = new LeastConnBalancer(pool);
  b.update(entries([1, 1, 1]));
  const seen: string[] = [];
  for (let i = 0; i < 6; i++) {
    const s = b.pick(null)!;
    seen.push(s);
    pool.loads.set(s, pool.load(s) + 1); // connections stay open
  }
  assert.equal(seen.join(" "), "s1 s2 s3 s1 s2 s3");
});

Deno.test("leastconn: a server that just finished goes behind idle equals", () => {
  const pool = new FakePool();
  const b = new LeastConnBalancer(pool);
  b.update(entries([1, 1, 1]));
  assert.equal(b.pick(null), "s1"); // s1 served one request and is idle again
  assert.equal(b.pick(null), "s2");
  pool.loads.set("s2", 1); // s2 still busy
  assert.equal(b.pick(null), "s3");
  assert.equal(b.pick(null), "s1");
  assert.equal(b.pick(null), "s3");
});
