/**
 * `balance leastconn`: HAProxy's weighted least connections (lb_fwlc.c). A server's key is
 * `inflight ? (inflight + 1) × 4096 / eweight : 0` where inflight counts served plus queued
 * requests (`hooks.load`), so an idle server always comes first and loads compare relative to
 * weights. Among equal keys HAProxy's tree keeps insertion order, and a server is re-inserted
 * whenever its load changes; here each server carries that insertion sequence, bumped when it
 * is picked and when its load is seen to have changed, so ties take turns the same way.
 *
 * The Balancer interface reports no connection start or end, so the key is computed from
 * `hooks.load` at pick time: a pick is one O(n) pass over the usable servers, without
 * allocation.
 *
 * @module
 */
import type { Balancer, BalancerHooks, LbEntry } from "./balancer.ts";
import { EWEIGHT_MAX, scaledWeight } from "./_common.ts";

/** A usable server with its ordering sequence and last observed load. */
interface LcServer<S> {
  readonly server: S;
  eweight: number;
  seq: number;
  lastLoad: number;
}

/** Weighted least connections where ties rotate in HAProxy's order. */
export class LeastConnBalancer<S> implements Balancer<S> {
  readonly #hooks: BalancerHooks<S>;
  #servers: LcServer<S>[] = [];
  #seq = 0;

  /** Creates an empty balancer; call {@linkcode LeastConnBalancer.update} first. */
  constructor(hooks: BalancerHooks<S>) {
    this.#hooks = hooks;
  }

  /** New or re-weighted servers go behind their equals, as a tree re-insertion does. */
  update(entries: readonly LbEntry<S>[]): void {
    const previous = new Map<S, LcServer<S>>();
    for (const s of this.#servers) previous.set(s.server, s);
    const servers: LcServer<S>[] = [];
    for (const e of entries) {
      const w = scaledWeight(e.weight);
      if (w === 0) continue;
      let s = previous.get(e.server);
      if (!s) {
        s = {
          server: e.server,
          eweight: w,
          seq: ++this.#seq,
          lastLoad: this.#hooks.load(e.server),
        };
      } else if (s.eweight !== w) {
        s.eweight = w;
        s.seq = ++this.#seq;
      }
      servers.push(s);
    }
    this.#servers = servers;
  }

  /** The least loaded server relative to its weight that is not full. */
  pick(_key: Uint8Array | null, avoid?: S): S | null {
    const hooks = this.#hooks;
    let best: LcServer<S> | null = null;
    let bestKey = 0;
    let avoided: LcServer<S> | null = null;
    for (const s of this.#servers) {
      const load = hooks.load(s.server);
      if (load !== s.lastLoad) {
        s.lastLoad = load;
        s.seq = ++this.#seq;
      }
      if (hooks.full(s.server)) continue;
      if (s.server === avoid) {
        avoided = s;
        continue;
      }
      const key = load > 0 ? Math.trunc((load + 1) * EWEIGHT_MAX / s.eweight) : 0;
      if (best === null || key < bestKey || (key === bestKey && s.seq < best.seq)) {
        best = s;
        bestKey = key;
      }
    }
    const chosen = best ?? avoided;
    if (chosen === null) return null;
    // The pool is about to count one more connection on it: HAProxy re-queues it now.
    chosen.lastLoad++;
    chosen.seq = ++this.#seq;
    return chosen.server;
  }
}
