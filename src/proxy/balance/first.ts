/**
 * `balance first`: the usable server with the lowest id that still has a free connection slot
 * (HAProxy's lb_fas.c). Weights only decide usability (0 excludes a server).
 *
 * @module
 */
import type { Balancer, BalancerHooks, LbEntry } from "./balancer.ts";

/** Lowest id first; the next id takes over once that server is full. */
export class FirstBalancer<S> implements Balancer<S> {
  readonly #hooks: BalancerHooks<S>;
  #servers: S[] = [];

  /** Creates an empty balancer; call {@linkcode FirstBalancer.update} first. */
  constructor(hooks: BalancerHooks<S>) {
    this.#hooks = hooks;
  }

  /** Keeps the usable servers sorted by id (equal ids keep their given order). */
  update(entries: readonly LbEntry<S>[]): void {
    this.#servers = entries
      .filter((e) => e.weight > 0)
      .sort((a, b) => a.id - b.id)
      .map((e) => e.server);
  }

  /** The first server by id that is not full, skipping `avoid` when another one is free. */
  pick(_key: Uint8Array | null, avoid?: S): S | null {
    let avoided: S | null = null;
    for (const s of this.#servers) {
      if (this.#hooks.full(s)) continue;
      if (s !== avoid) return s;
      avoided = s;
    }
    return avoided;
  }
}
