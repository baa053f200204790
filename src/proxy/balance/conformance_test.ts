/**
 * The shared conformance suite: every algorithm (and every hash flavour) must satisfy the
 * Balancer contract on the same cases.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Balance, HashType } from "../../config/types.ts";
import type { Balancer } from "./balancer.ts";
import { createBalancer } from "./create.ts";
import { entries, FakePool } from "./_testing.ts";

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return function next(): number {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Spread = "exact" | "approx" | "load" | "none";

interface Algo {
  readonly name: string;
  readonly balance: Balance;
  readonly hashType: HashType;
  /** Kind of key passed to pick: none, a 4-byte address, or a string. */
  readonly key: "none" | "address" | "string";
  readonly spread: Spread;
  /** Allowed relative error of each server's share for "approx". */
  readonly tolerance?: number;
}

const MAP: HashType = { method: "map-based", fn: "sdbm", avalanche: false };
const CONS: HashType = { method: "consistent", fn: "sdbm", avalanche: true };
const uri: Balance = { algorithm: "uri", whole: false, len: 0, depth: 0, pathOnly: false };

const ALGOS: readonly Algo[] = [
  {
    name: "roundrobin",
    balance: { algorithm: "roundrobin" },
    hashType: MAP,
    key: "none",
    spread: "exact",
  },
  {
    name: "static-rr",
    balance: { algorithm: "static-rr" },
    hashType: MAP,
    key: "none",
    spread: "exact",
  },
  {
    name: "leastconn",
    balance: { algorithm: "leastconn" },
    hashType: MAP,
    key: "none",
    spread: "load",
  },
  { name: "first", balance: { algorithm: "first" }, hashType: MAP, key: "none", spread: "none" },
  {
    name: "random(2)",
    balance: { algorithm: "random", draws: 2 },
    hashType: MAP,
    key: "none",
    spread: "approx",
    tolerance: 0.25,
  },
  {
    name: "source map-based",
    balance: { algorithm: "source" },
    hashType: MAP,
    key: "address",
    spread: "approx",
    tolerance: 0.1,
  },
  {
    name: "source consistent",
    balance: { algorithm: "source" },
    hashType: CONS,
    key: "address",
    spread: "approx",
    tolerance: 0.25,
  },
  {
    name: "uri map-based sdbm",
    balance: uri,
    hashType: MAP,
    key: "string",
    spread: "approx",
    tolerance: 0.1,
  },
  {
    name: "uri map-based djb2 avalanche",
    balance: uri,
    hashType: { ...MAP, fn: "djb2", avalanche: true },
    key: "string",
    spread: "approx",
    tolerance: 0.1,
  },
  {
    name: "uri map-based wt6",
    balance: uri,
    hashType: { ...MAP, fn: "wt6" },
    key: "string",
    spread: "approx",
    tolerance: 0.1,
  },
  {
    name: "uri map-based crc32 avalanche",
    balance: uri,
    hashType: { method: "map-based", fn: "crc32", avalanche: true },
    key: "string",
    spread: "approx",
    tolerance: 0.1,
  },
  {
    name: "uri consistent",
    balance: uri,
    hashType: CONS,
    key: "string",
    spread: "approx",
    tolerance: 0.25,
  },
  {
    name: "hdr consistent crc32",
    balance: { algorithm: "hdr", name: "host", useDomainOnly: false },
    hashType: { method: "consistent", fn: "crc32", avalanche: false },
    key: "string",
    spread: "approx",
    tolerance: 0.3,
  },
];

function setup(
  algo: Algo,
  seed = 1,
): { b: Balancer<string>; pool: FakePool; key: () => Uint8Array | null } {
  const pool = new FakePool();
  const rnd = prng(seed);
  const b = createBalancer<string>(algo.balance, algo.hashType, pool, { random: prng(seed + 99) });
  const enc = new TextEncoder();
  function key(): Uint8Array | null {
    if (algo.key === "address") {
      return new Uint8Array([10, rnd() * 256, rnd() * 256, rnd() * 256]);
    }
    if (algo.key === "string") return enc.encode(`/item/${Math.floor(rnd() * 1e9).toString(36)}`);
    return null;
  }
  return { b, pool, key };
}

for (const algo of ALGOS) {
  Deno.test(`${algo.name}: returns null before any server and with an empty set`, () => {
    const { b, key } = setup(algo);
    assert.equal(b.pick(key()), null);
    b.update(entries([1, 1]));
    assert.notEqual(b.pick(key()), null);
    b.update([]);
    assert.equal(b.pick(key()), null);
    assert.equal(b.pick(null), null);
  });

  Deno.test(`${algo.name}: only returns servers of the last update`, () => {
    const { b, key } = setup(algo);
    const sets = [[3, 1, 2], [3, 0, 2], [1, 1, 2, 4], [0, 0, 0, 5], [2, 2]];
    for (const weights of sets) {
      b.update(entries(weights));
      const allowed = new Set(weights.flatMap((w, i) => (w > 0 ? [`s${i + 1}`] : [])));
      for (let i = 0; i < 200; i++) {
        const k = i % 7 === 0 ? null : key();
        const s = b.pick(k);
        assert.ok(s !== null && allowed.has(s), `weights ${weights}: got ${s}`);
      }
    }
  });

  Deno.test(`${algo.name}: skips full servers and returns null when all are full`, () => {
    const { b, pool, key } = setup(algo);
    b.update(entries([3, 1, 2]));
    pool.fulls.add("s1");
    for (let i = 0; i < 200; i++) {
      const s = b.pick(i % 5 === 0 ? null : key());
      assert.ok(s === "s2" || s === "s3", `got ${s}`);
    }
    pool.fulls.add("s2");
    pool.fulls.add("s3");
    for (let i = 0; i < 20; i++) assert.equal(b.pick(i % 2 ? null : key()), null);
    pool.fulls.clear();
    assert.notEqual(b.pick(key()), null);
  });

  Deno.test(`${algo.name}: honours avoid when another server exists`, () => {
    const { b, key } = setup(algo);
    b.update(entries([1, 1, 1]));
    for (let i = 0; i < 200; i++) {
      const avoid = `s${(i % 3) + 1}`;
      const s = b.pick(i % 4 === 0 ? null : key(), avoid);
      assert.ok(s !== null && s !== avoid, `avoid ${avoid} got ${s}`);
    }
    b.update(entries([1]));
    assert.equal(b.pick(key(), "s1"), "s1");
  });

  Deno.test(`${algo.name}: never picks a weight-0 server`, () => {
    const { b, key } = setup(algo);
    b.update(entries([1, 0, 1]));
    for (let i = 0; i < 300; i++) assert.notEqual(b.pick(i % 3 ? key() : null), "s2");
  });

  if (algo.spread !== "none") {
    Deno.test(`${algo.name}: spreads picks in proportion to weights`, () => {
      const { b, pool, key } = setup(algo, 7);
      const weights = [5, 1, 3, 2];
      b.update(entries(weights));
      const n = algo.spread === "exact" ? 11 * 100 : 22000;
      const counts = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const s = b.pick(key())!;
        counts.set(s, (counts.get(s) ?? 0) + 1);
        if (algo.spread === "load") pool.loads.set(s, pool.load(s) + 1);
      }
      weights.forEach((w, i) => {
        const expected = (n * w) / 11;
        const got = counts.get(`s${i + 1}`) ?? 0;
        const tol = algo.spread === "approx" ? algo.tolerance! : 0.01;
        assert.ok(
          Math.abs(got - expected) <= expected * tol,
          `s${i + 1}: ${got} picks, expected ${expected} ± ${tol * 100}%`,
        );
      });
    });
  }
}
