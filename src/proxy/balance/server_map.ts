/**
 * HAProxy's weighted server map (lb_map.c), shared by `static-rr` and map-based hashing: an
 * array of `total weight` slots where each server appears as often as its weight, spread in
 * the order `recalc_server_map` produces. Round robin walks the map; hashing indexes it with
 * `hash % total`.
 *
 * @module
 */
import type { BalancerHooks, LbEntry } from "./balancer.ts";
import { gcd, mapWeight } from "./_common.ts";

/** One usable server in the map with its reduced weight and its recalc score. */
interface MapServer<S> {
  readonly server: S;
  readonly eweight: number;
  wscore: number;
}

/** The map and its round-robin cursor. */
export class ServerMap<S> {
  readonly #hooks: BalancerHooks<S>;
  #slots: S[] = [];
  #rrIdx = 0;
  #gcd = 0;
  #distinct = 0;

  /** Creates an empty map. */
  constructor(hooks: BalancerHooks<S>) {
    this.#hooks = hooks;
  }

  /** Total weight (map length); 0 when no server is usable. */
  get total(): number {
    return this.#slots.length;
  }

  /** Number of distinct usable servers. */
  get used(): number {
    return this.#distinct;
  }

  /**
   * Rebuilds the map (HAProxy recomputes it after any state change). Weights are divided by
   * their greatest common divisor like `init_server_map` does; the divisor accumulates over
   * every weight seen, so a first update listing all servers gives HAProxy's exact map.
   */
  update(entries: readonly LbEntry<S>[]): void {
    const servers: MapServer<S>[] = [];
    for (const e of entries) {
      const w = mapWeight(e.weight);
      if (w > 0) this.#gcd = gcd(w, this.#gcd);
    }
    let tot = 0;
    for (const e of entries) {
      const w = mapWeight(e.weight);
      if (w === 0) continue;
      const eweight = Math.ceil(w / this.#gcd);
      servers.push({ server: e.server, eweight, wscore: 0 });
      tot += eweight;
    }
    this.#distinct = servers.length;
    this.#slots = recalc(servers, tot);
  }

  /** map_get_server_rr: next slot whose server is not full, preferring one that is not `avoid`. */
  pickRoundRobin(avoid: S | undefined): S | null {
    const slots = this.#slots;
    const tot = slots.length;
    if (tot === 0) return null;
    if (this.#rrIdx < 0 || this.#rrIdx >= tot) this.#rrIdx = 0;
    let idx = this.#rrIdx;
    let avoided: S | null = null;
    let avoidedIdx = 0;
    do {
      const srv = slots[idx++];
      if (!this.#hooks.full(srv)) {
        if (srv !== avoid) {
          this.#rrIdx = idx;
          return srv;
        }
        avoided = srv;
        avoidedIdx = idx;
      }
      if (idx === tot) idx = 0;
    } while (idx !== this.#rrIdx);
    if (avoided !== null) this.#rrIdx = avoidedIdx;
    return avoided;
  }

  /**
   * map_get_server_hash: the server at `hash % total`. HAProxy returns it even when it is full
   * (the request then waits in that server's queue) and ignores `avoid`; the Balancer contract
   * asks for a server that can take the request now, so a full or avoided server is replaced by
   * the next suitable slot, and `avoid` is the last resort.
   */
  pickHash(hash: number, avoid: S | undefined): S | null {
    const slots = this.#slots;
    const tot = slots.length;
    if (tot === 0) return null;
    const start = (hash >>> 0) % tot;
    let avoided: S | null = null;
    let idx = start;
    do {
      const srv = slots[idx];
      if (!this.#hooks.full(srv)) {
        if (srv !== avoid) return srv;
        avoided = srv;
      }
      if (++idx === tot) idx = 0;
    } while (idx !== start);
    return avoided;
  }
}

/** recalc_server_map: the first declared server wins ties, so order follows declaration. */
function recalc<S>(servers: MapServer<S>[], tot: number): S[] {
  const slots: S[] = new Array(tot);
  for (let o = 0; o < tot; o++) {
    let best: MapServer<S> | null = null;
    let max = 0;
    for (const cur of servers) {
      if (tot === 1) {
        best = cur;
        break;
      }
      cur.wscore += cur.eweight;
      const v = Math.trunc((cur.wscore + tot) / tot);
      if (best === null || v > max) {
        max = v;
        best = cur;
      }
    }
    slots[o] = best!.server;
    best!.wscore -= tot;
  }
  return slots;
}
