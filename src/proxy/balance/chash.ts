/**
 * HAProxy's consistent-hash ring (lb_chash.c): each server owns `weight × 16` points whose
 * positions are `full_hash(id × 4096 + n)`, so identical server ids give identical rings on
 * every load balancer, and removing a server only moves the keys that landed on its points.
 * A lookup takes the closest point on either side; the round-robin fallback walks the ring.
 *
 * The ring is a sorted `Uint32Array` rebuilt on update; lookups are a binary search.
 *
 * @module
 */
import type { BalancerHooks, LbEntry } from "./balancer.ts";
import { EWEIGHT_MAX, scaledWeight } from "./_common.ts";
import { fullHash } from "./hash_fns.ts";

/** A server on the ring with its cached point keys. */
interface RingServer<S> {
  readonly server: S;
  readonly id: number;
  /** Effective weight (number of points currently on the ring). */
  eweight: number;
  /** Point keys computed so far (index n holds full_hash(id × 4096 + n)). */
  points: Uint32Array;
  /** Visit stamp of the last lookup that examined this server. */
  stamp: number;
}

/** The ring plus the round-robin cursor (`chash.last`). */
export class ChashRing<S> {
  readonly #hooks: BalancerHooks<S>;
  readonly #known = new Map<S, RingServer<S>>();
  #servers: RingServer<S>[] = [];
  #keys = new Uint32Array(0);
  #owners = new Uint16Array(0);
  /** Ring index of the last round-robin pick, or -1. */
  #last = -1;
  #stamp = 0;

  /** Creates an empty ring. */
  constructor(hooks: BalancerHooks<S>) {
    this.#hooks = hooks;
  }

  /** Number of distinct usable servers. */
  get used(): number {
    return this.#servers.length;
  }

  /** Effective weight of a usable server (0 when absent). */
  weightOf(server: S): number {
    return this.#known.get(server)?.eweight ?? 0;
  }

  /** Re-places the points of every usable server; keeps the round-robin cursor's place. */
  update(entries: readonly LbEntry<S>[]): void {
    const lastKey = this.#last >= 0 ? this.#keys[this.#last] : -1;
    const servers: RingServer<S>[] = [];
    const kept = new Set<S>();
    let count = 0;
    for (const e of entries) {
      const w = scaledWeight(e.weight);
      if (w === 0) continue;
      let rs = this.#known.get(e.server);
      if (!rs || rs.id !== e.id) {
        rs = { server: e.server, id: e.id, eweight: 0, points: new Uint32Array(0), stamp: 0 };
        this.#known.set(e.server, rs);
      }
      if (rs.points.length < w) rs.points = ringPoints(e.id, w);
      rs.eweight = w;
      servers.push(rs);
      kept.add(e.server);
      count += w;
    }
    for (const server of this.#known.keys()) {
      if (!kept.has(server)) this.#known.delete(server);
    }
    // Sort (key, owner) pairs packed in one float: key × 2^16 + owner stays below 2^48.
    const packed = new Float64Array(count);
    let k = 0;
    for (let o = 0; o < servers.length; o++) {
      const rs = servers[o];
      for (let n = 0; n < rs.eweight; n++) packed[k++] = rs.points[n] * 65536 + o;
    }
    packed.sort();
    const keys = new Uint32Array(count);
    const owners = new Uint16Array(count);
    for (let i = 0; i < count; i++) {
      const v = packed[i];
      owners[i] = v % 65536;
      keys[i] = (v - owners[i]) / 65536;
    }
    this.#servers = servers;
    this.#keys = keys;
    this.#owners = owners;
    // A removed cursor point moves to its successor, as chash_skip_node does.
    if (lastKey < 0 || count === 0) this.#last = -1;
    else {
      const i = lowerBound(keys, lastKey);
      if (i < count && keys[i] === lastKey) this.#last = i;
      else this.#last = i < count ? i : 0;
    }
  }

  /**
   * chash_get_server_hash: the server owning the point closest to `hash` (ties go to the
   * point before). HAProxy then steps forward past `avoid`; here full servers are stepped over
   * too (the Balancer contract), and `avoid` is returned only when nothing else can take it.
   */
  pickHash(hash: number, avoid: S | undefined): S | null {
    const keys = this.#keys;
    const n = keys.length;
    if (n === 0) return null;
    hash >>>= 0;
    let next = lowerBound(keys, hash);
    if (next === n) next = 0;
    const prev = next === 0 ? n - 1 : next - 1;
    const dp = (hash - keys[prev]) >>> 0;
    const dn = (keys[next] - hash) >>> 0;
    let pos = dp <= dn ? prev : next;
    const servers = this.#servers;
    const stamp = ++this.#stamp;
    let seen = 0;
    let avoided: S | null = null;
    for (;;) {
      const rs = servers[this.#owners[pos]];
      if (rs.stamp !== stamp) {
        rs.stamp = stamp;
        if (!this.#hooks.full(rs.server)) {
          if (rs.server !== avoid) return rs.server;
          avoided = rs.server;
        }
        if (++seen === servers.length) return avoided;
      }
      if (++pos === n) pos = 0;
    }
  }

  /** chash_get_next_server: walk the ring from the last pick, skipping full servers. */
  pickRoundRobin(avoid: S | undefined): S | null {
    const n = this.#keys.length;
    if (n === 0) return null;
    const servers = this.#servers;
    const stamp = ++this.#stamp;
    let seen = 0;
    let node = this.#last;
    let avoidedNode = -1;
    for (;;) {
      node = node < 0 || node + 1 === n ? 0 : node + 1;
      const rs = servers[this.#owners[node]];
      if (!this.#hooks.full(rs.server)) {
        if (rs.server !== avoid) {
          this.#last = node;
          return rs.server;
        }
        avoidedNode = node;
      }
      if (rs.stamp !== stamp) {
        rs.stamp = stamp;
        if (++seen === servers.length) break;
      }
    }
    this.#last = avoidedNode;
    return avoidedNode < 0 ? null : servers[this.#owners[avoidedNode]].server;
  }
}

/** Point keys of a server: full_hash(id × SRV_EWGHT_RANGE + n) on 32 bits, n < count. */
function ringPoints(id: number, count: number): Uint32Array {
  const out = new Uint32Array(count);
  const base = (id * EWEIGHT_MAX) >>> 0;
  for (let n = 0; n < count; n++) out[n] = fullHash((base + n) >>> 0);
  return out;
}

/** First index whose key is >= `value` (keys.length when none). */
function lowerBound(keys: Uint32Array, value: number): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
