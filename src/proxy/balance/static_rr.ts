/**
 * `balance static-rr`: round robin over HAProxy's static weighted map (lb_map.c). A weight
 * change rebuilds the map (HAProxy itself only accepts 0% and 100% at runtime for static
 * algorithms; the pool enforces that).
 *
 * @module
 */
import type { Balancer, BalancerHooks, LbEntry } from "./balancer.ts";
import { ServerMap } from "./server_map.ts";

/** Static weighted round robin in HAProxy's map order (weights 2:1 give s1 s1 s2). */
export class StaticRoundRobinBalancer<S> implements Balancer<S> {
  readonly #map: ServerMap<S>;

  /** Creates an empty balancer; call {@linkcode StaticRoundRobinBalancer.update} first. */
  constructor(hooks: BalancerHooks<S>) {
    this.#map = new ServerMap(hooks);
  }

  /** Rebuilds the map from the usable servers. */
  update(entries: readonly LbEntry<S>[]): void {
    this.#map.update(entries);
  }

  /** Next map slot that is not full, avoiding `avoid` when another server can take it. */
  pick(_key: Uint8Array | null, avoid?: S): S | null {
    return this.#map.pickRoundRobin(avoid);
  }
}
