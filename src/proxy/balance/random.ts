/**
 * `balance random(draws)`: HAProxy's power of N choices (backend.c get_server_rnd). Each draw
 * looks up a random 32-bit key on the consistent-hash ring (so weights count); the candidate
 * with the smaller load/weight ratio wins. The random source is injectable for tests.
 *
 * @module
 */
import type { Balancer, BalancerHooks, LbEntry } from "./balancer.ts";
import { ChashRing } from "./chash.ts";

/** Options of {@linkcode RandomBalancer}. */
export interface RandomBalancerOptions {
  /** Number of draws (HAProxy's default is 2). */
  readonly draws: number;
  /** Uniform random number in [0, 1); defaults to `Math.random`. */
  readonly random?: () => number;
}

/** Random with N draws, keeping the least loaded candidate. */
export class RandomBalancer<S> implements Balancer<S> {
  readonly #hooks: BalancerHooks<S>;
  readonly #ring: ChashRing<S>;
  readonly #draws: number;
  readonly #random: () => number;

  /** Creates an empty balancer; call {@linkcode RandomBalancer.update} first. */
  constructor(hooks: BalancerHooks<S>, options: RandomBalancerOptions) {
    this.#hooks = hooks;
    this.#ring = new ChashRing(hooks);
    this.#draws = Math.max(1, Math.trunc(options.draws) || 1);
    this.#random = options.random ?? Math.random;
  }

  /** Re-places the ring points of the usable servers. */
  update(entries: readonly LbEntry<S>[]): void {
    this.#ring.update(entries);
  }

  /**
   * Draws `draws` candidates and keeps the one with the lower load/weight (the earlier one on
   * a tie). HAProxy sends the request to the backend queue when the winner is full; here the
   * ring lookup steps over full servers instead, so null means every server is full.
   */
  pick(_key: Uint8Array | null, avoid?: S): S | null {
    const ring = this.#ring;
    const hooks = this.#hooks;
    let curr: S | null = null;
    for (let d = this.#draws; d > 0; d--) {
      const prev: S | null = curr;
      curr = ring.pickHash(Math.floor(this.#random() * 0x100000000) >>> 0, avoid);
      if (curr === null) break;
      if (
        prev !== null && prev !== curr &&
        hooks.load(curr) * ring.weightOf(prev) > hooks.load(prev) * ring.weightOf(curr)
      ) {
        curr = prev;
      }
    }
    return curr;
  }
}
