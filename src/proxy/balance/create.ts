/**
 * Maps a backend's `balance` and `hash_type` settings to a {@linkcode Balancer}.
 *
 * @module
 */
import type { Balance, HashType } from "../../config/types.ts";
import type { Balancer, BalancerHooks } from "./balancer.ts";
import { FirstBalancer } from "./first.ts";
import { HashBalancer } from "./hash.ts";
import { LeastConnBalancer } from "./leastconn.ts";
import { RandomBalancer } from "./random.ts";
import { RoundRobinBalancer } from "./roundrobin.ts";
import { StaticRoundRobinBalancer } from "./static_rr.ts";

/** Options of {@linkcode createBalancer}. */
export interface CreateBalancerOptions {
  /** Random source for `balance random` (uniform in [0, 1)); defaults to `Math.random`. */
  readonly random?: () => number;
}

/**
 * Creates the balancer for one backend. `source`, `uri`, `url_param` and `hdr` hash their key
 * with `hashType` (map-based or consistent); the others ignore it. The HTTP layer extracts the
 * key (see keys.ts) and passes null when it is missing, which selects round robin.
 *
 * @example
 * ```ts
 * const b = createBalancer({ algorithm: "roundrobin" }, {
 *   method: "map-based", fn: "sdbm", avalanche: false,
 * }, { load: () => 0, full: () => false });
 * b.update([{ server: "s1", id: 1, weight: 1 }]);
 * b.pick(null); // "s1"
 * ```
 */
export function createBalancer<S>(
  balance: Balance,
  hashType: HashType,
  hooks: BalancerHooks<S>,
  options: CreateBalancerOptions = {},
): Balancer<S> {
  switch (balance.algorithm) {
    case "roundrobin":
      return new RoundRobinBalancer(hooks);
    case "static-rr":
      return new StaticRoundRobinBalancer(hooks);
    case "leastconn":
      return new LeastConnBalancer(hooks);
    case "first":
      return new FirstBalancer(hooks);
    case "random":
      return new RandomBalancer(hooks, { draws: balance.draws, random: options.random });
    case "source":
      return new HashBalancer(hooks, hashType, { input: "address" });
    case "uri":
    case "url_param":
    case "hdr":
      return new HashBalancer(hooks, hashType, { input: "bytes" });
  }
}
