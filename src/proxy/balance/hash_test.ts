import assert from "node:assert/strict";
import type { HashType } from "../../config/types.ts";
import { HashBalancer } from "./hash.ts";
import { fullHash, hashSdbm } from "./hash_fns.ts";
import { entries, FakePool, picks } from "./_testing.ts";

const MAP: HashType = { method: "map-based", fn: "sdbm", avalanche: false };
const CONS: HashType = { method: "consistent", fn: "sdbm", avalanche: true };
const enc = new TextEncoder();

function make(hashType: HashType, weights: number[], input: "address" | "bytes" = "bytes") {
  const pool = new FakePool();
  const b = new HashBalancer(pool, hashType, { input });
  b.update(entries(weights));
  return { b, pool };
}

Deno.test("map-based: the server is map[hash % total weight]", () => {
  const { b } = make(MAP, [1, 1, 1], "address");
  for (const last of [2, 3, 4, 5, 6, 7]) {
    const addr = new Uint8Array([127, 0, 0, last]);
    const expected = `s${(((0x7f000000 | last) >>> 0) % 3) + 1}`;
    assert.equal(b.pick(addr), expected);
  }
  const u = make(MAP, [2, 1]).b; // map s1 s1 s2
  const key = enc.encode("/some/path");
  assert.equal(u.pick(key), ["s1", "s1", "s2"][hashSdbm(key) % 3]);
});

Deno.test("map-based: the same key always reaches the same server", () => {
  const { b } = make(MAP, [3, 1, 2]);
  for (const path of ["/a", "/b", "/c/d", "/e?x=1"]) {
    const first = b.pick(enc.encode(path));
    for (let i = 0; i < 5; i++) assert.equal(b.pick(enc.encode(path)), first);
  }
});

Deno.test("map-based: a null key falls back to round robin in map order", () => {
  const { b } = make(MAP, [2, 1]);
  assert.equal(picks(b, 6), "s1 s1 s2 s1 s1 s2");
});

Deno.test("map-based: a full hashed server gives way to the next slot", () => {
  const { b, pool } = make(MAP, [1, 1, 1], "address");
  const addr = new Uint8Array([127, 0, 0, 3]); // 0x7f000003 % 3 = 1 -> s2
  assert.equal(b.pick(addr), "s2");
  pool.fulls.add("s2");
  assert.equal(b.pick(addr), "s3");
  assert.equal(b.pick(addr, "s3"), "s1");
});

Deno.test("consistent: removing a server only moves that server's keys", () => {
  const { b } = make(CONS, [1, 2, 1, 1]);
  const keys = Array.from({ length: 2000 }, (_, i) => enc.encode(`/obj/${i}`));
  const before = keys.map((k) => b.pick(k));
  b.update(entries([1, 2, 1, 1]).filter((e) => e.server !== "s3"));
  const during = keys.map((k) => b.pick(k));
  let moved = 0;
  keys.forEach((_, i) => {
    if (before[i] === "s3") {
      assert.notEqual(during[i], "s3");
      moved++;
    } else {
      assert.equal(during[i], before[i]);
    }
  });
  assert.ok(moved > 200 && moved < 700, `moved ${moved}`);
  b.update(entries([1, 2, 1, 1]));
  assert.deepEqual(keys.map((k) => b.pick(k)), before);
});

Deno.test("consistent: points come from the server id, so equal ids give equal rings", () => {
  const a = new HashBalancer(new FakePool(), CONS, { input: "bytes" });
  const c = new HashBalancer(new FakePool(), CONS, { input: "bytes" });
  a.update([{ server: "x", id: 7, weight: 1 }, { server: "y", id: 9, weight: 1 }]);
  c.update([{ server: "y", id: 9, weight: 1 }, { server: "x", id: 7, weight: 1 }]);
  for (let i = 0; i < 300; i++) {
    const k = enc.encode(`k${i}`);
    assert.equal(a.pick(k), c.pick(k));
  }
});

Deno.test("consistent: the closest point wins (checked on the raw ring keys)", () => {
  const { b } = make({ method: "consistent", fn: "sdbm", avalanche: false }, [1, 1]);
  // s1 owns full_hash(1*4096+n), s2 owns full_hash(2*4096+n), n < 16.
  const points: [number, string][] = [];
  for (let n = 0; n < 16; n++) {
    points.push([fullHash(4096 + n), "s1"], [fullHash(8192 + n), "s2"]);
  }
  points.sort((x, y) => x[0] - y[0]);
  // A one-byte sdbm key hashes to the byte itself: every such key sits before the first point
  // or between the last point and the wrap-around.
  const first = points[0];
  const last = points[points.length - 1];
  for (const byte of [1, 50, 200]) {
    const dp = (byte - last[0]) >>> 0;
    const dn = first[0] - byte;
    assert.equal(b.pick(new Uint8Array([byte])), dp <= dn ? last[1] : first[1]);
  }
});

Deno.test("consistent: a null key walks the ring (every server gets turns)", () => {
  const { b } = make(CONS, [1, 1, 1]);
  const seen = new Set(picks(b, 200).split(" "));
  assert.deepEqual([...seen].sort(), ["s1", "s2", "s3"]);
});

Deno.test("hash: a single server is always chosen without hashing", () => {
  for (const t of [MAP, CONS]) {
    const { b } = make(t, [5]);
    assert.equal(b.pick(enc.encode("/x")), "s1");
    assert.equal(b.pick(null), "s1");
  }
});
