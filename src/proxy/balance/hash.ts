/**
 * Hash-based selection for `balance source`, `uri`, `url_param` and `hdr`: the key is hashed
 * as HAProxy's backend.c does (`get_server_sh` for addresses, `gen_hash` for strings, then
 * `full_hash` when `avalanche` is set) and looked up either in the weighted map
 * (`map-based`, `hash % total weight`) or on the consistent-hash ring (`consistent`).
 * A null key falls back to the lookup structure's own round robin, as HAProxy does.
 *
 * @module
 */
import type { HashType } from "../../config/types.ts";
import type { Balancer, BalancerHooks, LbEntry } from "./balancer.ts";
import { ChashRing } from "./chash.ts";
import { addressHash, fullHash, type HashFn, hashFunction } from "./hash_fns.ts";
import { ServerMap } from "./server_map.ts";

/** Options of {@linkcode HashBalancer}. */
export interface HashBalancerOptions {
  /**
   * `"address"` for `balance source` (the key is 4 or 16 address bytes, XORed as big-endian
   * words; the hash function is not applied), `"bytes"` for the HTTP keys.
   */
  readonly input: "address" | "bytes";
}

/** Map-based or consistent hashing with HAProxy's round-robin fallback for a null key. */
export class HashBalancer<S> implements Balancer<S> {
  readonly #map: ServerMap<S> | null;
  readonly #ring: ChashRing<S> | null;
  readonly #fn: HashFn;
  readonly #address: boolean;
  readonly #avalanche: boolean;

  /** Creates an empty balancer for `hashType`; call {@linkcode HashBalancer.update} first. */
  constructor(hooks: BalancerHooks<S>, hashType: HashType, options: HashBalancerOptions) {
    const consistent = hashType.method === "consistent";
    this.#map = consistent ? null : new ServerMap(hooks);
    this.#ring = consistent ? new ChashRing(hooks) : null;
    this.#fn = hashFunction(hashType.fn);
    this.#address = options.input === "address";
    this.#avalanche = hashType.avalanche;
  }

  /** Rebuilds the map or re-places the ring points. */
  update(entries: readonly LbEntry<S>[]): void {
    if (this.#map) this.#map.update(entries);
    else this.#ring!.update(entries);
  }

  /** The server for `key`, or the round-robin fallback when `key` is null. */
  pick(key: Uint8Array | null, avoid?: S): S | null {
    const map = this.#map;
    const ring = this.#ring;
    if (key === null) return map ? map.pickRoundRobin(avoid) : ring!.pickRoundRobin(avoid);
    const used = map ? map.used : ring!.used;
    if (used === 0) return null;
    // HAProxy does not hash when a single server is left: the hash stays 0.
    let h = 0;
    if (used > 1) {
      h = this.#address ? addressHash(key) : this.#fn(key);
      if (this.#avalanche) h = fullHash(h);
    }
    return map ? map.pickHash(h, avoid) : ring!.pickHash(h, avoid);
  }
}
